package main

import (
	"context"
	"fmt"

	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/remote"
)

// cmdMergeDriver is git's merge driver for memory files, registered in
// memory/'s repository config by `sync` and `watch --remote` (hidden from
// the command list: git calls it, people do not).
func cmdMergeDriver(ctx context.Context, e *cmdEnv, args []string) error {
	if len(args) != 4 {
		return usagef("merge-driver takes BASE OURS THEIRS PATH (git's %%O %%A %%B %%P)")
	}
	if err := remote.DriverMerge(ctx, args[0], args[1], args[2], args[3], frontmatter.DefaultMaxSize); err != nil {
		return fmt.Errorf("merge-driver %s: %w", args[3], err)
	}
	return nil
}
