package mcpserver

import (
	"context"
	"time"

	"github.com/emergent-learning/elfsync/edit"
	"github.com/emergent-learning/elfsync/update"
)

// Files is the Recorder and Counter that `elfsync mcp` passes: it writes
// through package update, exactly as `elfsync record` and `elfsync
// heuristic` do (files only; indexed at once when no watcher runs).
type Files struct {
	Root string
	// Now returns the created time of a new record (record.Now: $ELF_NOW
	// or the clock).
	Now func() (time.Time, error)
}

// Record writes a new record of type typ from fields.
func (f Files) Record(ctx context.Context, typ string, fields map[string]string) (Written, error) {
	now, err := f.Now()
	if err != nil {
		return Written{}, err
	}
	r, err := update.Record(ctx, f.Root, typ, fields, now)
	if err != nil {
		return Written{}, err
	}
	return Written{Path: r.Path, IndexedNow: r.IndexedNow, WatcherPID: r.WatcherPID}, nil
}

// Bump adds one to the heuristic ref's times_violated (violated) or
// times_validated.
func (f Files) Bump(ctx context.Context, ref string, violated bool) (Bumped, error) {
	c := edit.Validated
	if violated {
		c = edit.Violated
	}
	b, err := update.Bump(ctx, f.Root, ref, c)
	if err != nil {
		return Bumped{}, err
	}
	return Bumped{Path: b.Path, TimesValidated: b.Validated, TimesViolated: b.Violated, IndexedNow: b.IndexedNow, WatcherPID: b.WatcherPID}, nil
}
