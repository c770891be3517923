package remote

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/emergent-learning/elfsync/committer"
)

// Result describes one sync round.
type Result struct {
	// Fetched is the remote branch's tip after the fetch ("" when the
	// remote has no such branch yet).
	Fetched string
	// Merged is the merge commit made, or the remote tip HEAD moved to
	// (FastForward), or "".
	Merged      string
	FastForward bool
	// Landed counts work-tree files the merge wrote or removed.
	Landed int
	// Conflicts are the conflict copies the merge kept (paths under memory/).
	Conflicts []string
	// Skipped counts remote changes elfsync refused (dot-files, symlinks,
	// submodules, the index database).
	Skipped int
	// Pushed is the commit pushed, or "".
	Pushed string
	// Rewritten is set when the remote branch was force-pushed since the
	// last fetch.
	Rewritten bool
	// Settled is set when the remote tip holds our branch and nothing
	// elfsync takes (every change it brings was refused): no merge commit
	// is made for it, or two hosts whose dot-files differ would answer each
	// other's merge with a new one forever.
	Settled bool
}

// Round fetches the remote branch, merges it into the local branch (files
// land in the work tree one by one), and pushes the result. It returns nil
// when the local and the remote branch hold the same commit at the end.
func (s *Syncer) Round(ctx context.Context) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.round(ctx, true)
	s.record(ctx, res, err)
	return res, err
}

// Push pushes the local branch when the remote holds nothing it lacks,
// and merges nothing: for a stopping watcher, whose indexer and committer
// would not see what a merge lands.
func (s *Syncer) Push(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.round(ctx, false)
	if err == nil || !errors.Is(err, errNotInStep) {
		s.record(ctx, res, err)
	}
	return err
}

// pushRetries bounds how often a round fetches and merges again after
// another host pushed first.
const pushRetries = 5

func (s *Syncer) round(ctx context.Context, merge bool) (Result, error) {
	var res Result
	if _, err := os.Lstat(s.journalPath()); err == nil {
		// A merge that did not finish landing (an error last round).
		if err := s.hold(func() error { return s.Recover(ctx) }); err != nil {
			return res, err
		}
	}
	for attempt := 0; ; attempt++ {
		if s.prefix != "" {
			if err := s.snapshot(ctx); err != nil {
				return res, err
			}
		}
		tip, rewritten, err := s.fetch(ctx)
		if err != nil {
			return res, err
		}
		res.Fetched, res.Rewritten = tip, res.Rewritten || rewritten
		head, err := s.head(ctx)
		if err != nil {
			return res, err
		}
		if tip != "" && tip != head {
			anc, err := s.isAncestor(ctx, tip, head)
			if err != nil {
				return res, err
			}
			if !anc && tip == s.settled {
				// Examined already: nothing in it is taken. Merge again
				// only when our branch moved on since.
				if res.Settled, err = s.isAncestor(ctx, head, tip); err != nil {
					return res, err
				}
				anc = res.Settled
			}
			if !anc && !merge {
				return res, errNotInStep
			}
			if !anc {
				if head, err = s.merge(ctx, tip, &res); err != nil {
					return res, err
				}
			}
		}
		if res.Settled {
			s.settled = tip
			return res, nil // nothing to push: the remote holds our branch
		}
		if head == "" || head == tip {
			return res, nil
		}
		err = s.push(ctx, head)
		if err == nil {
			res.Pushed = head
			return res, nil
		}
		if !errors.Is(err, errPushRaced) || attempt >= pushRetries {
			return res, err
		}
		s.log.Debug().Msg("another host pushed first; fetching and merging again")
	}
}

// snapshot records, in a project repository, the memory/ tree of the
// person's HEAD (where the committer commits) on SharedBranch when it
// differs from the branch's tree. SharedBranch's history is elfsync's
// alone: snapshots and merges, never the person's code.
func (s *Syncer) snapshot(ctx context.Context) error {
	// Only a committed memory/ is recorded: files a merge just landed are
	// not in HEAD until the committer commits them, and recording HEAD's
	// older tree then would undo the merge on the shared branch.
	dirty, err := s.git.Out(ctx, "status", "--porcelain", "--untracked-files=all", "--", ".")
	if err != nil {
		return fmt.Errorf("status of memory/: %w", err)
	}
	if dirty != "" {
		return nil
	}
	tree, err := s.git.Out(ctx, "rev-parse", "-q", "--verify", "HEAD:"+s.prefix)
	if err != nil || tree == "" {
		return nil // nothing of memory/ committed yet
	}
	cur, err := s.head(ctx)
	if err != nil {
		return err
	}
	if cur != "" {
		if t, _ := s.git.Out(ctx, "rev-parse", cur+"^{tree}"); t == tree {
			return nil
		}
	}
	head, _ := s.git.Out(ctx, "rev-parse", "--short", "HEAD")
	args := []string{"commit-tree", tree}
	old := s.zeroID()
	if cur != "" {
		args = append(args, "-p", cur)
		old = cur
	}
	out, err := s.git.Run(ctx, committer.RunOpts{Stdin: []byte("elfsync: memory/ as of " + head + "\n"), Env: s.identity(ctx)}, args...)
	if err != nil {
		return fmt.Errorf("record memory/ on %s: %w", SharedBranch, err)
	}
	next := strings.TrimSpace(string(out))
	if _, err := s.git.Run(ctx, committer.RunOpts{NoCancel: true}, "update-ref", "-m", "elfsync: memory snapshot", s.local, next, old); err != nil {
		return fmt.Errorf("record memory/ on %s: %w", SharedBranch, err)
	}
	return nil
}

// head returns the local branch's commit ("" while it is unborn).
func (s *Syncer) head(ctx context.Context) (string, error) {
	out, err := s.git.Out(ctx, "rev-parse", "-q", "--verify", s.local+"^{commit}")
	if err != nil {
		if committer.ExitCode(err) == 1 {
			return "", nil
		}
		return "", fmt.Errorf("read %s: %w", s.local, err)
	}
	return out, nil
}

func (s *Syncer) revParse(ctx context.Context, ref string) string {
	out, err := s.git.Out(ctx, "rev-parse", "-q", "--verify", ref+"^{commit}")
	if err != nil {
		return ""
	}
	return out
}

func (s *Syncer) isAncestor(ctx context.Context, a, b string) (bool, error) {
	if a == "" {
		return true, nil
	}
	if b == "" {
		return false, nil
	}
	_, err := s.git.Run(ctx, committer.RunOpts{}, "merge-base", "--is-ancestor", a, b)
	switch {
	case err == nil:
		return true, nil
	case committer.ExitCode(err) == 1:
		return false, nil
	}
	return false, fmt.Errorf("compare commits: %w", err)
}

// fetch updates the tracking ref from the remote branch and returns its
// tip ("" when the remote has no such branch), and whether the branch was
// rewritten since the last fetch.
func (s *Syncer) fetch(ctx context.Context) (string, bool, error) {
	prev := s.revParse(ctx, s.tracking)
	// An empty --refmap keeps git from also updating the person's
	// refs/remotes/ branch that the configured refspec maps it to.
	_, err := s.git.Run(ctx, committer.RunOpts{}, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head",
		"--no-recurse-submodules", "--no-auto-gc", "--refmap=", s.cfg.Remote, "+refs/heads/"+s.branch+":"+s.tracking)
	if err != nil {
		if strings.Contains(committer.Stderr(err), "couldn't find remote ref") {
			return "", false, nil // an empty remote: the first push creates the branch
		}
		return "", false, fmt.Errorf("fetch %s: %w", s.cfg.Remote, err)
	}
	tip := s.revParse(ctx, s.tracking)
	if tip == "" {
		return "", false, fmt.Errorf("fetch %s: no commit at %s", s.cfg.Remote, s.tracking)
	}
	rewritten := false
	if prev != "" && prev != tip {
		anc, err := s.isAncestor(ctx, prev, tip)
		if err == nil && !anc {
			rewritten = true
			s.log.Warn().Str("was", short(prev)).Str("now", short(tip)).
				Msg("the remote branch was rewritten (force-pushed); merging what it holds now, nothing of ours is dropped")
		}
	}
	return tip, rewritten, nil
}

// push pushes commit to the remote branch, never forcing, and nothing
// else whatever the person's push settings say (push.followTags,
// push.recurseSubmodules, push.gpgSign).
func (s *Syncer) push(ctx context.Context, commit string) error {
	out, err := s.git.Run(ctx, committer.RunOpts{}, "push", "--porcelain", "--quiet", "--no-verify",
		"--no-follow-tags", "--recurse-submodules=no", "--no-signed",
		s.cfg.Remote, commit+":refs/heads/"+s.branch)
	if err != nil {
		text := string(out) + committer.Stderr(err)
		// Another host's push landed between our fetch and our push: a
		// plain rejection, or (when both reached the remote at once) the
		// remote's ref compare-and-swap failing.
		if strings.Contains(text, "[rejected]") || strings.Contains(text, "non-fast-forward") ||
			strings.Contains(text, "fetch first") || strings.Contains(text, "stale info") ||
			strings.Contains(text, "but expected") {
			return errPushRaced
		}
		return fmt.Errorf("push to %s: %w", s.cfg.Remote, err)
	}
	// The remote holds commit now; remember it, so ahead/behind are right
	// before the next fetch.
	if _, err := s.git.Run(ctx, committer.RunOpts{}, "update-ref", s.tracking, commit); err != nil {
		s.log.Debug().Err(err).Msg("update tracking ref after push")
	}
	s.log.Info().Str("commit", short(commit)).Msg("pushed")
	return nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// writeEmptyTree stores the empty tree, which diff-tree needs as an object
// (a merge of unrelated histories has it as its base).
func (s *Syncer) writeEmptyTree(ctx context.Context) error {
	out, err := s.git.Run(ctx, committer.RunOpts{Stdin: []byte{}}, "mktree")
	if err != nil {
		return fmt.Errorf("write empty tree: %w", err)
	}
	s.empty = strings.TrimSpace(string(out))
	return nil
}

// emptyTree returns the id of the empty tree in this repository's object
// format.
func (s *Syncer) emptyTree() string { return s.empty }

func (s *Syncer) zeroID() string {
	if s.sha256 {
		return strings.Repeat("0", 64)
	}
	return strings.Repeat("0", 40)
}

// merge merges the remote tip into the local branch while no commit can
// start, lands the changed files in the work tree, and returns the new
// head.
func (s *Syncer) merge(ctx context.Context, tip string, res *Result) (string, error) {
	var head string
	err := s.hold(func() error {
		var err error
		head, err = s.mergeLocked(ctx, tip, res)
		return err
	})
	return head, err
}

// hold runs fn while no commit can start.
func (s *Syncer) hold(fn func() error) error {
	if s.cfg.Hold != nil {
		return s.cfg.Hold.Exclusive(fn)
	}
	return fn()
}

func (s *Syncer) mergeLocked(ctx context.Context, tip string, res *Result) (string, error) {
	start := time.Now()
	local, err := s.head(ctx)
	if err != nil {
		return "", err
	}
	if anc, err := s.isAncestor(ctx, tip, local); err != nil || anc {
		return local, err
	}
	base := ""
	if local != "" {
		out, err := s.git.Out(ctx, "merge-base", local, tip)
		if err != nil && committer.ExitCode(err) != 1 {
			return "", fmt.Errorf("merge base: %w", err)
		}
		base = out
	}
	baseTree, localTree := s.emptyTree(), s.emptyTree()
	if base != "" {
		baseTree = base + "^{tree}"
	}
	if local != "" {
		localTree = local + "^{tree}"
	}
	ours, err := s.diffTrees(ctx, baseTree, localTree)
	if err != nil {
		return "", err
	}
	theirs, err := s.diffTrees(ctx, baseTree, tip+"^{tree}")
	if err != nil {
		return "", err
	}
	ourMap := make(map[string]rawChange, len(ours))
	for _, c := range ours {
		ourMap[c.path] = c
	}
	stamp := ""
	cf, err := s.startCatFile(ctx)
	if err != nil {
		return "", err
	}
	defer cf.close()

	var lines []string
	var localPaths map[string]bool // files of the local tree, read when needed
	planned := map[string]bool{}
	taken := func(p string) bool {
		if planned[p] {
			return true
		}
		if _, ok := ourMap[p]; ok {
			return true
		}
		_, err := s.git.Run(ctx, committer.RunOpts{}, "cat-file", "-e", localTree+":"+p)
		return err == nil
	}
	set := func(p string, e entry) {
		planned[p] = true
		if !e.present() {
			lines = append(lines, "0 "+s.zeroID()+"\t"+p)
			return
		}
		lines = append(lines, e.mode+" "+e.oid+"\t"+p)
	}
	for _, c := range theirs {
		if !acceptRemote(c.path, c.new) {
			if o, ok := ourMap[c.path]; ok && o.new == c.new {
				continue // we hold the same already (each host writes its own .gitignore)
			}
			res.Skipped++
			s.log.Warn().Str("path", c.path).Str("mode", c.new.mode).
				Msg("refused a change from the remote: only regular files outside dot-folders are taken")
			continue
		}
		o, changed := ourMap[c.path]
		if c.new.present() && !c.old.present() && !changed {
			// A new path: it must not turn one of our files into a
			// folder, or one of our folders into a file (git would drop
			// ours from the tree without a word).
			if localPaths == nil {
				if localPaths, err = s.treePaths(ctx, localTree); err != nil {
					return "", err
				}
			}
			if clash(localPaths, c.path) {
				res.Skipped++
				s.log.Warn().Str("path", c.path).Msg("refused a change from the remote: a file and a folder of the same name")
				continue
			}
		}
		if !changed {
			set(c.path, c.new)
			continue
		}
		if o.new == c.new {
			continue
		}
		if o.new.present() && !o.new.regular() {
			continue // ours is a symlink or submodule: keep it
		}
		huge := false
		read := func(e entry) (Version, error) {
			if !e.present() {
				return Version{}, nil
			}
			// Over the size limit it could not be merged as text anyway:
			// not read, it is kept whole.
			data, err := cf.readMax(e.oid, s.cfg.MaxSize)
			if errors.Is(err, errBlobTooLarge) {
				huge = true
				return Version{Present: true}, nil
			}
			return Version{Present: true, Data: data}, err
		}
		bv, err := read(c.old)
		if err != nil {
			return "", err
		}
		ov, err := read(o.new)
		if err != nil {
			return "", err
		}
		tv, err := read(c.new)
		if err != nil {
			return "", err
		}
		if huge {
			// Too large to read: ours stays, theirs is kept beside it.
			if !o.new.present() {
				set(c.path, c.new)
				continue
			}
			if c.new.present() {
				if stamp == "" {
					stamp = s.commitStamp(ctx, tip)
				}
				name := conflictName(c.path, tip[:8], stamp, taken)
				set(name, c.new)
				res.Conflicts = append(res.Conflicts, "memory/"+name)
			}
			continue
		}
		m, err := MergeFile(ctx, GitMerger{Dir: s.gitDir}, bv, ov, tv, s.cfg.MaxSize)
		if err != nil {
			return "", fmt.Errorf("merge %s: %w", c.path, err)
		}
		switch {
		case !m.Present:
			set(c.path, entry{})
		case m.Present && ov.Present && string(m.Data) == string(ov.Data):
			// ours stands
		case m.Present && tv.Present && string(m.Data) == string(tv.Data):
			set(c.path, c.new)
		default:
			oid, err := s.writeBlob(ctx, m.Data)
			if err != nil {
				return "", err
			}
			mode := o.new.mode
			if mode == "" {
				mode = c.new.mode
			}
			set(c.path, entry{mode: mode, oid: oid})
		}
		if m.Conflict {
			if stamp == "" {
				stamp = s.commitStamp(ctx, tip)
			}
			name := conflictName(c.path, tip[:8], stamp, taken)
			oid, err := s.writeBlob(ctx, conflictCopy(c.path, tv.Data, tip, stamp))
			if err != nil {
				return "", err
			}
			set(name, entry{mode: c.new.mode, oid: oid})
			res.Conflicts = append(res.Conflicts, "memory/"+name)
			s.log.Warn().Str("path", "memory/"+c.path).Str("copy", "memory/"+name).Strs("conflicting", m.Why).
				Msg("concurrent edits could not be merged: both versions kept")
		}
	}

	tree, err := s.buildTree(ctx, local, lines)
	if err != nil {
		return "", err
	}
	var next string
	tipTree, _ := s.git.Out(ctx, "rev-parse", tip+"^{tree}")
	behind, _ := s.isAncestor(ctx, local, tip)
	if behind && local != "" && tree != tipTree {
		if lt, _ := s.git.Out(ctx, "rev-parse", localTree); lt == tree {
			// Every change the remote brings was refused: a merge commit
			// would only restore our version of the refused paths, and a
			// host holding theirs would answer it with another one.
			res.Settled = true
			return local, nil
		}
	}
	if behind && tree == tipTree {
		next = tip
		res.FastForward = true
	} else {
		msg := fmt.Sprintf("elfsync: merge %s/%s\n", s.cfg.Remote, s.branch)
		if len(res.Conflicts) > 0 {
			msg += "\nConflicts kept side by side:\n"
			for _, c := range res.Conflicts {
				msg += "  " + c + "\n"
			}
		}
		args := []string{"commit-tree", tree}
		if local != "" {
			args = append(args, "-p", local)
		}
		args = append(args, "-p", tip)
		out, err := s.git.Run(ctx, committer.RunOpts{Stdin: []byte(msg), Env: s.identity(ctx)}, args...)
		if err != nil {
			return "", fmt.Errorf("commit merge: %w", err)
		}
		next = strings.TrimSpace(string(out))
	}

	// The journal comes first: after a crash anywhere below, Recover
	// finishes landing the files, so no commit of a stale work tree can
	// undo the merge.
	if err := s.writeJournal(journal{Ref: s.local, Old: local, New: next, Time: time.Now().UTC()}); err != nil {
		return "", err
	}
	old := local
	if old == "" {
		old = s.zeroID()
	}
	if _, err := s.git.Run(ctx, committer.RunOpts{NoCancel: true}, "update-ref", "-m", "elfsync: merge "+s.cfg.Remote, s.local, next, old); err != nil {
		s.removeJournal()
		return "", fmt.Errorf("move %s to the merge: %w", s.local, err)
	}
	if s.crashAfterRef {
		return "", errors.New("simulated crash after moving the branch")
	}
	merged := time.Since(start)
	n, err := s.land(context.WithoutCancel(ctx), local, next)
	res.Landed += n
	if err != nil {
		return next, fmt.Errorf("update work tree (finished on the next round or restart): %w", err)
	}
	s.removeJournal()
	res.Merged = next
	s.log.Info().Str("commit", short(next)).Bool("fast_forward", res.FastForward).Int("files", n).
		Int("conflicts", len(res.Conflicts)).Dur("merge", merged).Dur("took", time.Since(start)).Msg("merged the remote")
	return next, nil
}

// treePaths lists the files of a tree, and its folders with a trailing
// slash.
func (s *Syncer) treePaths(ctx context.Context, tree string) (map[string]bool, error) {
	out, err := s.git.Run(ctx, committer.RunOpts{}, "ls-tree", "-r", "-z", "--name-only", tree)
	if err != nil {
		return nil, fmt.Errorf("list tree: %w", err)
	}
	m := map[string]bool{}
	for _, p := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		if p == "" {
			continue
		}
		m[p] = true
		for i := 0; i < len(p); i++ {
			if p[i] == '/' {
				m[p[:i+1]] = true
			}
		}
	}
	return m, nil
}

// clash reports whether adding file p to a tree holding files would need
// one of them to become a folder, or p is a folder of theirs.
func clash(files map[string]bool, p string) bool {
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && files[p[:i]] {
			return true
		}
	}
	return files[p+"/"]
}

// commitStamp returns the commit time of c as 20060102T150405Z.
func (s *Syncer) commitStamp(ctx context.Context, c string) string {
	out, err := s.git.Out(ctx, "log", "-1", "--format=%ct", c)
	secs, perr := strconv.ParseInt(out, 10, 64)
	if err != nil || perr != nil {
		return time.Now().UTC().Format("20060102T150405Z")
	}
	return time.Unix(secs, 0).UTC().Format("20060102T150405Z")
}

// buildTree applies index-info lines to local's tree in a private index
// and writes the tree.
func (s *Syncer) buildTree(ctx context.Context, local string, lines []string) (string, error) {
	idx := fmt.Sprintf("%s/elfsync-merge-index-%d", s.gitDir, os.Getpid())
	os.Remove(idx)
	defer os.Remove(idx)
	o := committer.RunOpts{Env: []string{"GIT_INDEX_FILE=" + idx}}
	args := []string{"read-tree", "--empty"}
	if local != "" {
		args = []string{"read-tree", local}
	}
	if _, err := s.git.Run(ctx, o, args...); err != nil {
		return "", fmt.Errorf("read tree: %w", err)
	}
	if len(lines) > 0 {
		o.Stdin = []byte(strings.Join(lines, "\x00") + "\x00")
		if _, err := s.git.Run(ctx, o, "update-index", "-z", "--index-info"); err != nil {
			return "", fmt.Errorf("build merged tree: %w", err)
		}
		o.Stdin = nil
	}
	tree, err := s.git.Run(ctx, o, "write-tree")
	if err != nil {
		return "", fmt.Errorf("write merged tree: %w", err)
	}
	return strings.TrimSpace(string(tree)), nil
}

// identity returns author/committer variables for a machine where git has
// no user.name or user.email (looked up once).
func (s *Syncer) identity(ctx context.Context) []string {
	s.identOnce.Do(func() { s.ident = s.lookupIdentity(ctx) })
	return s.ident
}

func (s *Syncer) lookupIdentity(ctx context.Context) []string {
	var env []string
	if v, _ := s.git.Out(ctx, "config", "user.email"); v == "" && os.Getenv("GIT_AUTHOR_EMAIL") == "" {
		env = append(env, "GIT_AUTHOR_EMAIL=elfsync@localhost", "GIT_COMMITTER_EMAIL=elfsync@localhost")
	}
	if v, _ := s.git.Out(ctx, "config", "user.name"); v == "" && os.Getenv("GIT_AUTHOR_NAME") == "" {
		env = append(env, "GIT_AUTHOR_NAME=elfsync", "GIT_COMMITTER_NAME=elfsync")
	}
	return env
}
