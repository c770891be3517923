package query

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emergent-learning/elfsync/indexer"
)

func refsOf(s Section) []string {
	var out []string
	for _, it := range s.Items {
		out = append(out, it.Path)
	}
	return out
}

func section(b Briefing, kind string) Section {
	for _, s := range b.Sections {
		if s.Kind == kind {
			return s
		}
	}
	return Section{}
}

func TestContextTiers(t *testing.T) {
	db := buildIndex(t, corpus)
	ctx := context.Background()

	b, err := db.Context(ctx, ContextOptions{Depth: DepthMinimal})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Sections) != 1 || b.Sections[0].Kind != "golden" || len(b.Sections[0].Items) != 1 {
		t.Fatalf("minimal: want only the one golden rule, got %+v", b.Sections)
	}

	b, err = db.Context(ctx, ContextOptions{Domain: "git"})
	if err != nil {
		t.Fatal(err)
	}
	got := refsOf(section(b, "heuristics"))
	want := []string{
		"memory/heuristics/git-never-delete-foreign-lock.md", // 0.8, validated 7x
		"memory/heuristics/git-literal-pathspecs.md",         // 0.6
		"memory/heuristics/git-batch-commits.md",             // 0.8 but violated 4x
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("git heuristics ranked %v; want %v", got, want)
	}
	if g := section(b, "golden"); len(g.Items) != 1 {
		t.Errorf("golden rules must appear whatever the domain; got %v", refsOf(g))
	}
	if f := refsOf(section(b, "failures")); len(f) != 1 || f[0] != "memory/failures/20261102_git-index-lock.md" {
		t.Errorf("git failures: %v", f)
	}
	if s := section(b, "experiments"); len(s.Items) > 0 {
		t.Errorf("standard depth has experiments: %v", refsOf(s))
	}

	// Without a domain, failures come newest first; a query puts the
	// relevant one first.
	b, _ = db.Context(ctx, ContextOptions{})
	if f := refsOf(section(b, "failures")); len(f) != 4 || f[0] != "memory/failures/20261104_yaml-norway.md" {
		t.Errorf("recent failures: %v", f)
	}
	b, _ = db.Context(ctx, ContextOptions{Query: "concurrent sqlite writers"})
	if f := refsOf(section(b, "failures")); len(f) != 4 || f[0] != "memory/failures/20261101_sqlite-busy.md" {
		t.Errorf("relevant failure not first: %v", f)
	}

	b, _ = db.Context(ctx, ContextOptions{Depth: DepthDeep})
	for _, k := range []string{"experiments", "decisions", "observations"} {
		if len(section(b, k).Items) != 1 {
			t.Errorf("deep: %s: %v", k, refsOf(section(b, k)))
		}
	}
}

func TestContextBudget(t *testing.T) {
	db := buildIndex(t, corpus)
	ctx := context.Background()
	full, err := db.Context(ctx, ContextOptions{Depth: DepthDeep, MaxTokens: 20000})
	if err != nil {
		t.Fatal(err)
	}
	if full.Omitted != 0 || strings.Contains(full.Markdown(), "Left out") {
		t.Fatalf("20000 tokens should hold the whole corpus; omitted %d", full.Omitted)
	}
	small, err := db.Context(ctx, ContextOptions{Depth: DepthDeep, MaxTokens: 300})
	if err != nil {
		t.Fatal(err)
	}
	md := small.Markdown()
	if small.Omitted == 0 || !strings.Contains(md, "Left out to fit 300 tokens") {
		t.Fatalf("a 300-token budget left nothing out:\n%s", md)
	}
	if n := len(md); n > 300*charsPerToken {
		t.Errorf("markdown is %d bytes, over the %d-byte budget", n, 300*charsPerToken)
	}
	kept := 0
	for _, s := range small.Sections {
		kept += len(s.Items)
	}
	total := 0
	for _, s := range full.Sections {
		total += len(s.Items)
	}
	if kept+small.Omitted != total {
		t.Errorf("kept %d + omitted %d != %d items", kept, small.Omitted, total)
	}
	// Deterministic.
	again, _ := db.Context(ctx, ContextOptions{Depth: DepthDeep, MaxTokens: 300})
	if again.Markdown() != md {
		t.Error("two briefings of one index differ")
	}
	if _, err := db.Context(ctx, ContextOptions{Depth: "bogus"}); err == nil {
		t.Error("a bad depth was accepted")
	}
}

func TestGet(t *testing.T) {
	db := buildIndex(t, corpus)
	ctx := context.Background()
	rec, err := db.Get(ctx, "heuristics/yaml-one-two.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Items) != 1 || !strings.Contains(rec.Content, "YAML 1.2 semantics") {
		t.Fatalf("get by path: %+v", rec)
	}
	byRef, err := db.Get(ctx, rec.Items[0].Ref)
	if err != nil || byRef.Content != rec.Content {
		t.Fatalf("get by %s: %v %+v", rec.Items[0].Ref, err, byRef)
	}
	for _, bad := range []string{"../../etc/passwd", "/etc/passwd", "index.db", "memory/../x.md", ".git/config", "H-999", "failures/none.md", ""} {
		if _, err := db.Get(ctx, bad); err == nil {
			t.Errorf("Get(%q) succeeded", bad)
		}
	}
}

// TestOtherSchemaVersion: an index another elfsync wrote (older, not yet
// migrated, or newer) is refused at Open with what to do, not read until
// a statement meets a missing table ("SQL logic error: no such table").
func TestOtherSchemaVersion(t *testing.T) {
	db := buildIndex(t, corpus)
	root := filepath.Dir(db.MemoryDir())
	db.Close()
	path := filepath.Join(root, "memory", "index.db")
	for _, v := range []int{1, indexer.SchemaVersion + 1} {
		w, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Exec(fmt.Sprintf("PRAGMA user_version = %d", v)); err != nil {
			t.Fatal(err)
		}
		w.Close()
		db, err := Open(context.Background(), root)
		if err == nil {
			db.Close()
			t.Errorf("schema version %d: opened", v)
			continue
		}
		want := "elfsync scan"
		if v > indexer.SchemaVersion {
			want = "newer elfsync"
		}
		if !errors.Is(err, ErrOtherSchema) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), fmt.Sprint(v)) {
			t.Errorf("schema version %d: %v", v, err)
		}
	}
}
