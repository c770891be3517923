package committer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// Git runs the git command in one directory with elfsync's environment
// (Env) and global flags (GlobalArgs). It is the one place elfsync starts
// git: the committer's commits and package remote's fetches, merges and
// pushes all go through it, so every git process gets the same rules (no
// hooks, no signing, no automatic gc, C locale, no prompts, literal
// pathspecs).
type Git struct {
	dir  string   // working directory
	env  []string // full environment for every command
	opts GitOptions
}

// GitOptions are what a caller adds to every command of a Git.
type GitOptions struct {
	// Flags are global flags given after GlobalArgs (package remote adds
	// transfer.fsckObjects for what it fetches).
	Flags []string
	// Env holds extra environment variables (KEY=value).
	Env []string
	// Redact, if set, rewrites what git printed on stderr before a
	// GitError keeps it (package remote hides credentials in URLs).
	Redact func(string) string
	// ErrorLines is how many lines of stderr a GitError's message shows
	// (default 1: git says what failed on its first line; fetch and push
	// put the cause on the first and the remote on the second).
	ErrorLines int
}

// NewGit returns a Git that runs in dir.
func NewGit(dir string, o GitOptions) *Git {
	return &Git{dir: dir, env: append(Env(), o.Env...), opts: o}
}

// At returns a Git with the same settings that runs in dir.
func (g *Git) At(dir string) *Git {
	c := *g
	c.dir = dir
	return &c
}

// Command returns the git command for args, not started, for callers that
// stream its input or output (git cat-file --batch). Run is the usual way.
func (g *Git) Command(ctx context.Context, args ...string) *exec.Cmd {
	return g.command(ctx, RunOpts{}, args)
}

func (g *Git) command(ctx context.Context, o RunOpts, args []string) *exec.Cmd {
	full := slices.Concat(GlobalArgs(o.KeepGC), g.opts.Flags, args)
	cmd := exec.CommandContext(ctx, "git", full...)
	cmd.Dir = g.dir
	cmd.Env = g.env
	if len(o.Env) > 0 {
		cmd.Env = slices.Concat(g.env, o.Env)
	}
	return cmd
}

// GlobalArgs precede every git subcommand elfsync runs (package remote
// uses them too). Hooks would run a person's
// pre-commit checks (or the reference-transaction hook) on elfsync's
// commits, signing would prompt for a passphrase, and an automatic gc started
// after a few hundred commits stalls a commit for seconds: all three are off,
// and maintenance runs on elfsync's own schedule (see maintain). A failed
// safecrlf check would stop every commit for good, so it is off too.
func GlobalArgs(keepGC bool) []string {
	var args []string
	if !keepGC {
		args = append(args, "-c", "gc.auto=0", "-c", "maintenance.auto=false")
	}
	return append(args,
		"-c", "core.hooksPath="+os.DevNull,
		"-c", "commit.gpgsign=false",
		"-c", "core.safecrlf=false",
	)
}

// Env returns the environment for every git command elfsync runs: the process's own, less the
// variables that would point git at another repository or index (elfsync may
// be started from a hook), plus a fixed locale (so error messages can be
// matched), no terminal prompts, and literal pathspecs (a note named
// "*.md" or ":x" must mean itself).
func Env() []string {
	drop := map[string]bool{
		"GIT_DIR": true, "GIT_WORK_TREE": true, "GIT_INDEX_FILE": true,
		"GIT_PREFIX": true, "GIT_COMMON_DIR": true, "GIT_NAMESPACE": true,
		"GIT_OBJECT_DIRECTORY": true, "GIT_LITERAL_PATHSPECS": true,
		"GIT_GLOB_PATHSPECS": true, "GIT_NOGLOB_PATHSPECS": true,
		"GIT_ICASE_PATHSPECS": true, "GIT_TERMINAL_PROMPT": true,
		"GIT_OPTIONAL_LOCKS": true, "LC_ALL": true, "LANG": true,
		"LANGUAGE": true, "GIT_EDITOR": true,
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if drop[strings.ToUpper(k)] {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"LC_ALL=C",
		"LANGUAGE=C",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_LITERAL_PATHSPECS=1",
		"GIT_EDITOR=:",
	)
}

// GitError is a git command that failed, with what it printed.
type GitError struct {
	Args   []string // subcommand and arguments, without the global -c flags
	Code   int      // exit code, -1 if git did not run or was killed
	Stderr string
	Err    error
	lines  int // how many lines of Stderr Error shows
}

func (e *GitError) Error() string {
	lines := strings.Split(strings.TrimSpace(e.Stderr), "\n")
	msg := strings.Join(lines[:min(len(lines), max(e.lines, 1))], "; ")
	name := "git"
	if len(e.Args) > 0 {
		name += " " + e.Args[0]
	}
	if msg == "" {
		return fmt.Sprintf("%s: %v", name, e.Err)
	}
	return fmt.Sprintf("%s: exit %d: %s", name, e.Code, msg)
}

func (e *GitError) Unwrap() error { return e.Err }

// isLockError reports whether a git failure came from a lock file that
// another process holds ("Unable to create '.../index.lock': File exists").
func isLockError(err error) bool {
	var ge *GitError
	if !errors.As(err, &ge) {
		return false
	}
	s := ge.Stderr
	return strings.Contains(s, ".lock': File exists") ||
		(strings.Contains(s, "Unable to create") && strings.Contains(s, ".lock"))
}

// isHeadMoved reports whether update-ref refused because HEAD no longer
// holds the value the commit was built on.
func isHeadMoved(err error) bool {
	var ge *GitError
	if !errors.As(err, &ge) {
		return false
	}
	return strings.Contains(ge.Stderr, "but expected") ||
		strings.Contains(ge.Stderr, "reference already exists")
}

// RunOpts are per-call additions to a git command.
type RunOpts struct {
	Env   []string // extra variables, e.g. GIT_INDEX_FILE
	Stdin []byte
	// NoCancel runs the command to completion even when ctx is cancelled.
	// Commands that take a shared lock (the real index, a ref) must not be
	// killed half-way: git would leave the lock behind.
	NoCancel bool
	// KeepGC leaves the user's gc settings in force (for maintenance).
	KeepGC bool
}

// Run runs git with args and returns its standard output; a failure is a
// *GitError.
func (g *Git) Run(ctx context.Context, o RunOpts, args ...string) ([]byte, error) {
	if o.NoCancel {
		ctx = context.WithoutCancel(ctx)
	}
	cmd := g.command(ctx, o, args)
	if o.Stdin != nil {
		cmd.Stdin = bytes.NewReader(o.Stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		code := -1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		msg := stderr.String()
		if g.opts.Redact != nil {
			msg = g.opts.Redact(msg)
		}
		return stdout.Bytes(), &GitError{Args: args, Code: code, Stderr: msg, Err: err, lines: g.opts.ErrorLines}
	}
	return stdout.Bytes(), nil
}

// Out runs git and returns its output with surrounding space trimmed.
func (g *Git) Out(ctx context.Context, args ...string) (string, error) {
	b, err := g.Run(ctx, RunOpts{}, args...)
	return strings.TrimSpace(string(b)), err
}

// ExitCode returns the exit code of a failed git command, or -1.
func ExitCode(err error) int {
	var ge *GitError
	if errors.As(err, &ge) {
		return ge.Code
	}
	return -1
}

// Stderr returns what a failed git command printed on stderr, or "".
func Stderr(err error) string {
	var ge *GitError
	if errors.As(err, &ge) {
		return ge.Stderr
	}
	return ""
}
