package main

import (
	"context"
	"time"

	"github.com/emergent-learning/elfsync/mcpserver"
	"github.com/emergent-learning/elfsync/record"
	"github.com/emergent-learning/elfsync/version"
)

func cmdMCP(ctx context.Context, e *cmdEnv, args []string) error {
	fs, rootFlag := e.newFlagSet("mcp", "[--root ROOT]")
	root, log, err := e.parseService(fs, args, rootFlag)
	if err != nil {
		return err
	}
	w := mcpserver.Files{Root: root, Now: func() (time.Time, error) { return record.Now(e.getenv, e.now()) }}
	srv := mcpserver.New(mcpserver.Options{Root: root, Recorder: w, Counter: w, Version: version.Short(), Logger: log})
	return srv.Run(ctx, e.stdin, e.stdout)
}
