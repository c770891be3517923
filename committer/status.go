package committer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/layout"
)

// Status is the committer's view of memory/'s history.
type Status struct {
	// Uncommitted are root-relative paths under memory/ that differ from
	// HEAD (ignored files excluded).
	Uncommitted []string
	// LastCommit is the newest commit that touched memory/ (zero if none).
	LastCommit CommitInfo
	// LastError is the last git error any elfsync process recorded for
	// this repository, cleared by the next successful commit.
	LastError     string
	LastErrorTime time.Time
	// LockHeld reports whether index.lock exists now, and LockSince when it
	// was last written (zero if unknown).
	LockHeld  bool
	LockSince time.Time
	// Operation names a merge, rebase, cherry-pick, revert or bisect in
	// progress ("" if none); elfsync waits while one is.
	Operation string
	// Pending counts paths this process was notified of and has not
	// committed yet.
	Pending int
	// Repo is the top level of the work tree that holds memory/'s history,
	// and Shared whether that is a larger tree than memory/ itself.
	Repo   string
	Shared bool
	// GitDir is the repository's git directory (index.lock lives there).
	GitDir string
	// Email is git's configured user.email; "" means elfsync commits with
	// its fallback identity.
	Email string
	// FromIndex means Uncommitted (empty) was known from git's index and
	// a walk of memory/ (ReadStatusWalked), without running git status.
	FromIndex bool
}

// ReadStatus reports the git side of root's memory folder without changing
// anything: no repository is created, no .gitignore written, no lock taken
// or removed. It is what `elfsync status` and `elfsync doctor` ask, beside
// a running watcher. Without a repository it returns ErrNoRepository; when
// git is not installed, an error that wraps exec.ErrNotFound.
//
// It reports what Open(ReadOnly) followed by Status would, in about the
// time of one `git status`: the repository is found (from memory/.git
// when that is plainly memory/'s own repository, otherwise by rev-parse,
// and check-ignore in a shared tree) while status, log and config already
// run from memory/ itself, whose answers are the same as from the top
// level with memory/'s pathspec. They are thrown away when memory/ turns
// out to have no repository it may use.
func ReadStatus(ctx context.Context, root string) (Status, error) {
	return ReadStatusWalked(ctx, root, nil)
}

// ReadStatusWalked is ReadStatus for a caller that walks memory/ anyway
// (`elfsync status`): it sends that walk on walk, once (nil if it has
// none), without waiting (walk is buffered). When the walk and git's index show that git status would find
// nothing uncommitted (cleanCheck), git status does not run: on a large
// tree it was a second walk of every file, beside elfsync's own. Otherwise
// git status runs as ReadStatus runs it, started as soon as the answer is
// known to need it. With a nil walk it is ReadStatus; with one, Email
// is not read (status does not show it).
func ReadStatusWalked(ctx context.Context, root string, walk <-chan *WorkTree) (Status, error) {
	if !filepath.IsAbs(root) {
		return Status{}, fmt.Errorf("committer: root %q is not absolute", root)
	}
	if _, err := exec.LookPath("git"); err != nil {
		return Status{}, fmt.Errorf("committer: %w", err)
	}
	memDir := filepath.Join(root, layout.MemoryDir)
	if _, err := os.Stat(memDir); err != nil {
		return Status{}, fmt.Errorf("committer: %w", err)
	}
	g := NewGit(memDir, GitOptions{})
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// log and config run at once, from memDir, before the repository is
	// known; status too unless a walk may spare it. `elfsync status`
	// shows no identity: with a walk, config does not run (Email is "").
	var s gitSide
	logDone := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.readLogConfig(gctx, g, ".", walk == nil)
		close(logDone)
	}()
	statusDone := make(chan struct{})
	runStatus := func() {
		go func() {
			defer close(statusDone)
			s.status, s.statusErr = s.runStatus(gctx, g, ".")
		}()
	}
	if walk == nil {
		runStatus()
	}
	r, ok := discoverLocal(memDir)
	var err error
	if !ok {
		r, err = discover(ctx, g, memDir)
	}
	if err != nil {
		// Leave no git process behind.
		cancel()
		wg.Wait()
		if walk == nil {
			<-statusDone
		}
		if errors.Is(err, errNotRepo) {
			return Status{}, ErrNoRepository
		}
		return Status{}, fmt.Errorf("committer: %w", err)
	}
	c := &Committer{
		cfg:    Config{Root: root, ReadOnly: true},
		log:    zerolog.Nop(),
		memDir: memDir,
		repo:   r,
		git:    g.At(r.top),
	}
	if walk != nil {
		<-logDone
		ix, tree, why := c.prepareCleanCheck(gctx, s.logTree)
		if why == "" {
			var wt *WorkTree
			select {
			case wt = <-walk:
			case <-gctx.Done():
			}
			if clean, _ := cleanCheck(r, memDir, ix, tree, wt); clean {
				s.status, s.clean = nil, true
			}
		}
		if !s.clean {
			runStatus()
		}
	}
	wg.Wait()
	if !s.clean {
		<-statusDone
	}
	return c.finishStatus(ctx, s)
}

// prepareCleanCheck reads what cleanCheck needs before the walk is done:
// the index and the object name of memory/'s tree in HEAD (logTree is
// HEAD's root tree as the log printed it, which is memory/'s when memory/
// is the top level; a shared tree asks rev-parse). why says why there is
// none ("" if there is).
func (c *Committer) prepareCleanCheck(ctx context.Context, logTree string) (ix *gitIndex, tree []byte, why string) {
	if c.repo.prefix == "" {
		tree = parseTreeID(logTree)
	} else if out, err := c.gitOut(ctx, RunOpts{}, "rev-parse", "-q", "--verify", "HEAD:"+c.repo.spec()); err == nil {
		tree = parseTreeID(out)
	}
	if tree == nil {
		return nil, nil, "no tree of memory/ in HEAD"
	}
	ix, err := readGitIndex(filepath.Join(c.repo.gitDir, "index"), len(tree))
	if err != nil {
		return nil, nil, err.Error()
	}
	if ix.unsupported != "" {
		return nil, nil, ix.unsupported
	}
	return ix, tree, ""
}

// Status reports what is uncommitted under memory/, the last commit that
// touched it, the last recorded git error, and whether the repository is
// busy. It takes no lock (git status runs without optional locks), so it is
// safe beside a person's git and another elfsync.
func (c *Committer) Status(ctx context.Context) (Status, error) {
	return c.finishStatus(ctx, readGitSide(ctx, c.git, c.repo.spec()))
}

// gitSide holds what the git commands of Status printed.
type gitSide struct {
	email             string
	status, log       []byte
	statusErr, logErr error
	// logTree is the root tree of the commit log printed.
	logTree string
	// clean means cleanCheck found nothing uncommitted: status did not
	// run.
	clean bool
}

// logFormat is what log prints of the newest commit under memory/: hash,
// subject, commit time and root tree, NUL-separated.
const logFormat = "--format=%H%x00%s%x00%ct%x00%T"

// readGitSide runs the three git commands Status needs at once, in g's
// directory with pathspec spec (memory/ from there): status, the newest
// commit under spec (log -1 HEAD, which fails on an unborn branch) and
// user.email.
func readGitSide(ctx context.Context, g *Git, spec string) gitSide {
	var s gitSide
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.readLogConfig(ctx, g, spec, true)
	}()
	s.status, s.statusErr = s.runStatus(ctx, g, spec)
	wg.Wait()
	return s
}

// readLogConfig runs log and, if email, config (readGitSide) at once.
func (s *gitSide) readLogConfig(ctx context.Context, g *Git, spec string, email bool) {
	var wg sync.WaitGroup
	if email {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if email, err := g.Out(ctx, "config", "user.email"); err == nil {
				s.email = email
			}
		}()
	}
	s.log, s.logErr = g.Run(ctx, RunOpts{}, "log", "-1", logFormat, "HEAD", "--", spec)
	if s.logErr == nil {
		if f := strings.Split(strings.TrimSpace(string(s.log)), "\x00"); len(f) == 4 {
			s.logTree = f[3]
		}
	}
	wg.Wait()
}

// runStatus runs git status (readGitSide); it sets no field of s, so it
// may run beside readLogConfig.
func (*gitSide) runStatus(ctx context.Context, g *Git, spec string) ([]byte, error) {
	return g.Run(ctx, RunOpts{Env: []string{"GIT_OPTIONAL_LOCKS=0"}},
		"status", "--porcelain=v1", "-z", "--untracked-files=all", "--", spec)
}

// finishStatus builds the Status from the files in the git directory and
// the git commands' output.
func (c *Committer) finishStatus(ctx context.Context, side gitSide) (Status, error) {
	st := Status{
		FromIndex: side.clean,
		Repo:      c.repo.top,
		GitDir:    c.repo.gitDir,
		Shared:    c.repo.shared(),
		LockHeld:  indexLocked(c.repo.gitDir),
		Operation: operation(c.repo.gitDir),
		Email:     side.email,
	}
	st.Pending, _, _, _ = c.pendingInfo()
	ps := c.readState()
	st.LastError, st.LastErrorTime = ps.LastError, ps.LastErrorTime
	if st.LockHeld {
		if info, err := os.Stat(filepath.Join(c.repo.gitDir, "index.lock")); err == nil {
			st.LockSince = info.ModTime()
		}
	}
	if side.statusErr != nil {
		return st, fmt.Errorf("git status: %w", side.statusErr)
	}
	st.Uncommitted = parsePorcelain(side.status, c.repo)

	out := side.log
	if side.logErr != nil {
		// log fails on an unborn branch, which has no last commit; any
		// other failure is reported as before.
		head, _, err := c.head(ctx)
		if err != nil {
			return st, err
		}
		if head == "" {
			return st, nil
		}
		out, err = c.git.Run(ctx, RunOpts{}, "log", "-1", logFormat, head, "--", c.repo.spec())
		if err != nil {
			return st, fmt.Errorf("git log: %w", err)
		}
	}
	f := strings.Split(strings.TrimSpace(string(out)), "\x00")
	if len(f) == 4 {
		secs, _ := strconv.ParseInt(f[2], 10, 64)
		st.LastCommit = CommitInfo{Hash: f[0], Subject: f[1], Time: time.Unix(secs, 0).UTC()}
	}
	return st, nil
}

// parsePorcelain reads `git status --porcelain=v1 -z` output into sorted
// root-relative paths; a rename contributes its old and new path.
func parsePorcelain(out []byte, r repo) []string {
	fields := bytes.Split(bytes.TrimSuffix(out, []byte{0}), []byte{0})
	seen := map[string]bool{}
	var paths []string
	addPath := func(p string) {
		p = r.rootRel(p)
		if !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if len(f) < 4 {
			continue
		}
		addPath(string(f[3:]))
		if (f[0] == 'R' || f[0] == 'C') && i+1 < len(fields) {
			i++
			addPath(string(fields[i]))
		}
	}
	sort.Strings(paths)
	return paths
}
