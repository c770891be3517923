package record

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/layout"
)

func TestWriteFields(t *testing.T) {
	conf := 0.8
	r := frontmatter.Record{Type: layout.TypeHeuristic, Title: "Retry on busy", Domain: "sqlite",
		Created: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC), Rule: "retry\n  with backoff", Confidence: &conf}
	var b bytes.Buffer
	WriteFields(&b, r)
	want := "  title:       Retry on busy\n  domain:      sqlite\n  created:     2026-11-01T10:00:00Z\n" +
		"  rule:        retry with backoff\n  confidence:  0.8\n"
	if got := b.String(); got != want {
		t.Errorf("WriteFields:\ngot  %q\nwant %q", got, want)
	}
}

func TestOneLine(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"short", "a\n b", "a b"},
		{"cut", strings.Repeat("é", 12), strings.Repeat("é", 9) + "…"},
		{"exact", strings.Repeat("x", 10), strings.Repeat("x", 10)},
	}
	for _, tt := range tests {
		if got := OneLine(tt.in, 10); got != tt.want {
			t.Errorf("%s: OneLine(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestList(t *testing.T) {
	mem := t.TempDir()
	files := map[string]string{
		"failures/a.md":   "---\ntitle: Push rejected\ndomain: git\n---\n",
		"failures/b.md":   "---\ntitle: Locked\ndomain: sqlite\n---\n",
		"heuristics/h.md": "---\ntitle: T\nrule: Pull first\ndomain: Git\n---\n",
		"failures/bad.md": "---\ntitle: [x\n---\n",
	}
	for rel, data := range files {
		p := filepath.Join(mem, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ typ, domain, want string }{
		{"", "", "memory/failures/a.md\tfailure\tgit\tPush rejected\nmemory/failures/b.md\tfailure\tsqlite\tLocked\nmemory/heuristics/h.md\theuristic\tGit\tPull first\n"},
		{layout.TypeFailure, "GIT", "memory/failures/a.md\tfailure\tgit\tPush rejected\n"},
		{layout.TypeHeuristic, "git", "memory/heuristics/h.md\theuristic\tGit\tPull first\n"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		invalid, err := List(context.Background(), &b, mem, tt.typ, tt.domain)
		if err != nil || invalid != 1 || b.String() != tt.want {
			t.Errorf("List(%q, %q) = %d invalid, %v:\n%s\nwant 1 invalid:\n%s", tt.typ, tt.domain, invalid, err, b.String(), tt.want)
		}
	}
}
