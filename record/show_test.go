package record

import (
	"bytes"
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
