package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/emergent-learning/elfsync/doctor"
	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/layout"
	"github.com/emergent-learning/elfsync/remote"
	"github.com/emergent-learning/elfsync/status"
)

func cmdStatus(ctx context.Context, e *cmdEnv, args []string) error {
	fs, rootFlag := e.newFlagSet("status", "[flags]", `
Show drift at a glance: record files against index rows (missing, orphan
and stale rows), invalid files with their errors, paths under memory/ not
yet committed, the last commit and git error, and whether a watcher runs.
It changes nothing.

Drift that a running watcher has not caught up with yet, within the
deadlines it publishes (its settle time for the index, its quiet period and
--max-wait for git), is pending, not drift: it is listed under pending and
status exits 0. --wait blocks until everything is in sync (or the time is
up) and then reports.

Exit status: 0 in sync, or only pending work; 1 drift (rows or commits
behind the files); 2 error. Invalid files are reported but are not drift.`)
	asJSON := fs.Bool("json", false, "print one JSON object")
	noGit := fs.Bool("no-git", false, "leave git out of the report")
	maxSize := fs.Int64("max-size", frontmatter.DefaultMaxSize, "the --max-size the index was built with")
	wait := fs.Duration("wait", 0, "wait up to this long (e.g. 30s) for everything to be in sync, then report")
	root, err := e.parseRoot(fs, args, rootFlag)
	if err != nil {
		return err
	}
	// A one-shot read of a few MiB of live heap: collecting at 5x the live
	// heap instead of 2x spares it the collections (and their stop-the-
	// world pauses) it would otherwise run mid-walk. The soft memory
	// limit main sets still bounds the heap.
	debug.SetGCPercent(400)
	deadline := time.Now().Add(*wait)
	rep, err := readStatus(ctx, root, *maxSize, !*noGit)
	for err == nil && !rep.InSync && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		rep, err = readStatus(ctx, root, *maxSize, !*noGit)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		if err := rep.WriteJSON(e.stdout); err != nil {
			return err
		}
	} else {
		rep.WriteText(e.stdout)
	}
	if !rep.InSync && !rep.OnlyPending {
		return errNotInSync
	}
	return nil
}

// readStatus is status.Read with its errors marked for exitCode, the
// remote's state and the conflict copies (found in the index check's walk).
func readStatus(ctx context.Context, root string, maxSize int64, withGit bool) (status.Report, error) {
	// The remote's state (git rev-list, when memory/ was ever synced)
	// is read beside the rest.
	remoteDone := make(chan *remote.Status, 1)
	go func() {
		rs, err := remote.ReadStatus(ctx, root)
		if err != nil {
			rs = nil
		}
		remoteDone <- rs
	}()
	rep, err := status.ReadWith(ctx, root, status.Options{MaxSize: maxSize, Git: withGit, ConflictCopy: remote.IsConflictCopyName})
	rs := <-remoteDone
	switch {
	case errors.Is(err, status.ErrNoMemory):
		return rep, mark(errNoRoot, fmt.Errorf("root %s has no memory folder yet; to create it, run: elfsync init --root %s", root, shellQuote(root)))
	case err != nil:
		return rep, mark(errCannotCheck, permissionHint(root, err))
	}
	if rs != nil {
		r := status.Remote(*rs)
		rep.Remote = &r
	}
	rep.Conflicts = conflictEntries(root, rep.ConflictPaths)
	return rep, nil
}

// permissionHint adds to err, when the memory folder cannot be written,
// that this is why (SQLite needs to write beside the index even to read
// it, and says only "attempt to write a readonly database" or "unable to
// open database file").
func permissionHint(root string, err error) error {
	if werr := doctor.Writable(filepath.Join(root, layout.MemoryDir)); werr != nil && !errors.Is(werr, fs.ErrNotExist) {
		return fmt.Errorf("%w (%v: give the user that runs elfsync write permission on it)", err, werr)
	}
	return err
}

// conflictCopies lists the conflict copies under root's memory/ with the
// command that resolves each (after keeping what is wanted of it in the
// file it names), walking memory/ for them (status finds them in its
// index check's walk instead).
func conflictCopies(root string) []status.Conflict {
	var paths []string
	for _, p := range remote.ConflictCopies(root) {
		rel, _ := filepath.Rel(root, p)
		paths = append(paths, filepath.ToSlash(rel))
	}
	return conflictEntries(root, paths)
}

// conflictEntries turns conflict copies (root-relative paths) into status
// entries.
func conflictEntries(root string, paths []string) []status.Conflict {
	out := []status.Conflict{}
	for _, rel := range paths {
		p := filepath.Join(root, filepath.FromSlash(rel))
		out = append(out, status.Conflict{Path: rel, Resolve: "rm -- " + shellQuote(p)})
	}
	return out
}
