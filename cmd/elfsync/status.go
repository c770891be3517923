package main

import (
	"context"
	"errors"
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

// readStatus is status.Read with its errors marked for exitCode.
func readStatus(ctx context.Context, root string, maxSize int64, withGit bool) (status.Report, error) {
	rep, err := status.Read(ctx, root, maxSize, withGit)
	switch {
	case errors.Is(err, status.ErrNoMemory):
		return rep, layout.NoMemoryError(root)
	case err != nil:
		return rep, mark(errCannotCheck, doctor.Explain(root, err))
	}
	if rs, err := remote.ReadStatus(ctx, root); err == nil && rs != nil {
		r := status.Remote(*rs)
		rep.Remote = &r
	}
	rep.Conflicts = []status.Conflict{}
	for _, c := range remote.Conflicts(root) {
		rep.Conflicts = append(rep.Conflicts, status.Conflict(c))
	}
	return rep, nil
}
