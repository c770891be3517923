package main

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/layout"
)

func cmdList(ctx context.Context, e *cmdEnv, args []string) error {
	set, rootFlag := e.newFlagSet("list", "[flags]", `
List the records under ROOT/memory, read from the files themselves: path,
type, domain and title, one per line, sorted by path. --type and --domain
narrow the list. Invalid files are counted at the end, not listed (elfsync
status and elfsync check show why).`)
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
	mem := filepath.Join(root, layout.MemoryDir)
	invalid := 0
	err = filepath.WalkDir(mem, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(mem, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && layout.Ignored(rel) {
				return fs.SkipDir
			}
			return ctx.Err()
		}
		if !layout.IsRecord(rel) {
			return nil
		}
		r, err := parseFile(p, rel, frontmatter.DefaultMaxSize)
		switch {
		case err != nil:
			invalid++
		case (want == "" || r.Type == want) && (*domain == "" || strings.EqualFold(r.Domain, *domain)):
			title := r.Title
			if r.Type == layout.TypeHeuristic {
				title = r.Rule // which defaults to the title
			}
			fmt.Fprintf(e.stdout, "%s\t%s\t%s\t%s\n", layout.RootRel(rel), r.Type, r.Domain, oneLine(title, 100))
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
