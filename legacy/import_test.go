package legacy

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestImportParseHeuristicFile(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		domain string
		secs   []legacySection
	}{
		{
			name:   "sample",
			text:   "# Heuristics: git\n\nGenerated from failures.\n\n---\n\n## H-1: Never delete\n\n**Confidence**: 0.85\n**Source**: observation\n**Created**: 2026-11-27\n\nBecause.\n\n---\n",
			domain: "git",
			secs: []legacySection{{id: 1, hasID: true, rule: "Never delete", confidence: ptrTo(0.85), source: "observation",
				created: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), explanation: "Because."}},
		},
		{
			name: "no separators, two paragraphs, code, other heading",
			text: "## H-2: A\n**Confidence:** 70%\n\nOne.\n\nTwo.\n```\n## H-9: not a heading\n```\n## H-3: B\ntext\n## Notes\nnot part of B\n",
			secs: []legacySection{
				{id: 2, hasID: true, rule: "A", confidence: ptrTo(0.7), explanation: "One.\n\nTwo.\n```\n## H-9: not a heading\n```"},
				{id: 3, hasID: true, rule: "B", explanation: "text"},
			},
		},
		{
			name: "no sections",
			text: "# Some heuristic\n\n**Domain**: x\n\nText.\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			domain, secs := parseHeuristicFile(tt.text)
			if domain != tt.domain {
				t.Errorf("domain: got %q, want %q", domain, tt.domain)
			}
			if len(secs) != len(tt.secs) {
				t.Fatalf("sections: got %+v, want %+v", secs, tt.secs)
			}
			for i := range secs {
				g, w := secs[i], tt.secs[i]
				if (g.confidence == nil) != (w.confidence == nil) || (g.confidence != nil && *g.confidence != *w.confidence) {
					t.Errorf("section %d confidence: got %v, want %v", i, g.confidence, w.confidence)
				}
				g.confidence, w.confidence = nil, nil
				if !reflect.DeepEqual(g, w) {
					t.Errorf("section %d:\n got %+v\nwant %+v", i, g, w)
				}
			}
		})
	}
}

func TestImportLegacyMemRel(t *testing.T) {
	im := &Importer{oldMem: filepath.FromSlash("/old/memory")}
	tests := []struct{ in, want string }{
		{"memory/failures/a.md", "failures/a.md"},
		{"failures/a.md", "failures/a.md"},
		{"./memory/failures/a.md", "failures/a.md"},
		{"auto-failures/failure_1.md", "auto-failures/failure_1.md"},
		{"/old/memory/successes/b.md", "successes/b.md"},
		{"/home/x/.claude/emergent-learning/memory/successes/b.md", "successes/b.md"},
		{`C:\Users\x\.claude\emergent-learning\memory\failures\c.md`, "failures/c.md"},
		{"memory\\failures\\d.md", "failures/d.md"},
		{"/elsewhere/e.md", ""},
		{"C:/elsewhere/e.md", ""},
		{"../e.md", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := im.legacyMemRel(tt.in); got != tt.want {
			t.Errorf("legacyMemRel(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func ptrTo(f float64) *float64 { return &f }
