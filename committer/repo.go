package committer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/emergent-learning/elfsync/layout"
)

// repo is where elfsync commits: a work tree, its git directory, and where
// memory/ sits inside it.
type repo struct {
	top    string // the work tree's top level (absolute, native separators)
	gitDir string // the git directory (absolute, native separators)
	// commonDir holds refs and objects; it differs from gitDir in a linked
	// worktree.
	commonDir string
	// prefix is memory/'s path relative to top with a trailing "/", or ""
	// when memory/ is the top level (a repository of its own).
	prefix string
}

// spec is the pathspec, relative to top, that covers memory/ and nothing else.
func (r repo) spec() string {
	if r.prefix == "" {
		return "."
	}
	return strings.TrimSuffix(r.prefix, "/")
}

// shared reports whether memory/ lives in a larger work tree that a person
// may be using for other things.
func (r repo) shared() bool { return r.prefix != "" }

// rootRel turns a path relative to top (as git prints it) into a path
// relative to ROOT ("memory/failures/x.md").
func (r repo) rootRel(p string) string {
	return layout.RootRel(strings.TrimPrefix(p, r.prefix))
}

// errNotRepo means memory/ is in no work tree that elfsync may use.
var errNotRepo = errors.New("memory folder is not in a git work tree that tracks it")

// discover finds the work tree that should hold memory/'s history: the one
// that contains memDir, unless that tree ignores memDir (and does not track
// it anyway). It returns errNotRepo when there is none.
func discover(ctx context.Context, g *Git, memDir string) (repo, error) {
	g = g.At(memDir)
	out, err := g.Run(ctx, RunOpts{}, "rev-parse", "--show-toplevel", "--absolute-git-dir", "--git-common-dir", "--show-prefix")
	if err != nil {
		var ge *GitError
		if errors.As(err, &ge) && (strings.Contains(ge.Stderr, "not a git repository") ||
			strings.Contains(ge.Stderr, "must be run in a work tree")) {
			return repo{}, errNotRepo
		}
		// "detected dubious ownership" and the like: do not paper over it
		// with a repository of our own inside someone else's.
		return repo{}, fmt.Errorf("find git work tree of %s: %w", memDir, err)
	}
	// --show-prefix prints an empty line at the top level; keep it.
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) < 3 || lines[0] == "" {
		// No top level: memDir is inside a git directory or a bare
		// repository.
		return repo{}, errNotRepo
	}
	r := repo{
		top:       filepath.FromSlash(lines[0]),
		gitDir:    filepath.FromSlash(lines[1]),
		commonDir: filepath.FromSlash(lines[2]),
	}
	if len(lines) > 3 {
		r.prefix = filepath.ToSlash(lines[3])
	}
	// Refs live in the common directory, which differs from the git
	// directory in a linked worktree. Git prints it relative to memDir.
	if !filepath.IsAbs(r.commonDir) {
		r.commonDir = filepath.Join(memDir, r.commonDir)
	}
	// A core.worktree elsewhere makes rev-parse print that tree, and an
	// empty prefix, for a memDir outside it. That repository is not
	// memory/'s, and not one to init over either (git init would
	// reinitialise it): an error.
	if !sameDir(filepath.Join(r.top, filepath.FromSlash(r.prefix)), memDir) {
		return repo{}, fmt.Errorf("%s has a git repository whose work tree is %s, which does not hold it", memDir, r.top)
	}
	g = g.At(r.top)
	if r.shared() {
		ignored, err := isIgnored(ctx, g, r.spec())
		if err != nil {
			return repo{}, err
		}
		if ignored {
			// A tree that ignores memory/ but tracks it (force-added) still
			// holds its history.
			if _, err := g.Out(ctx, "rev-parse", "-q", "--verify", "HEAD:"+r.spec()); err != nil {
				return repo{}, errNotRepo
			}
		}
	}
	return r, nil
}

// sameDir reports whether a and b are the same directory.
func sameDir(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

// discoverLocal finds memDir's repository without running git, in the
// cases where that is exactly what discover (rev-parse) finds, with memDir
// the top level, a repository of its own:
//
//   - memDir/.git is a directory, owned like memDir by this user (git's
//     safe.directory check), whose config sets no work tree;
//   - memDir/.git is a regular file of this user's, "gitdir: PATH" (what
//     `git clone --separate-git-dir`, submodules and the benchmark make),
//     PATH naming a directory of this user's whose config sets no work
//     tree or names memDir itself.
//
// Either git directory must be one git would take for a repository (HEAD,
// objects/, refs/), not a linked worktree's (no commondir) and its config
// plain: no bare repository, no format beyond 0, no includes. ok is false
// for everything else, which discover settles.
func discoverLocal(memDir string) (r repo, ok bool) {
	// git refuses every repository as not owned when this is set.
	if os.Getenv("GIT_TEST_ASSUME_DIFFERENT_OWNER") != "" {
		return repo{}, false
	}
	fi, err := os.Lstat(memDir)
	if err != nil || !fi.IsDir() || !ownedByMe(fi) {
		return repo{}, false
	}
	dotGit := filepath.Join(memDir, ".git")
	fi, err = os.Lstat(dotGit)
	if err != nil || !ownedByMe(fi) || !(fi.IsDir() || fi.Mode().IsRegular()) {
		return repo{}, false
	}
	// git runs in the physical directory: its top level has no symlinks.
	top, err := filepath.EvalSymlinks(memDir)
	if err != nil {
		return repo{}, false
	}
	if fi.IsDir() {
		if worktree, ok := gitDirConfig(dotGit); !ok || worktree != "" {
			return repo{}, false
		}
		return repo{
			top:    top,
			gitDir: filepath.Join(top, ".git"),
			// rev-parse prints the common directory as ".git", which
			// discover joins to memDir.
			commonDir: dotGit,
		}, true
	}
	gitDir, ok := readGitFile(dotGit, fi.Size(), top)
	if !ok {
		return repo{}, false
	}
	// rev-parse prints the git directory, and the common directory which
	// is the same, as git reads them from the file: physical paths.
	gitDir, err = filepath.EvalSymlinks(gitDir)
	if err != nil {
		return repo{}, false
	}
	if fi, err := os.Lstat(gitDir); err != nil || !fi.IsDir() || !ownedByMe(fi) {
		return repo{}, false
	}
	worktree, ok := gitDirConfig(gitDir)
	if !ok {
		return repo{}, false
	}
	if worktree != "" {
		// git resolves a relative core.worktree from the git directory,
		// by chdir: ".." after a link leaves the link's target. The
		// path is not cleaned before EvalSymlinks, which walks it the
		// same way.
		if !filepath.IsAbs(worktree) {
			worktree = gitDir + string(filepath.Separator) + worktree
		}
		if wt, err := filepath.EvalSymlinks(worktree); err != nil || wt != top {
			return repo{}, false
		}
	}
	return repo{top: top, gitDir: gitDir, commonDir: gitDir}, true
}

// readGitFile reads a .git file of size bytes in the directory top (a
// physical path) and returns the git directory it names, absolute, or ok
// false if the file is not plainly one git reads: "gitdir: PATH" and an
// optional newline, PATH absolute or relative to top.
func readGitFile(p string, size int64, top string) (gitDir string, ok bool) {
	if size > 4096 {
		return "", false
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", false
	}
	s, ok := strings.CutPrefix(string(b), "gitdir: ")
	if !ok {
		return "", false
	}
	s = strings.TrimSuffix(s, "\n")
	if s == "" || strings.ContainsAny(s, "\x00\n\r") {
		return "", false
	}
	if !filepath.IsAbs(s) {
		// git joins it to the directory it found .git in, as getcwd
		// printed it, without cleaning.
		s = top + string(filepath.Separator) + s
	}
	return s, true
}

// gitDirConfig checks that dir is a git directory git would take for a
// repository (HEAD, objects/, refs/), not a linked worktree's (no
// commondir) nor one with a config per worktree, and that its config is
// plain. It returns the config's core.worktree ("" if unset).
func gitDirConfig(dir string) (worktree string, ok bool) {
	for _, p := range []string{"commondir", "config.worktree"} {
		if _, err := os.Lstat(filepath.Join(dir, p)); !errors.Is(err, os.ErrNotExist) {
			return "", false
		}
	}
	for _, d := range []string{"objects", "refs"} {
		if fi, err := os.Stat(filepath.Join(dir, d)); err != nil || !fi.IsDir() {
			return "", false
		}
	}
	head, err := os.ReadFile(filepath.Join(dir, "HEAD"))
	if err != nil || !validHead(string(head)) {
		return "", false
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "config"))
	if err != nil {
		return "", false
	}
	return plainConfig(string(cfg))
}

// validHead reports whether a HEAD file's content is what git accepts: a
// symbolic ref into refs/ or an object name.
func validHead(s string) bool {
	s = strings.TrimRight(s, "\n")
	if ref, ok := strings.CutPrefix(s, "ref: "); ok {
		return strings.HasPrefix(ref, "refs/") && !strings.ContainsAny(ref, " \t\n\r")
	}
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// plainConfig reports whether a repository's config is one elfsync reads
// the same as git: core.bare false if set, repositoryformatversion 0 if
// set, no [extensions] and no includes (which could set either), and
// core.worktree at most once, with a value that has no quotes, escapes,
// comments or tabs, which it returns ("" if unset). Anything it cannot
// read plainly (continued lines) counts as not plain.
func plainConfig(s string) (worktree string, ok bool) {
	section, seen := "", false
	for _, line := range strings.Split(s, "\n") {
		orig := line
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			return "", false
		}
		if line[0] == '[' {
			end := strings.IndexByte(line, ']')
			if end < 0 {
				return "", false
			}
			name := strings.ToLower(line[1:end])
			if i := strings.IndexAny(name, " .\""); i >= 0 {
				name = name[:i]
			}
			section = name
			switch section {
			case "include", "includeif", "extensions":
				return "", false
			}
			if rest := strings.TrimSpace(line[end+1:]); rest != "" {
				return "", false // a key on the header's line
			}
			continue
		}
		if section != "core" {
			continue
		}
		key, value, hasValue := strings.Cut(line, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		value = strings.ToLower(strings.TrimSpace(value))
		switch key {
		case "worktree":
			// git trims only ASCII blanks around a value, and reads
			// quotes, escapes and comments in it; a path with any of
			// those, or other spaces at its ends, is not plain.
			_, raw, _ := strings.Cut(orig, "=")
			raw = strings.Trim(raw, " \t\r")
			if seen || !hasValue || raw == "" || raw != strings.TrimSpace(raw) ||
				strings.ContainsAny(raw, "\"\\#;\t\r\v\f") {
				return "", false
			}
			seen, worktree = true, raw
		case "bare":
			if value != "false" {
				return "", false
			}
		case "repositoryformatversion":
			if value != "0" {
				return "", false
			}
		}
	}
	return worktree, true
}

// isIgnored asks the work tree whether it ignores path (relative to top).
// check-ignore does not accept literal pathspecs, so they are switched off
// for this call; "./" keeps a leading ":" from being read as magic.
func isIgnored(ctx context.Context, g *Git, path string) (bool, error) {
	if strings.HasPrefix(path, ":") {
		path = "./" + path
	}
	_, err := g.Run(ctx, RunOpts{Env: []string{"GIT_LITERAL_PATHSPECS=0"}}, "check-ignore", "-q", "--", path)
	switch {
	case err == nil:
		return true, nil
	case ExitCode(err) == 1:
		return false, nil
	}
	return false, fmt.Errorf("check whether %s is ignored: %w", path, err)
}

// initRepo creates a repository in memDir with the branch main.
func initRepo(ctx context.Context, g *Git, memDir string) error {
	g = g.At(memDir)
	if _, err := g.Run(ctx, RunOpts{}, "init", "-q"); err != nil {
		return fmt.Errorf("git init %s: %w", memDir, err)
	}
	// symbolic-ref rather than `init -b`, which git before 2.28 lacks. The
	// branch is unborn, so this only names it.
	if _, err := g.Run(ctx, RunOpts{}, "symbolic-ref", "HEAD", "refs/heads/main"); err != nil {
		return fmt.Errorf("name branch main in %s: %w", memDir, err)
	}
	return nil
}

// gitignoreHeader starts the .gitignore elfsync writes.
const gitignoreHeader = "# Written by elfsync: its index database and editor noise are never committed.\n"

// gitignorePatterns are the lines memory/.gitignore must hold: the SQLite
// index with its journal and lock files, elfsync's own runtime files, and the
// temporary files editors leave beside a note (vim's swap files and 4913
// probe, emacs's backups, lock links and autosaves, temp+rename writers).
var gitignorePatterns = []string{
	"index.db*",
	".elfsync*",
	"*.swp",
	"*.swx",
	"*~",
	"4913",
	".#*",
	"#*#",
	"*.tmp",
}

// ensureGitignore writes memDir/.gitignore if it is missing, or appends the
// patterns it lacks, keeping whatever a person added. It reports whether the
// file changed.
func ensureGitignore(memDir string) (bool, error) {
	p := filepath.Join(memDir, ".gitignore")
	old, err := os.ReadFile(p)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("read %s: %w", p, err)
	}
	have := map[string]bool{}
	for _, line := range strings.Split(string(old), "\n") {
		have[strings.TrimSpace(line)] = true
	}
	var add bytes.Buffer
	for _, pat := range gitignorePatterns {
		if !have[pat] {
			add.WriteString(pat + "\n")
		}
	}
	if add.Len() == 0 {
		return false, nil
	}
	var buf bytes.Buffer
	buf.Write(old)
	if len(old) > 0 && !bytes.HasSuffix(old, []byte("\n")) {
		buf.WriteByte('\n')
	}
	if !bytes.Contains(old, []byte(gitignoreHeader)) {
		buf.WriteString(gitignoreHeader)
	}
	buf.Write(add.Bytes())
	if err := writeFileAtomic(p, buf.Bytes()); err != nil {
		return false, err
	}
	return true, nil
}

// writeFileAtomic writes data to a temporary file beside p and renames it
// into place, so a reader never sees half of it.
func writeFileAtomic(p string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(p), ".elfsync-*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	tmp := f.Name()
	// CreateTemp makes the file private (0600); .gitignore and the state
	// file are ordinary files of the repository.
	err = f.Chmod(0o644)
	if err == nil {
		_, err = f.Write(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// Fallback identity for commits on a machine where git has none.
const (
	fallbackName  = "elfsync"
	fallbackEmail = "elfsync@localhost"
)

// identityEnv returns GIT_AUTHOR_* and GIT_COMMITTER_* variables for the
// parts of the identity that neither git's configuration nor the
// environment provides, so that commit-tree never stops at "Please tell me
// who you are". A configured identity is always kept.
func identityEnv(ctx context.Context, g *Git) []string {
	var env []string
	has := func(k string) bool {
		for _, kv := range g.env {
			if strings.HasPrefix(kv, k+"=") && len(kv) > len(k)+1 {
				return true
			}
		}
		return false
	}
	// One call for both keys; exit 1 (neither set) is an answer too.
	out, _ := g.Out(ctx, "config", "--get-regexp", `^user\.(name|email)$`)
	set := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(line, " ")
		if strings.TrimSpace(v) != "" {
			set[strings.ToLower(k)] = true
		}
	}
	for _, f := range []struct{ key, kind, value string }{
		{"user.email", "EMAIL", fallbackEmail},
		{"user.name", "NAME", fallbackName},
	} {
		if set[f.key] {
			continue
		}
		for _, who := range []string{"GIT_AUTHOR_", "GIT_COMMITTER_"} {
			if !has(who + f.kind) {
				env = append(env, who+f.kind+"="+f.value)
			}
		}
	}
	return env
}
