package committer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
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
func ReadStatus(ctx context.Context, root string) (Status, error) {
	c, err := Open(ctx, Config{Root: root, ReadOnly: true, Logger: zerolog.Nop()})
	if err != nil {
		return Status{}, err
	}
	return c.Status(ctx)
}

// Status reports what is uncommitted under memory/, the last commit that
// touched it, the last recorded git error, and whether the repository is
// busy. It takes no lock (git status runs without optional locks), so it is
// safe beside a person's git and another elfsync.
func (c *Committer) Status(ctx context.Context) (Status, error) {
	st := Status{
		Repo:      c.repo.top,
		GitDir:    c.repo.gitDir,
		Shared:    c.repo.shared(),
		LockHeld:  indexLocked(c.repo.gitDir),
		Operation: operation(c.repo.gitDir),
	}
	st.Pending, _, _, _ = c.pendingInfo()
	ps := c.readState()
	st.LastError, st.LastErrorTime = ps.LastError, ps.LastErrorTime
	if st.LockHeld {
		if info, err := os.Stat(filepath.Join(c.repo.gitDir, "index.lock")); err == nil {
			st.LockSince = info.ModTime()
		}
	}
	if email, err := c.git.Out(ctx, "config", "user.email"); err == nil {
		st.Email = strings.TrimSpace(email)
	}

	out, err := c.git.Run(ctx, RunOpts{Env: []string{"GIT_OPTIONAL_LOCKS=0"}},
		"status", "--porcelain=v1", "-z", "--untracked-files=all", "--", c.repo.spec())
	if err != nil {
		return st, fmt.Errorf("git status: %w", err)
	}
	st.Uncommitted = parsePorcelain(out, c.repo)

	head, _, err := c.head(ctx)
	if err != nil {
		return st, err
	}
	if head != "" {
		out, err := c.git.Run(ctx, RunOpts{}, "log", "-1", "--format=%H%x00%s%x00%ct", head, "--", c.repo.spec())
		if err != nil {
			return st, fmt.Errorf("git log: %w", err)
		}
		f := strings.SplitN(strings.TrimSpace(string(out)), "\x00", 3)
		if len(f) == 3 {
			secs, _ := strconv.ParseInt(f[2], 10, 64)
			st.LastCommit = CommitInfo{Hash: f[0], Subject: f[1], Time: time.Unix(secs, 0).UTC()}
		}
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
