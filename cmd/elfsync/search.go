package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/emergent-learning/elfsync/doctor"
	"github.com/emergent-learning/elfsync/layout"
	"github.com/emergent-learning/elfsync/query"
	"github.com/emergent-learning/elfsync/record"
)

func cmdSearch(ctx context.Context, e *cmdEnv, args []string) error {
	fs, rootFlag := e.newFlagSet("search", "[flags] QUERY...")
	typ := fs.String("type", "", "keep one type: failure, success, heuristic, observation, experiment, decision")
	domain := fs.String("domain", "", "keep one domain")
	tags := fs.String("tags", "", "keep records that carry all these tags (comma-separated)")
	limit := fs.Int("limit", query.DefaultLimit, fmt.Sprintf("at most this many hits (1-%d)", query.MaxLimit))
	since := fs.String("since", "", "keep records created since a date (2026-11-01) or for a duration (36h, 7d, 2w)")
	asJSON := fs.Bool("json", false, "print JSON for scripts")
	words, err := e.parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(words) == 0 {
		return usagef("search: give a query, e.g. elfsync search database locked")
	}
	if *limit < 1 || *limit > query.MaxLimit {
		return usagef("search: --limit %d: want 1-%d", *limit, query.MaxLimit)
	}
	q := query.Query{Text: strings.Join(words, " "), Domain: *domain, Tags: record.SplitTags(*tags), Limit: *limit}
	if *typ != "" {
		if q.Type = layout.TypeWord(*typ); q.Type == "" {
			return usagef("search: --type %q: want one of %s", *typ, layout.Types(", "))
		}
	}
	if *since != "" {
		if q.Since, err = query.ParseSince(*since, e.now()); err != nil {
			return usagef("search: %w", err)
		}
	}
	root, err := e.resolveRoot(*rootFlag)
	if err != nil {
		return mark(errUsage, err)
	}
	if err := layout.CheckRoot(root); err != nil {
		return err
	}
	db, err := query.Open(ctx, root)
	if err != nil {
		return doctor.Explain(root, err)
	}
	defer db.Close()
	hits, err := db.Search(ctx, q)
	if errors.Is(err, query.ErrBadQuery) {
		return mark(errUsage, err)
	}
	if err != nil {
		return err
	}
	if n, err := db.SearchPending(ctx); err == nil && n > 0 {
		fmt.Fprintf(e.stderr, "full text incomplete: %d records not yet searchable (written right after the rows; `elfsync scan` completes it)\n", n)
	}
	if *asJSON {
		return query.WriteHitsJSON(e.stdout, q.Text, hits)
	}
	query.WriteHits(e.stdout, hits)
	if len(hits) == 0 {
		fmt.Fprintln(e.stderr, "no matches")
	}
	return nil
}

// parseInterleaved parses flags that may come before, between or after the
// positional words, and returns the words. Everything after "--" is a word.
func (e *cmdEnv) parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var words, rest []string
	for i, a := range args {
		if a == "--" {
			rest = args[i+1:]
			args = args[:i]
			break
		}
	}
	for {
		if err := e.parseFlags(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		words = append(words, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return append(words, rest...), nil
}
