package main

import (
	"context"
	"errors"
	"runtime/debug"
	"time"

	"github.com/emergent-learning/elfsync/doctor"
	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/layout"
	"github.com/emergent-learning/elfsync/remote"
	"github.com/emergent-learning/elfsync/status"
)

func cmdStatus(ctx context.Context, e *cmdEnv, args []string) error {
	fs, rootFlag := e.newFlagSet("status", "[flags]")
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
	if err := e.print(*asJSON, rep); err != nil {
		return err
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
		return rep, layout.NoMemoryError(root)
	case err != nil:
		return rep, mark(errCannotCheck, doctor.Explain(root, err))
	}
	if rs != nil {
		r := status.Remote(*rs)
		rep.Remote = &r
	}
	rep.Conflicts = []status.Conflict{}
	for _, c := range remote.ConflictsAt(root, rep.ConflictPaths) {
		rep.Conflicts = append(rep.Conflicts, status.Conflict(c))
	}
	return rep, nil
}
