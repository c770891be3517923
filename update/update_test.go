package update

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/emergent-learning/elfsync/edit"
	"github.com/emergent-learning/elfsync/query"
)

func TestBumpAndRecord(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	p := filepath.Join(root, "memory", "heuristics", "h.md")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("---\ndomain: git\nrule: Pass -- before paths\n---\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// By path, with no index yet: the file is bumped and indexed now.
	b, err := Bump(ctx, root, "heuristics/h.md", edit.Validated)
	if err != nil {
		t.Fatal(err)
	}
	if b.Validated != 1 || !b.IndexedNow || b.Path != "memory/heuristics/h.md" {
		t.Fatalf("bump: %+v", b)
	}
	// Now by id, through the index.
	if b, err = Bump(ctx, root, "H-1", edit.Violated); err != nil || b.Violated != 1 || b.Validated != 1 {
		t.Fatalf("bump H-1: %+v %v", b, err)
	}
	w, err := Record(ctx, root, "failure", map[string]string{"title": "Lost a commit", "domain": "git", "summary": "It went."}, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || !w.IndexedNow || w.Path != "memory/failures/20261101_lost-a-commit.md" {
		t.Fatalf("record: %+v %v", w, err)
	}
	db, err := query.Open(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hits, err := db.Search(ctx, query.Query{Text: "lost commit"})
	if err != nil || len(hits) != 1 {
		t.Fatalf("the recorded failure is not indexed: %v %v", hits, err)
	}
	if _, err := Bump(ctx, root, "L-1", edit.Validated); !errors.Is(err, ErrNotHeuristic) {
		t.Errorf("bump of a learning id: %v", err)
	}
	if _, err := Bump(ctx, root, "failures/20261101_lost-a-commit.md", edit.Validated); !errors.Is(err, ErrNotHeuristic) {
		t.Errorf("bump of a failure file: %v", err)
	}
	if _, err := Bump(ctx, root, "../outside.md", edit.Validated); !errors.Is(err, edit.ErrUnsafePath) {
		t.Errorf("bump outside memory/: %v", err)
	}
}
