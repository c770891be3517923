package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/emergent-learning/elfsync/frontmatter"
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
	invalid := 0
	err = record.Walk(ctx, filepath.Join(root, layout.MemoryDir), frontmatter.DefaultMaxSize, func(rel string, r frontmatter.Record, err error) error {
		switch {
		case err != nil:
			invalid++
		case (want == "" || r.Type == want) && (*domain == "" || strings.EqualFold(r.Domain, *domain)):
			title := r.Title
			if r.Type == layout.TypeHeuristic {
				title = r.Rule // which defaults to the title
			}
			fmt.Fprintf(e.stdout, "%s\t%s\t%s\t%s\n", layout.RootRel(rel), r.Type, r.Domain, record.OneLine(title, 100))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	if invalid > 0 {
		fmt.Fprintf(e.stderr, "%s not listed (see elfsync status)\n", count(invalid, "invalid file"))
	}
	return nil
}
