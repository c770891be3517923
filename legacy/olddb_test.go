package legacy

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// legacySample is the old framework's index.db from the repository's
// testdata (a copy of the sample old install).
var legacySample = filepath.Join("..", "testdata", "elf-legacy", "memory", "index.db")

func TestReadLegacySample(t *testing.T) {
	// Work on a copy in a temp dir, and check the copy is not changed:
	// ReadDB opens read-only.
	dir := t.TempDir()
	path := filepath.Join(dir, "index.db")
	data, err := os.ReadFile(legacySample)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o444); err != nil {
		t.Fatal(err)
	}
	before := sha256.Sum256(data)

	db, err := ReadDB(context.Background(), path)
	if err != nil {
		t.Fatalf("ReadDB: %v", err)
	}
	if len(db.Warnings) != 0 {
		t.Errorf("warnings: %q, want none", db.Warnings)
	}
	if got, want := len(db.Learnings), 4; got != want {
		t.Fatalf("learnings: got %d rows, want %d", got, want)
	}
	l := db.Learnings[3]
	wantL := Learning{
		ID: 4, Type: "failure", Filepath: "auto-failures/failure_20251203_101500.md",
		Title: "Task tool failed: timeout", Summary: "Subagent timed out after 600s",
		Tags: "auto,timeout", Domain: "coordination", Severity: 3,
		Created: time.Date(2026, 11, 27, 16, 46, 6, 0, time.UTC),
	}
	if l != wantL {
		t.Errorf("learnings row 4:\n got %+v\nwant %+v", l, wantL)
	}
	if got, want := len(db.Heuristics), 3; got != want {
		t.Fatalf("heuristics: got %d rows, want %d", got, want)
	}
	h := db.Heuristics[0]
	if h.ID != 1 || h.Rule != "Never delete a lock file you did not create" || h.Domain != "git" ||
		h.TimesValidated != 12 || h.TimesViolated != 1 || !h.IsGolden ||
		h.Confidence == nil || *h.Confidence != 0.93 || h.SourceType != "observation" {
		t.Errorf("heuristic 1: got %+v (confidence %v)", h, deref(h.Confidence))
	}
	if h := db.Heuristics[1]; h.ID != 2 || h.TimesValidated != 3 || h.TimesViolated != 0 || h.IsGolden {
		t.Errorf("heuristic 2: got %+v", h)
	}

	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(after) != before {
		t.Error("ReadDB changed the old index")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("ReadDB left files beside the old index: %v", entries)
	}
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// TestReadLegacyTolerant checks that odd old databases are read as far as
// they go: tables or columns missing, values of the wrong type.
func TestReadLegacyTolerant(t *testing.T) {
	tests := []struct {
		name      string
		schema    []string
		learnings []Learning
		heurs     []Heuristic
		warnings  int
	}{
		{
			name:     "no tables",
			schema:   []string{`CREATE TABLE other (x)`},
			warnings: 2,
		},
		{
			name: "minimal columns",
			schema: []string{
				`CREATE TABLE learnings (id INTEGER PRIMARY KEY, title TEXT)`,
				`INSERT INTO learnings VALUES (7, 'only a title')`,
				`CREATE TABLE heuristics (id INTEGER PRIMARY KEY, rule TEXT, times_validated INTEGER)`,
				`INSERT INTO heuristics VALUES (2, 'r', 5)`,
			},
			learnings: []Learning{{ID: 7, Title: "only a title"}},
			heurs:     []Heuristic{{ID: 2, Rule: "r", TimesValidated: 5}},
			// learnings lacks 7 columns, heuristics lacks 7.
			warnings: 14,
		},
		{
			name: "loose types",
			schema: []string{
				`CREATE TABLE learnings (id, type, filepath, title, summary, tags, domain, severity, created_at)`,
				`INSERT INTO learnings VALUES (1, 'failure', 'memory/failures/a.md', 't', NULL, NULL, NULL, 'high', '2025-12-01')`,
				`CREATE TABLE heuristics (id, domain, rule, explanation, source_type, confidence, times_validated, times_violated, is_golden, created_at)`,
				`INSERT INTO heuristics VALUES (1, 'd', 'r', NULL, NULL, '0.7', '4', NULL, 'TRUE', '2025-12-01T10:00:00Z')`,
				`INSERT INTO heuristics VALUES (2, 'd', 's', NULL, NULL, 'much', 1.0, 2, 0, 'yesterday')`,
			},
			learnings: []Learning{{
				ID: 1, Type: "failure", Filepath: "memory/failures/a.md", Title: "t",
				Created: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC),
			}},
			heurs: []Heuristic{
				{ID: 1, Domain: "d", Rule: "r", Confidence: ptr(0.7), TimesValidated: 4, IsGolden: true,
					Created: time.Date(2025, 12, 1, 10, 0, 0, 0, time.UTC)},
				{ID: 2, Domain: "d", Rule: "s", TimesValidated: 1, TimesViolated: 2},
			},
			// severity 'high', confidence 'much', created_at 'yesterday'.
			warnings: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "index.db")
			db, err := sql.Open("sqlite", "file:"+path)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.schema {
				if _, err := db.Exec(s); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
			}
			db.Close()

			got, err := ReadDB(context.Background(), path)
			if err != nil {
				t.Fatalf("ReadDB: %v", err)
			}
			if len(got.Warnings) != tt.warnings {
				t.Errorf("warnings: got %d %q, want %d", len(got.Warnings), got.Warnings, tt.warnings)
			}
			if len(got.Learnings) != len(tt.learnings) {
				t.Fatalf("learnings: got %+v, want %+v", got.Learnings, tt.learnings)
			}
			for i := range got.Learnings {
				if got.Learnings[i] != tt.learnings[i] {
					t.Errorf("learning %d:\n got %+v\nwant %+v", i, got.Learnings[i], tt.learnings[i])
				}
			}
			if len(got.Heuristics) != len(tt.heurs) {
				t.Fatalf("heuristics: got %+v, want %+v", got.Heuristics, tt.heurs)
			}
			for i := range got.Heuristics {
				g, w := got.Heuristics[i], tt.heurs[i]
				if deref(g.Confidence) != deref(w.Confidence) {
					t.Errorf("heuristic %d confidence: got %v, want %v", i, deref(g.Confidence), deref(w.Confidence))
				}
				g.Confidence, w.Confidence = nil, nil
				if g != w {
					t.Errorf("heuristic %d:\n got %+v\nwant %+v", i, g, w)
				}
			}
		})
	}
}

func ptr(f float64) *float64 { return &f }

func TestReadLegacyErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadDB(context.Background(), filepath.Join(dir, "none.db")); !errors.Is(err, ErrMissing) {
		t.Errorf("missing file: got %v, want ErrMissing", err)
	}
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte("this is not a database, just some text that is long enough"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadDB(context.Background(), junk); err == nil {
		t.Error("not a database: got no error")
	}
	// A name with URI characters still opens.
	odd := filepath.Join(dir, "a?b#c%d.db")
	data, err := os.ReadFile(legacySample)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(odd, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadDB(context.Background(), odd)
	if err != nil || len(got.Learnings) != 4 {
		t.Errorf("odd name: got %d learnings, %v", len(got.Learnings), err)
	}
}

// TestReadLegacyWALCreatesNothing checks that an old index in WAL mode
// (whose -wal and -shm files are gone after a clean close) is read without
// leaving new files beside it, which a plain mode=ro open would.
func TestReadLegacyWALCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "index.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`PRAGMA journal_mode=WAL`,
		`CREATE TABLE heuristics (id INTEGER PRIMARY KEY, rule TEXT, times_validated INTEGER)`,
		`INSERT INTO heuristics VALUES (1, 'r', 4)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	if !isWALFile(path) {
		t.Fatal("test database is not in WAL mode")
	}
	list := func() []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	if got := list(); len(got) != 1 {
		t.Fatalf("before: %v", got)
	}
	got, err := ReadDB(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Heuristics) != 1 || got.Heuristics[0].TimesValidated != 4 {
		t.Errorf("heuristics: got %+v", got.Heuristics)
	}
	if names := list(); len(names) != 1 {
		t.Errorf("ReadDB left files: %v", names)
	}
}
