package frontmatter

import (
	"strings"
	"testing"
)

const boldFailure = "# Push rejected\n\n**Domain**: git\n**Severity**: 3\n**Tags**: git, remote\n**Date**: 2026-11-29\n\n## Summary\n\nThe remote moved.\n\n## Related\n\n- **Heuristics**:\n"

const boldSuccess = "# Success: Shared cache\n\n**Date:** 2026-11-26\n**Domain:** coordination\n**Significance:** 4\n**Tags:** agents, cache\n\n## What Worked\n\nOne cache.\n"

func TestEditRecordKeepsBoldStyle(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		in      string
		changes []Change
		want    string
	}{
		{
			name:    "a field's line rewritten in place",
			path:    "failures/20261129_push-rejected.md",
			in:      boldFailure,
			changes: []Change{{Key: "severity", Value: 5}, {Key: "domain", Value: "remote"}},
			want:    strings.Replace(strings.Replace(boldFailure, "**Severity**: 3", "**Severity**: 5", 1), "**Domain**: git", "**Domain**: remote", 1),
		},
		{
			name:    "a missing field added beside the others",
			path:    "failures/20261129_push-rejected.md",
			in:      boldFailure,
			changes: []Change{{Key: "id", Value: int64(1234567)}},
			want:    strings.Replace(boldFailure, "**Date**: 2026-11-29\n", "**Date**: 2026-11-29\n**ID**: 1234567\n", 1),
		},
		{
			name:    "title in the heading, summary in its paragraph",
			path:    "failures/20261129_push-rejected.md",
			in:      boldFailure,
			changes: []Change{{Key: "title", Value: "Push refused"}, {Key: "summary", Value: "Someone pushed first."}},
			want:    strings.Replace(strings.Replace(boldFailure, "# Push rejected", "# Push refused", 1), "The remote moved.", "Someone pushed first.", 1),
		},
		{
			name:    "an alias line and its spelling kept",
			path:    "successes/20261126_shared-cache.md",
			in:      boldSuccess,
			changes: []Change{{Key: "severity", Value: 2}, {Key: "tags", Value: []string{"agents"}}, {Key: "id", Value: int64(7)}},
			want:    strings.Replace(strings.Replace(boldSuccess, "**Significance:** 4", "**Significance:** 2", 1), "**Tags:** agents, cache", "**Tags:** agents\n**ID:** 7", 1),
		},
		{
			name:    "a file without fields gets them under its heading",
			path:    "failures/plain.md",
			in:      "# Plain\nSome text.\n",
			changes: []Change{{Key: "severity", Value: 4}},
			want:    "# Plain\n\n**Severity**: 4\n\nSome text.\n",
		},
		{
			name:    "CRLF kept",
			path:    "failures/crlf.md",
			in:      "# T\r\n\r\n**Domain**: a\r\n\r\nText.\r\n",
			changes: []Change{{Key: "domain", Value: "b"}},
			want:    "# T\r\n\r\n**Domain**: b\r\n\r\nText.\r\n",
		},
		{
			name:    "counters and tallies as bold lines",
			path:    "heuristics/h.md",
			in:      "# Rebase first\n\n**Confidence**: 0.5\n\nWhy.\n",
			changes: []Change{{Key: KeyTimesValidated, Value: int64(3)}, {Key: KeyValidatedBy, Value: Tally{"base": 2, "h-1": 1}}},
			want:    "# Rebase first\n\n**Confidence**: 0.5\n**Times Validated**: 3\n**Validated By**: {base: 2, h-1: 1}\n\nWhy.\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, rec, err := EditRecord(Input{Path: tt.path, Data: []byte(tt.in)}, tt.changes)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("got\n%q\nwant\n%q", out, tt.want)
			}
			if HasFrontmatter(out) {
				t.Error("the file got frontmatter")
			}
			if rec.Title == "" {
				t.Error("no title")
			}
		})
	}
}

// A value no bold line can hold converts the file: frontmatter with every
// field, the bold lines gone, the text kept.
func TestEditRecordConvertsCleanly(t *testing.T) {
	in := "# Rebase first\n\n**Domain**: git\n**Confidence**: 0.5\n**Source**: observation\n**Status**: open\n\n## Why\n\nHistory.\n"
	out, rec, err := EditRecord(Input{Path: "heuristics/h.md", Data: []byte(in)},
		[]Change{{Key: "explanation", Value: "line one\nline two"}})
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	if !HasFrontmatter(out) || strings.Contains(got, "**") {
		t.Fatalf("not converted cleanly:\n%s", got)
	}
	if !strings.HasSuffix(got, "---\n# Rebase first\n\n## Why\n\nHistory.\n") {
		t.Errorf("the text changed:\n%s", got)
	}
	if rec.Domain != "git" || rec.SourceType != "observation" || rec.Confidence == nil || *rec.Confidence != 0.5 ||
		rec.Explanation != "line one\nline two" || rec.Extra != `{"status":"open"}` {
		t.Errorf("record = %+v", rec)
	}
}

// Every edit reads back: a value the heading cannot hold is not written
// there.
func TestEditRecordTitleThatAHeadingCannotHold(t *testing.T) {
	out, rec, err := EditRecord(Input{Path: "failures/20261129_push-rejected.md", Data: []byte(boldFailure)},
		[]Change{{Key: "title", Value: "Ends in a hash #"}})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Title != "Ends in a hash #" {
		t.Errorf("title %q\n%s", rec.Title, out)
	}
	if strings.Contains(string(out), "**Domain**") {
		t.Errorf("both styles:\n%s", out)
	}
}

func TestSetBoldFieldsRefusesLineBreaks(t *testing.T) {
	for _, v := range []any{"a\nb", " padded", "", "tab\there"} {
		if _, err := SetBoldFields([]byte(boldFailure), []Change{{Key: "domain", Value: v}}); err == nil {
			t.Errorf("%q: no error", v)
		}
	}
}

// A frontmatter file gets SetFields, checked the same way; a large id
// compares as the number it is.
func TestEditRecordFrontmatterID(t *testing.T) {
	in := "---\ntitle: T\nsource: observation\n---\nBody.\n"
	out, rec, err := EditRecord(Input{Path: "heuristics/t.md", Data: []byte(in)},
		[]Change{{Key: "id", Value: int64(1234567)}, {Key: "source_type", Value: "failure"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "---\ntitle: T\nsource: \"failure\"\nid: 1234567\n---\nBody.\n"; string(out) != want {
		t.Errorf("got\n%q\nwant\n%q", out, want)
	}
	if rec.SourceType != "failure" || rec.Extra != `{"id":1234567}` {
		t.Errorf("record = %+v", rec)
	}
}

// FuzzEditRecord checks that EditRecord never panics and that what it
// returns is what the file parses to, with the changed field's new value:
// a bold-field file edited in place or converted, never both styles.
// Run it with `go test -fuzz=FuzzEditRecord ./frontmatter`.
func FuzzEditRecord(f *testing.F) {
	for _, in := range []string{boldFailure, boldSuccess, "# T\n", "", "text\n\n## Summary\n\n- a\n", "```\n**Domain**: x\n```\n# T\n"} {
		for _, v := range []string{"git", "Ends #", "a\nb", " x", "**Domain**: y", "## Summary", "---"} {
			for _, k := range []string{"title", "summary", "domain", "explanation", "rule", "status"} {
				f.Add([]byte(in), k, v)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, key, value string) {
		if !validKey(key) || key == "type" {
			return
		}
		in := Input{Path: "failures/x.md", Data: data}
		out, rec, err := EditRecord(in, []Change{{Key: key, Value: value}})
		if err != nil {
			return
		}
		again, err := Parse(Input{Path: in.Path, Data: out})
		if err != nil {
			t.Fatalf("the result does not parse: %v\n%q", err, out)
		}
		if again.Title != rec.Title || again.Summary != rec.Summary || again.Extra != rec.Extra {
			t.Fatalf("returned record differs from the file's")
		}
		if HasFrontmatter(out) && !HasFrontmatter(data) {
			for _, fl := range splitBold([]byte(again.Body)).fields {
				t.Fatalf("converted, but the bold line %q stayed:\n%s", fl.key, out)
			}
		}
	})
}
