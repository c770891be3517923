package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/emergent-learning/elfsync/layout"
	"github.com/emergent-learning/elfsync/record"
)

func cmdList(ctx context.Context, e *cmdEnv, args []string) error {
	set, rootFlag := e.newFlagSet("list", "[flags]")
	typ := set.String("type", "", "only this type ("+layout.Types(", ")+"; plural folders too)")
	domain := set.String("domain", "", "only this domain (any case)")
	root, err := e.parseRoot(set, args, rootFlag)
	if err != nil {
		return err
	}
	want := layout.TypeWord(*typ)
	if *typ != "" && want == "" {
		return usagef("list: unknown type %q (want %s)", *typ, layout.Types(", "))
	}
	invalid, err := record.List(ctx, e.stdout, filepath.Join(root, layout.MemoryDir), want, *domain)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	if invalid > 0 {
		fmt.Fprintf(e.stderr, "%s not listed (see elfsync status)\n", count(invalid, "invalid file"))
	}
	return nil
}
