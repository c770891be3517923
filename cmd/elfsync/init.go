package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/layout"
)

func cmdInit(ctx context.Context, e *cmdEnv, args []string) error {
	fs, rootFlag := e.newFlagSet("init", "[flags]")
	var gf gitFlags
	gf.register(fs, false)
	root, err := e.parseAnyRoot(fs, args, rootFlag)
	if err != nil {
		return err
	}
	_, statErr := os.Stat(filepath.Join(root, layout.MemoryDir))
	for _, k := range layout.Kinds {
		if err := os.MkdirAll(filepath.Join(root, layout.MemoryDir, k.Folder), 0o755); err != nil {
			return fmt.Errorf("init: %w", err)
		}
	}
	log := zerolog.Nop()
	ix, err := openIndex(ctx, root, frontmatter.DefaultMaxSize, log)
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	defer ix.Close()
	sum, err := gf.once(ctx, root, log, ix, nil)
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	vcs := "git off (--no-git)"
	if sum.Committed != nil {
		vcs = "a git repository"
	}
	what := "created"
	if statErr == nil {
		what = "already there; checked"
	}
	fmt.Fprintf(e.stdout, "%s %s: memory/ with a folder per type, the index (%s) and %s\n",
		what, root, count(sum.Added+sum.Unchanged+sum.Updated, "record"), vcs)
	fmt.Fprintf(e.stdout, "next: elfsync watch --root %s   (or install the service: see README)\n", layout.ShellQuote(root))
	return nil
}
