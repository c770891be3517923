package main

import (
	"context"
	"fmt"
	"time"

	"github.com/emergent-learning/elfsync/edit"
	"github.com/emergent-learning/elfsync/mcpserver"
	"github.com/emergent-learning/elfsync/update"
	"github.com/emergent-learning/elfsync/version"
)

func cmdMCP(ctx context.Context, e *cmdEnv, args []string) error {
	fs, rootFlag := e.newFlagSet("mcp", "[--root ROOT]")
	root, log, err := e.parseService(fs, args, rootFlag)
	if err != nil {
		return err
	}
	w := mcpWriter{root: root, e: e}
	srv := mcpserver.New(mcpserver.Options{Root: root, Recorder: w, Counter: w, Version: version.Short(), Logger: log})
	return srv.Run(ctx, e.stdin, e.stdout)
}

// mcpWriter adapts package update (what `elfsync record` and `elfsync
// heuristic` do) to the MCP server's Recorder and Counter.
type mcpWriter struct {
	root string
	e    *cmdEnv
}

func (w mcpWriter) Record(ctx context.Context, typ string, fields map[string]string) (mcpserver.Written, error) {
	now := w.e.now()
	if v := w.e.getenv("ELF_NOW"); v != "" {
		var err error
		if now, err = time.Parse(time.RFC3339, v); err != nil {
			return mcpserver.Written{}, fmt.Errorf("ELF_NOW %q is not an RFC 3339 time", v)
		}
	}
	r, err := update.Record(ctx, w.root, typ, fields, now)
	if err != nil {
		return mcpserver.Written{}, err
	}
	return mcpserver.Written{Path: r.Path, IndexedNow: r.IndexedNow, WatcherPID: r.WatcherPID}, nil
}

func (w mcpWriter) Bump(ctx context.Context, ref string, violated bool) (mcpserver.Bumped, error) {
	c := edit.Validated
	if violated {
		c = edit.Violated
	}
	b, err := update.Bump(ctx, w.root, ref, c)
	if err != nil {
		return mcpserver.Bumped{}, err
	}
	return mcpserver.Bumped{Path: b.Path, TimesValidated: b.Validated, TimesViolated: b.Violated, IndexedNow: b.IndexedNow, WatcherPID: b.WatcherPID}, nil
}
