package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/emergent-learning/elfsync/layout"
	"github.com/emergent-learning/elfsync/query"
	"github.com/emergent-learning/elfsync/record"
)

func cmdSearch(ctx context.Context, e *cmdEnv, args []string) error {
	fs, rootFlag := e.newFlagSet("search", "[flags] QUERY...", `
Search the memory: FTS5 full-text search over titles, summaries, rules and
bodies, ranked by BM25 (a word in a title or a rule counts most). Prints
each hit's rank, type, title, path and a snippet with the matched words
between ** marks.

Plain words must all match; if together they match nothing, any of them
may. Punctuation, '-', ':' and quotes in plain words are just text. FTS5
syntax passes through when used: "a phrase", prefix*, AND, OR, NOT and
free-standing ( ) for grouping. A query FTS5 rejects exits 2.

Examples:
  elfsync search database locked
  elfsync search --type failure --since 7d "git index.lock"
  elfsync search --domain sqlite --json 'busy* OR wal'`)
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
		if q.Since, err = parseSince(*since, e.now()); err != nil {
			return usagef("search: %w", err)
		}
	}
	root, err := e.resolveRoot(*rootFlag)
	if err != nil {
		return mark(errUsage, err)
	}
	if err := existingRoot(root); err != nil {
		return err
	}
	db, err := query.Open(ctx, root)
	if err != nil {
		return permissionHint(root, err)
	}
	defer db.Close()
	hits, err := db.Search(ctx, q)
	if errors.Is(err, query.ErrBadQuery) {
		return mark(errUsage, err)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if hits == nil {
			hits = []query.Hit{}
		}
		return enc.Encode(struct {
			Query string      `json:"query"`
			Hits  []query.Hit `json:"hits"`
		}{q.Text, hits})
	}
	printHits(e.stdout, hits)
	if len(hits) == 0 {
		fmt.Fprintln(e.stderr, "no matches")
	}
	return nil
}

// printHits prints hits for a person.
func printHits(w io.Writer, hits []query.Hit) {
	for _, h := range hits {
		fmt.Fprintf(w, "%2d. %-11s %s\n", h.Rank, h.Type, h.Title)
		var facts []string
		if h.Domain != "" {
			facts = append(facts, h.Domain)
		}
		if len(h.Created) >= 10 {
			facts = append(facts, h.Created[:10])
		}
		facts = append(facts, h.Ref)
		fmt.Fprintf(w, "    %s  (%s)\n", h.Path, strings.Join(facts, "; "))
		if h.Snippet != "" {
			fmt.Fprintf(w, "    %s\n", h.Snippet)
		}
	}
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

// parseSince reads --since: a date, an RFC 3339 time, or a duration back
// from now (Go durations, plus d for days and w for weeks).
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if n := len(s); n > 1 && (s[n-1] == 'd' || s[n-1] == 'w') {
		if v, err := strconv.Atoi(s[:n-1]); err == nil && v >= 0 {
			day := 24 * time.Hour
			if s[n-1] == 'w' {
				day *= 7
			}
			return now.Add(-time.Duration(v) * day), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want a date (2026-11-01), an RFC 3339 time or a duration (36h, 7d, 2w)", s)
}
