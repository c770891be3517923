package committer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// privateIndexPrefix names the temporary index files in the git directory:
// elfsync-index-<pid>-<n>. The pid lets a restart remove a dead process's.
const privateIndexPrefix = "elfsync-index-"

const (
	// headMovedRetries bounds how often a commit is rebuilt because HEAD
	// moved between reading it and update-ref (a person committed).
	headMovedRetries = 10
	// addRetries bounds retries of `git add` when a path vanished while it
	// ran (exit 128); writers delete and rename notes all the time.
	addRetries = 8
)

// commit commits everything under memory/ (limited to spec, a pathspec
// relative to the top level) that differs from HEAD. It returns a zero
// Result when there is nothing to commit. The caller holds commitMu.
func (c *Committer) commit(ctx context.Context, spec string) (Result, string, error) {
	for attempt := 0; ; attempt++ {
		if err := c.busy(); err != nil {
			return Result{}, "", err
		}
		res, subject, err := c.commitAttempt(ctx, spec)
		if err != nil && isHeadMoved(err) && attempt < headMovedRetries && ctx.Err() == nil {
			c.log.Debug().Err(err).Msg("HEAD moved while committing; building the commit again")
			continue
		}
		return res, subject, err
	}
}

// commitAttempt builds one commit in a private index and moves HEAD to it
// with a compare-and-swap. See the package documentation for the steps.
func (c *Committer) commitAttempt(ctx context.Context, spec string) (res Result, subject string, err error) {
	head, headTree, err := c.head(ctx)
	if err != nil {
		return Result{}, "", err
	}
	idx, cleanup, err := c.privateIndex(ctx, head)
	defer cleanup()
	if err != nil {
		return Result{}, "", err
	}
	idxEnv := RunOpts{Env: []string{"GIT_INDEX_FILE=" + idx}}
	if err := c.add(ctx, idxEnv, spec); err != nil {
		return Result{}, "", err
	}
	tree, err := c.gitOut(ctx, idxEnv, "write-tree")
	if err != nil {
		return Result{}, "", fmt.Errorf("write tree: %w", err)
	}

	var changes []change
	if head == "" {
		out, err := c.git.Run(ctx, RunOpts{}, "ls-tree", "-r", "-z", "--name-only", tree, "--", c.repo.spec())
		if err != nil {
			return Result{}, "", fmt.Errorf("list tree: %w", err)
		}
		changes = parseNames(out, c.repo)
	} else if tree != headTree {
		out, err := c.git.Run(ctx, RunOpts{}, "diff-tree", "-r", "-z", "-M", "--name-status", headTree, tree, "--", c.repo.spec())
		if err != nil {
			return Result{}, "", fmt.Errorf("diff trees: %w", err)
		}
		changes = parseNameStatus(out, c.repo)
	}
	if tree == headTree || head == "" && len(changes) == 0 {
		// Nothing to commit; make sure the real index agrees with HEAD for
		// memory/ (a refresh after an earlier commit may have been blocked).
		if err := c.refreshIfStale(ctx, head); err != nil {
			c.log.Debug().Err(err).Msg("index refresh postponed")
		}
		return Result{}, "", nil
	}

	subject, body := buildMessage(changes, c.cfg.Describe)
	msg := subject + "\n"
	if body != "" {
		msg += "\n" + body
	}
	args := []string{"commit-tree", tree}
	if head != "" {
		args = append(args, "-p", head)
	}
	commit, err := c.gitOut(ctx, RunOpts{Stdin: []byte(msg), Env: c.identity}, args...)
	if err != nil {
		return Result{}, "", fmt.Errorf("commit tree: %w", err)
	}

	// The person may have started a commit or a merge while the tree was
	// built; moving HEAD under them would make their commit fail. The
	// objects written so far are harmless and get collected.
	if err := c.busy(); err != nil {
		return Result{}, "", err
	}
	err = c.withOwnedLocks(c.refLocks(), func() error {
		_, err := c.git.Run(ctx, RunOpts{NoCancel: true},
			"update-ref", "-m", "elfsync: "+subject, "HEAD", commit, head)
		return err
	})
	if err != nil {
		if isLockError(err) {
			return Result{}, "", fmt.Errorf("%w: %v", ErrBusy, err)
		}
		return Result{}, "", fmt.Errorf("update HEAD: %w", err)
	}

	res = Result{Commit: commit}
	countResult(&res, changes)
	if err := c.refreshIndex(ctx); err != nil {
		// The commit stands; the refresh is retried before the next one.
		c.log.Debug().Err(err).Msg("index refresh after commit postponed")
	}
	return res, subject, nil
}

// gitOut runs git with o and returns its trimmed output.
func (c *Committer) gitOut(ctx context.Context, o RunOpts, args ...string) (string, error) {
	b, err := c.git.Run(ctx, o, args...)
	return strings.TrimSpace(string(b)), err
}

// head returns HEAD's commit and tree, or two empty strings on an unborn
// branch.
func (c *Committer) head(ctx context.Context) (commit, tree string, err error) {
	commit, err = c.gitOut(ctx, RunOpts{}, "rev-parse", "-q", "--verify", "HEAD^{commit}")
	if err != nil {
		if ExitCode(err) == 1 && commit == "" {
			return "", "", nil // unborn branch
		}
		return "", "", fmt.Errorf("read HEAD: %w", err)
	}
	tree, err = c.gitOut(ctx, RunOpts{}, "rev-parse", commit+"^{tree}")
	if err != nil {
		return "", "", fmt.Errorf("read HEAD's tree: %w", err)
	}
	return commit, tree, nil
}

// privateIndex prepares a private index file in the git directory that
// holds HEAD's tree, with the real index's stat cache where it can be had
// (so `add` need not hash every unchanged file again). On an unborn branch
// it is empty: whatever the person staged must not enter the first commit.
func (c *Committer) privateIndex(ctx context.Context, head string) (string, func(), error) {
	n := c.seq.Add(1)
	p := filepath.Join(c.repo.gitDir, fmt.Sprintf("%s%d-%d", privateIndexPrefix, os.Getpid(), n))
	cleanup := func() {
		os.Remove(p)
		os.Remove(p + ".lock")
	}
	if head == "" {
		return p, cleanup, nil // git reads a missing index file as empty
	}
	idxEnv := RunOpts{Env: []string{"GIT_INDEX_FILE=" + p}}
	err := copyFile(filepath.Join(c.repo.gitDir, "index"), p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, err := c.git.Run(ctx, idxEnv, "read-tree", head); err != nil {
			return p, cleanup, fmt.Errorf("read HEAD into private index: %w", err)
		}
		return p, cleanup, nil
	case err != nil:
		return p, cleanup, fmt.Errorf("copy index: %w", err)
	}
	if c.repo.shared() {
		// Drop what the person staged outside memory/ (and inside it: add
		// sets memory/ from the work tree anyway). A path-limited reset
		// keeps the stat data of entries equal to HEAD, and touches no ref.
		if _, err := c.git.Run(ctx, idxEnv, "reset", "-q", "--", "."); err != nil {
			return p, cleanup, fmt.Errorf("reset private index: %w", err)
		}
	}
	return p, cleanup, nil
}

// add stages everything under spec into the private index, retrying when a
// path vanished between git listing and reading it.
func (c *Committer) add(ctx context.Context, o RunOpts, spec string) error {
	for try := 0; ; try++ {
		_, err := c.git.Run(ctx, o, "add", "-A", "--", spec)
		if err == nil {
			return nil
		}
		if ExitCode(err) != 128 || try >= addRetries || ctx.Err() != nil {
			return fmt.Errorf("add %s: %w", spec, err)
		}
		c.log.Debug().Err(err).Int("try", try+1).Msg("git add failed (a path vanished?); retrying")
		t := time.NewTimer(time.Duration(10*(try+1)) * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("add %s: %w", spec, ctx.Err())
		case <-t.C:
		}
	}
}

// refreshIfStale refreshes the real index when an earlier refresh failed or
// when it still differs from HEAD under memory/ (staged or "deleted"
// entries).
func (c *Committer) refreshIfStale(ctx context.Context, head string) error {
	if head == "" {
		return nil
	}
	if !c.needRefresh.Load() {
		_, err := c.git.Run(ctx, RunOpts{}, "diff-index", "--cached", "--quiet", head, "--", c.repo.spec())
		if err == nil {
			return nil
		}
		if ExitCode(err) != 1 {
			return fmt.Errorf("compare index with HEAD: %w", err)
		}
	}
	return c.refreshIndex(ctx)
}

// refreshIndex sets the real index's entries under memory/ to HEAD's (with
// fresh stat data), so that nothing of memory/ is staged or shows as deleted
// after a commit made elsewhere. `git reset -- paths` takes git's own
// index.lock, so it is safe beside a person's git; the person's staged paths
// outside memory/ are left alone.
func (c *Committer) refreshIndex(ctx context.Context) error {
	if err := c.busy(); err != nil {
		c.needRefresh.Store(true)
		return err
	}
	lock := filepath.Join(c.repo.gitDir, "index.lock")
	err := c.withOwnedLocks([]string{lock}, func() error {
		_, err := c.git.Run(ctx, RunOpts{NoCancel: true}, "reset", "-q", "--", c.repo.spec())
		return err
	})
	if err != nil {
		c.needRefresh.Store(true)
		if isLockError(err) {
			return fmt.Errorf("%w: %v", ErrBusy, err)
		}
		return fmt.Errorf("refresh index: %w", err)
	}
	c.needRefresh.Store(false)
	return nil
}

// copyFile copies src to dst (created or truncated).
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// maintenanceEvery and maintenanceInterval schedule `git maintenance run
// --auto`, which elfsync's commands otherwise keep from running by
// themselves (gc.auto=0).
const (
	maintenanceEvery    = 500
	maintenanceInterval = 24 * time.Hour
)

// maintain runs git's own housekeeping with the user's gc settings, in the
// foreground (no detached gc outliving elfsync), and resets the schedule.
func (c *Committer) maintain(ctx context.Context) {
	start := time.Now()
	// Not cancellable: a gc killed half-way can leave packed-refs.lock
	// behind, which would break the person's ref updates.
	o := RunOpts{KeepGC: true, NoCancel: true}
	_, err := c.git.Run(ctx, o, "-c", "gc.autoDetach=false", "-c", "maintenance.autoDetach=false",
		"maintenance", "run", "--auto", "--quiet")
	var ge *GitError
	if err != nil && errors.As(err, &ge) && strings.Contains(ge.Stderr, "is not a git command") {
		// git before 2.29 has no maintenance command.
		_, err = c.git.Run(ctx, o, "-c", "gc.autoDetach=false", "gc", "--auto", "--quiet")
	}
	if err != nil {
		c.log.Warn().Err(err).Msg("git maintenance failed; retrying at the next scheduled run")
	} else {
		c.log.Info().Float64("took_ms", ms(time.Since(start))).Msg("git maintenance done")
	}
	if werr := c.updateState(func(s *persisted) {
		s.CommitsSinceMaintenance = 0
		s.LastMaintenance = time.Now().UTC()
	}); werr != nil {
		c.log.Warn().Err(werr).Msg("record maintenance")
	}
}
