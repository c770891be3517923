package query

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestRelevance(t *testing.T) {
	db := buildIndex(t, corpus)
	tests := []struct {
		query string
		q     Query
		first string // path that must rank first
	}{
		{query: "database is locked", first: "memory/failures/20261101_sqlite-busy.md"},
		{query: "busy timeout", first: "memory/heuristics/sqlite-busy-timeout.md"},
		{query: "concurrent inserts", first: "memory/failures/20261101_sqlite-busy.md"},
		{query: "index.lock", first: "memory/failures/20261102_git-index-lock.md"},
		{query: "heredoc retry", first: "memory/failures/20261103_heredoc.md"},
		{query: "norway", first: "memory/failures/20261104_yaml-norway.md"},
		{query: "build cache", first: "memory/successes/20261105_parallel-cache.md"},
		{query: "wal", first: "memory/successes/20261106_wal.md"},
		{query: "lock*", q: Query{Type: "heuristic"}, first: "memory/heuristics/git-never-delete-foreign-lock.md"},
		{query: "commits", q: Query{Type: "heuristic"}, first: "memory/heuristics/git-batch-commits.md"},
		{query: `"YAML 1.2"`, q: Query{Type: "heuristic"}, first: "memory/heuristics/yaml-one-two.md"},
		{query: "index", q: Query{Type: "experiment"}, first: "memory/experiments/20261108_trigram.md"},
		// Words that do not all match fall back to any of them.
		{query: "cgo toolchain zebra", first: "memory/decisions/20261109_pure-go.md"},
		// A title word outranks the same word in a body.
		{query: "trigram", first: "memory/experiments/20261108_trigram.md"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q := tt.q
			q.Text = tt.query
			hits, err := db.Search(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) == 0 {
				t.Fatalf("no hits; want %s first", tt.first)
			}
			if hits[0].Path != tt.first {
				var got []string
				for _, h := range hits {
					got = append(got, h.Path)
				}
				t.Errorf("first hit %s; want %s (all: %v)", hits[0].Path, tt.first, got)
			}
		})
	}
}

func TestSearchFilters(t *testing.T) {
	db := buildIndex(t, corpus)
	ctx := context.Background()
	count := func(q Query) []Hit {
		t.Helper()
		hits, err := db.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return hits
	}
	for _, h := range count(Query{Text: "lock OR locked OR commit OR sqlite", Domain: "GIT"}) {
		if h.Domain != "git" {
			t.Errorf("domain filter let %s (%s) through", h.Path, h.Domain)
		}
	}
	if hits := count(Query{Text: "sqlite OR wal OR busy", Tags: []string{"concurrency", "database"}}); len(hits) != 1 || hits[0].Path != "memory/failures/20261101_sqlite-busy.md" {
		t.Errorf("tags filter: got %v; want only the sqlite-busy failure", paths(hits))
	}
	since := time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)
	for _, h := range count(Query{Text: "sqlite OR wal OR cache OR build", Since: since}) {
		if h.Created < "2026-11-05" {
			t.Errorf("since filter let %s (created %s) through", h.Path, h.Created)
		}
	}
	if hits := count(Query{Text: "sqlite OR git OR yaml OR the", Limit: 2}); len(hits) != 2 {
		t.Errorf("limit 2 gave %d hits", len(hits))
	}
	hits := count(Query{Text: "busy timeout"})
	if len(hits) == 0 || !strings.Contains(hits[0].Snippet, "**busy**") {
		t.Errorf("snippet does not mark the match: %+v", hits)
	}
	if hits[0].Rank != 1 || hits[0].Score <= 0 {
		t.Errorf("rank %d score %v; want 1 and a positive score", hits[0].Rank, hits[0].Score)
	}
}

func paths(hits []Hit) []string {
	var p []string
	for _, h := range hits {
		p = append(p, h.Path)
	}
	return p
}

// TestHostileQueries: what agents paste must never be an FTS5 syntax error.
func TestHostileQueries(t *testing.T) {
	db := buildIndex(t, corpus)
	for _, q := range []string{
		`error: database is locked`, `"unbalanced quote`, `a-b-c`, `--force`, `-`,
		`title:foo`, `NEAR(a b)`, `^start`, `c++ && rm -rf /`, `'; DROP TABLE learnings; --`,
		`{"json": [1,2]}`, `col:val "x" y*`, `don't`, `(parens)`, `100%`, `a*b`, "tab\there",
		`ünïcödé 日本語`, `*`, `x OR`, `AND`, `"" lock`, strings.Repeat("word ", 60),
	} {
		t.Run(q, func(t *testing.T) {
			_, err := db.Search(context.Background(), Query{Text: q})
			if err != nil && !errors.Is(err, ErrBadQuery) {
				t.Fatalf("error is not ErrBadQuery: %v", err)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
	// Plain text never fails. FTS5 reads its expression as a C string, so
	// a NUL (which MCP arguments can carry) once ended it mid-quote.
	for _, q := range []string{`error: database is locked`, `a-b-c`, `title:foo`, `'; DROP TABLE learnings; --`, `don't`, `100%`, `c++ && rm -rf /`, "busy\x00 timeout", "wal\x00", "\x00\"x", "tab\tand\x1b[31mcolour"} {
		if _, err := db.Search(context.Background(), Query{Text: q}); err != nil {
			t.Errorf("%q: %v", q, err)
		}
	}
	// Syntax the user got wrong is a one-line ErrBadQuery.
	for _, q := range []string{`x OR`, `( lock`, `NOT`} {
		_, err := db.Search(context.Background(), Query{Text: q})
		if !errors.Is(err, ErrBadQuery) {
			t.Errorf("%q: got %v; want ErrBadQuery", q, err)
		}
	}
}

func TestBuildMatch(t *testing.T) {
	tests := []struct{ in, expr string }{
		{`busy timeout`, `"busy" "timeout"`},
		{`error: locked`, `"error:" "locked"`},
		{`lock*`, `"lock"*`},
		{`"a b" OR c`, `"a b" OR "c"`},
		{`say "hi`, `"say" "\"hi"`},
		{`x"y`, `"x""y"`},
		{`( a OR b ) NOT c`, `( "a" OR "b" ) NOT "c"`},
		{`- : a`, `"a"`},
	}
	for _, tt := range tests {
		m, err := buildMatch(tt.in)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		want := strings.ReplaceAll(tt.expr, `\"`, `"`)
		if tt.in == `say "hi` {
			want = `"say" """hi"`
		}
		if m.expr != want {
			t.Errorf("buildMatch(%q) = %s; want %s", tt.in, m.expr, want)
		}
	}
	if _, err := buildMatch("- : ; !"); !errors.Is(err, ErrBadQuery) {
		t.Errorf("no words: got %v; want ErrBadQuery", err)
	}
}

// TestFilteredBeyondWindow: a filter that only matches hits ranked far
// down still finds them (the join over every match), and agrees with the
// cheap path where both apply.
func TestFilteredBeyondWindow(t *testing.T) {
	files := map[string]string{}
	for i := range 260 {
		files[fmt.Sprintf("failures/a%03d.md", i)] = fmt.Sprintf("---\ntitle: Common common note %d\ndomain: a\n---\ncommon\n", i)
	}
	for i := range 3 {
		files[fmt.Sprintf("failures/b%d.md", i)] = fmt.Sprintf("---\ntitle: Rare note %d\ndomain: b\ntags: [x]\n---\n%s common\n", i, strings.Repeat("filler words ", 200))
	}
	db := buildIndex(t, files)
	hits, err := db.Search(context.Background(), Query{Text: "common", Domain: "B", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 || hits[0].Domain != "b" || hits[1].Domain != "b" {
		t.Fatalf("domain b beyond the window: %v", paths(hits))
	}
	hits, err = db.Search(context.Background(), Query{Text: "common", Tags: []string{"X"}, Limit: 5})
	if err != nil || len(hits) != 3 {
		t.Fatalf("tag x: %v %v", err, paths(hits))
	}
	hits, err = db.Search(context.Background(), Query{Text: "common", Domain: "a", Limit: 3})
	if err != nil || len(hits) != 3 || hits[0].Domain != "a" {
		t.Fatalf("domain a within the window: %v %v", err, paths(hits))
	}
}
