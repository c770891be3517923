package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/layout"
	"github.com/emergent-learning/elfsync/record"
)

func cmdCheck(_ context.Context, e *cmdEnv, args []string) error {
	fs, rootFlag := e.newFlagSet("check", "[flags] FILE...")
	maxSize := fs.Int64("max-size", frontmatter.DefaultMaxSize, "largest record file accepted, in bytes")
	if err := e.parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("check: name a file: elfsync check FILE...")
	}
	root, err := e.resolveRoot(*rootFlag)
	if err != nil {
		return err
	}
	mem := filepath.Join(root, layout.MemoryDir)
	bad := 0
	for _, name := range fs.Args() {
		r, err := record.ReadPath(mem, name, *maxSize)
		if err != nil {
			bad++
			fmt.Fprintf(e.stdout, "%s: invalid: %v\n", name, err)
			continue
		}
		fmt.Fprintf(e.stdout, "%s: ok (%s)\n", name, r.Type)
		record.WriteFields(e.stdout, r)
	}
	if bad > 0 {
		return mark(errNotInSync, nil)
	}
	return nil
}
