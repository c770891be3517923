package query

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"modernc.org/sqlite"

	"github.com/emergent-learning/elfsync/indexer"
)

// Query is a full-text search.
type Query struct {
	// Text is what to look for: plain words, or FTS5 syntax (see buildMatch).
	Text string
	// Type keeps one record type (failure, success, heuristic, ...).
	Type string
	// Domain keeps one domain (case-insensitive).
	Domain string
	// Tags keeps records that carry every one of these tags.
	Tags []string
	// Since keeps records created at or after this time.
	Since time.Time
	// Limit bounds the hits; 0 means DefaultLimit.
	Limit int
}

// DefaultLimit and MaxLimit bound Query.Limit.
const (
	DefaultLimit = 10
	MaxLimit     = 1000
)

// Hit is one search result.
type Hit struct {
	Rank  int     `json:"rank"`  // 1 for the best
	Score float64 `json:"score"` // BM25 relevance, higher is better
	Item
	Snippet string `json:"snippet"`
}

// Search runs q and returns its hits, best first. Plain words must all
// match; when together they match nothing, any of them may (the hits are
// still ranked by BM25, so those matching most words come first). A query
// FTS5 rejects returns an error wrapping ErrBadQuery.
func (d *DB) Search(ctx context.Context, q Query) ([]Hit, error) {
	m, err := buildMatch(q.Text)
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	tags, _ := json.Marshal(nonNil(q.Tags))
	since := ""
	if !q.Since.IsZero() {
		since = q.Since.UTC().Format("2006-01-02 15:04:05")
	}
	filtered := q.Type != "" || q.Domain != "" || since != "" || len(q.Tags) > 0
	tx, err := d.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	run := func(expr string) ([]Item, []float64, error) {
		if !filtered {
			items, scores, err := queryItemsIn(ctx, tx, sqlSearchTop,
				Weights.Title, Weights.Summary, Weights.Body, Weights.Rule, expr, limit)
			return items, scores, ftsError(err, q.Text)
		}
		// Filtered: look among the best matches first, which is cheap;
		// only when they hold too few that pass, join every match.
		window := max(limit*20, 200)
		items, scores, err := queryItemsIn(ctx, tx, sqlSearchTop,
			Weights.Title, Weights.Summary, Weights.Body, Weights.Rule, expr, window)
		if err != nil {
			return nil, nil, ftsError(err, q.Text)
		}
		var keptItems []Item
		var keptScores []float64
		for i, it := range items {
			if len(keptItems) < limit && q.keeps(it, since) {
				keptItems = append(keptItems, it)
				keptScores = append(keptScores, scores[i])
			}
		}
		if len(keptItems) == limit || len(items) < window {
			return keptItems, keptScores, nil
		}
		items, scores, err = queryItemsIn(ctx, tx, sqlSearch,
			Weights.Title, Weights.Summary, Weights.Body, Weights.Rule,
			expr, strings.ToLower(q.Type), q.Domain, since, string(tags), limit)
		return items, scores, ftsError(err, q.Text)
	}
	items, scores, err := run(m.expr)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 && m.or != "" {
		if items, scores, err = run(m.or); err != nil {
			return nil, err
		}
	}
	hits := make([]Hit, len(items))
	for i, it := range items {
		hits[i] = Hit{Rank: i + 1, Score: -scores[i], Item: it}
		hits[i].Snippet = snippet(m, it.Summary, it.Rule, it.Explain, d.body(it.Path))
	}
	return hits, nil
}

// keeps is sqlSearch's filter in Go: it must say what the SQL says.
func (q Query) keeps(it Item, since string) bool {
	if q.Type != "" && !strings.EqualFold(it.Type, q.Type) {
		return false
	}
	if q.Domain != "" && !strings.EqualFold(it.Domain, q.Domain) {
		return false
	}
	if since != "" && it.Created < since {
		return false
	}
	for _, want := range q.Tags {
		found := false
		for _, t := range it.Tags {
			if strings.EqualFold(t, strings.TrimSpace(want)) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// ftsError turns an FTS5 syntax error into a one-line ErrBadQuery; nil
// stays nil.
func ftsError(err error, text string) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		msg := se.Error()
		if strings.Contains(msg, "fts5") || strings.Contains(msg, "syntax error") || strings.Contains(msg, "no such column") {
			// "SQL logic error: fts5: syntax error near ..." -> the part
			// after the last "fts5: ".
			if i := strings.LastIndex(msg, "fts5: "); i >= 0 {
				msg = msg[i+len("fts5: "):]
			}
			msg = errCodeRE.ReplaceAllString(msg, "")
			return fmt.Errorf("%w: %q: %s", ErrBadQuery, truncate(text, 80), oneLine(msg))
		}
	}
	return fmt.Errorf("search: %w", err)
}

// errCodeRE is the driver's " (1)" error code suffix.
var errCodeRE = regexp.MustCompile(`\s*\(\d+\)\s*$`)

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// SearchPending counts records that are in the index but not yet
// searchable: a scan writes their full-text entries right after their
// rows (see indexer.SearchPending).
func (d *DB) SearchPending(ctx context.Context) (int, error) {
	return indexer.SearchPending(ctx, d.db)
}
