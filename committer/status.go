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
	side := make(chan gitSide, 1)
	go func() { side <- readGitSide(gctx, g, ".") }()
	r, ok := discoverLocal(memDir)
	var err error
	if !ok {
		r, err = discover(ctx, g, memDir)
	}
	if err != nil {
		// Leave no git process behind.
		cancel()
		<-side
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
	return c.finishStatus(ctx, <-side)
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
}

// readGitSide runs the three git commands Status needs at once, in g's
// directory with pathspec spec (memory/ from there): status, the newest
// commit under spec (log -1 HEAD, which fails on an unborn branch) and
// user.email.
func readGitSide(ctx context.Context, g *Git, spec string) gitSide {
	var s gitSide
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if email, err := g.Out(ctx, "config", "user.email"); err == nil {
			s.email = email
		}
	}()
	go func() {
		defer wg.Done()
		s.log, s.logErr = g.Run(ctx, RunOpts{}, "log", "-1", "--format=%H%x00%s%x00%ct", "HEAD", "--", spec)
	}()
	s.status, s.statusErr = g.Run(ctx, RunOpts{Env: []string{"GIT_OPTIONAL_LOCKS=0"}},
		"status", "--porcelain=v1", "-z", "--untracked-files=all", "--", spec)
	wg.Wait()
	return s
}

// finishStatus builds the Status from the files in the git directory and
// the git commands' output.
func (c *Committer) finishStatus(ctx context.Context, side gitSide) (Status, error) {
	st := Status{
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
		out, err = c.git.Run(ctx, RunOpts{}, "log", "-1", "--format=%H%x00%s%x00%ct", head, "--", c.repo.spec())
		if err != nil {
			return st, fmt.Errorf("git log: %w", err)
		}
	}
	f := strings.SplitN(strings.TrimSpace(string(out)), "\x00", 3)
	if len(f) == 3 {
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
