package update

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
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

// A heuristic that is a section of the framework's domain file is bumped
// in its section, by id; the file stays a domain file. A path to such a
// file names no one heuristic.
func TestBumpDomainFileSection(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	dir := filepath.Join(root, "memory", "heuristics")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sec := func(id, rule string) string {
		return "## H-" + id + ": " + rule + "\n\n**Confidence**: 0.7\n**Source**: observation\n\nBecause.\n\n---\n\n"
	}
	head := "# Heuristics: sqlite\n\nGenerated from failures, successes, and observations in the **sqlite** domain.\n\n---\n\n"
	if err := os.WriteFile(filepath.Join(dir, "sqlite.md"), []byte(head+sec("3", "Set busy_timeout")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "git.md"), []byte(head+sec("7", "Rebase")+sec("8", "Sign tags")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := IndexNow(ctx, root, []string{"heuristics"}); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"H-3", "H-8"} {
		b, err := Bump(ctx, root, ref, edit.Validated)
		if err != nil || b.Validated != 1 || b.Violated != 0 {
			t.Fatalf("bump %s: %+v %v", ref, b, err)
		}
	}
	if b, err := Bump(ctx, root, "H-3", edit.Violated); err != nil || b.Validated != 1 || b.Violated != 1 {
		t.Fatalf("violate H-3: %+v %v", b, err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "sqlite.md"))
	if s := string(data); !strings.HasPrefix(s, "# Heuristics: sqlite\n") || !strings.Contains(s, "**Validated**: 1\n**Validated by**: {h-") ||
		!strings.Contains(s, "**Violated**: 1\n**Violated by**: {h-") {
		t.Errorf("sqlite.md:\n%s", s)
	}
	db, err := query.Open(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, ref := range []string{"H-3", "H-8", "H-7"} {
		items, err := db.Lookup(ctx, ref)
		want := int64(1)
		if ref == "H-7" {
			want = 0
		}
		if err != nil || len(items) != 1 || items[0].Validated != want {
			t.Errorf("%s after the bumps: %+v %v", ref, items, err)
		}
	}
	if _, err := Bump(ctx, root, "heuristics/git.md", edit.Validated); !errors.Is(err, ErrSection) {
		t.Errorf("bump of a domain file by path: %v", err)
	}
	if _, err := Bump(ctx, root, "heuristics/sqlite.md", edit.Validated); !errors.Is(err, ErrSection) {
		t.Errorf("bump of a one-section domain file by path: %v", err)
	}
}
