package remote

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/emergent-learning/elfsync/frontmatter"
)

func v(s string) Version { return Version{Present: true, Data: []byte(s)} }

var none = Version{}

const heur = `---
type: heuristic
title: "Retry flaky network calls"
confidence: 0.6
times_validated: 4
validated_by: {base: 4}
---
# Retry flaky network calls

Line one.
Line two.
Line three.
`

func bump(t *testing.T, data, host string, n int64) string {
	t.Helper()
	r, err := frontmatter.Parse(frontmatter.Input{Path: "heuristics/x.md", Data: []byte(data)})
	if err != nil {
		t.Fatal(err)
	}
	tl, err := frontmatter.Bump(r.ValidatedBy, r.TimesValidated, host, n)
	if err != nil {
		t.Fatal(err)
	}
	out, err := frontmatter.SetFields([]byte(data), []frontmatter.Change{
		{Key: "times_validated", Value: tl.Sum()}, {Key: "validated_by", Value: tl},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func set(t *testing.T, data, key string, val any) string {
	t.Helper()
	out, err := frontmatter.SetFields([]byte(data), []frontmatter.Change{{Key: key, Value: val}})
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestMergeFile(t *testing.T) {
	ctx := context.Background()
	m := GitMerger{Dir: t.TempDir()}
	bodyEdit := func(s, from, to string) string { return strings.Replace(s, from, to, 1) }
	a1 := bump(t, heur, "h-aaaaaaaa", 1)
	b1 := bump(t, heur, "h-bbbbbbbb", 1)
	for _, tc := range []struct {
		name         string
		base, o, t   Version
		wantPresent  bool
		wantConflict bool
		wantValid    int64 // times_validated, -1 to skip
		contains     []string
		lacks        []string
	}{
		{name: "counters from two hosts add", base: v(heur), o: v(a1), t: v(b1),
			wantPresent: true, wantValid: 6, contains: []string{"h-aaaaaaaa: 1", "h-bbbbbbbb: 1", "base: 4"}},
		{name: "same increment on both sides counted once", base: v(heur), o: v(a1), t: v(a1),
			wantPresent: true, wantValid: 5},
		{name: "tallies by per-host max", base: v(a1), o: v(bump(t, a1, "h-aaaaaaaa", 2)), t: v(bump(t, a1, "h-bbbbbbbb", 3)),
			wantPresent: true, wantValid: 10},
		{name: "counter and confidence change on different sides", base: v(heur), o: v(a1), t: v(set(t, heur, "confidence", 0.9)),
			wantPresent: true, wantValid: 5, contains: []string{"confidence: 0.9"}},
		{name: "field changed differently on both sides is a conflict", base: v(heur),
			o: v(set(t, a1, "confidence", 0.8)), t: v(set(t, b1, "confidence", 0.9)),
			wantPresent: true, wantConflict: true, wantValid: 6, contains: []string{"confidence: 0.8"}, lacks: []string{"0.9"}},
		{name: "key added on their side", base: v(heur), o: v(a1), t: v(set(t, heur, "domain", "net")),
			wantPresent: true, wantValid: 5, contains: []string{`domain: "net"`}},
		{name: "key removed on their side", base: v(set(t, heur, "domain", "net")), o: v(set(t, a1, "domain", "net")),
			t: v(heur), wantPresent: true, wantValid: 5, lacks: []string{"domain"}},
		{name: "bodies merged line by line", base: v(heur),
			o: v(bodyEdit(a1, "Line one.", "Line 1.")), t: v(bodyEdit(b1, "Line three.", "Line 3.")),
			wantPresent: true, wantValid: 6, contains: []string{"Line 1.", "Line 3."}},
		{name: "body conflict keeps ours, counters still merged", base: v(heur),
			o: v(bodyEdit(a1, "Line two.", "Ours two.")), t: v(bodyEdit(b1, "Line two.", "Theirs two.")),
			wantPresent: true, wantConflict: true, wantValid: 6, contains: []string{"Ours two."}, lacks: []string{"Theirs", "<<<<<<<", ">>>>>>>"}},
		{name: "edit beats delete (ours edited)", base: v(heur), o: v(a1), t: none, wantPresent: true, wantValid: 5},
		{name: "edit beats delete (theirs edited)", base: v(heur), o: none, t: v(b1), wantPresent: true, wantValid: 5},
		{name: "delete of an unchanged file", base: v(heur), o: v(heur), t: none, wantPresent: false, wantValid: -1},
		{name: "both deleted", base: v(heur), o: none, t: none, wantPresent: false, wantValid: -1},
		{name: "added on both sides, same", base: none, o: v(heur), t: v(heur), wantPresent: true, wantValid: 4},
		{name: "added on both sides, different bodies", base: none, o: v(a1), t: v(bodyEdit(heur, "Line one.", "Other.")),
			wantPresent: true, wantConflict: true, wantValid: 5, lacks: []string{"<<<<<<<"}},
		{name: "no frontmatter: whole text merge", base: v("# T\n\na\nb\nc\n"), o: v("# T\n\nA\nb\nc\n"), t: v("# T\n\na\nb\nC\n"),
			wantPresent: true, wantValid: -1, contains: []string{"A\nb\nC\n"}},
		{name: "no frontmatter: conflict", base: v("# T\n\na\n"), o: v("# T\n\nx\n"), t: v("# T\n\ny\n"),
			wantPresent: true, wantConflict: true, wantValid: -1, contains: []string{"x\n"}, lacks: []string{"<<<<<<<"}},
		{name: "binary conflict", base: v("a\x00"), o: v("b\x00"), t: v("c\x00"),
			wantPresent: true, wantConflict: true, wantValid: -1},
		{name: "plain counters without tallies add", base: v("---\ntimes_validated: 4\n---\nx\n"),
			o: v("---\ntimes_validated: 5\n---\nx\n"), t: v("---\ntimes_validated: 7\n---\nx\n"),
			wantPresent: true, wantValid: 8},
		{name: "counters added to a file without frontmatter on both sides", base: v("# Bold\n\n**Domain**: x\n"),
			o: v(bump(t, "# Bold\n\n**Domain**: x\n", "h-aaaaaaaa", 1)), t: v(bump(t, "# Bold\n\n**Domain**: x\n", "h-bbbbbbbb", 2)),
			wantPresent: true, wantValid: 3},
		{name: "CRLF kept", base: v(strings.ReplaceAll(heur, "\n", "\r\n")), o: v(strings.ReplaceAll(a1, "\n", "\r\n")), t: v(strings.ReplaceAll(b1, "\n", "\r\n")),
			wantPresent: true, wantValid: 6, contains: []string{"---\r\ntype: heuristic\r\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MergeFile(ctx, m, tc.base, tc.o, tc.t, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got.Present != tc.wantPresent {
				t.Fatalf("present = %v, want %v", got.Present, tc.wantPresent)
			}
			if got.Conflict != tc.wantConflict {
				t.Errorf("conflict = %v (%v), want %v\n%s", got.Conflict, got.Why, tc.wantConflict, got.Data)
			}
			s := string(got.Data)
			for _, c := range tc.contains {
				if !strings.Contains(s, c) {
					t.Errorf("result lacks %q:\n%s", c, s)
				}
			}
			for _, c := range tc.lacks {
				if strings.Contains(s, c) {
					t.Errorf("result holds %q:\n%s", c, s)
				}
			}
			if bytes.Contains(got.Data, []byte("<<<<<<<")) || bytes.Contains(got.Data, []byte(">>>>>>>")) {
				t.Errorf("conflict marker in result:\n%s", s)
			}
			if tc.wantValid >= 0 {
				r, err := frontmatter.Parse(frontmatter.Input{Path: "heuristics/x.md", Data: got.Data})
				if err != nil {
					t.Fatalf("result does not parse: %v\n%s", err, s)
				}
				if r.TimesValidated != tc.wantValid {
					t.Errorf("times_validated = %d, want %d\n%s", r.TimesValidated, tc.wantValid, s)
				}
				if r.ValidatedBy != nil && r.ValidatedBy.Sum() != r.TimesValidated {
					t.Errorf("tally sums to %d, plain is %d", r.ValidatedBy.Sum(), r.TimesValidated)
				}
			}
		})
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"fatal: unable to access 'https://user:s3cret@example.com/x.git/'": "fatal: unable to access 'https://***@example.com/x.git/'",
		"https://token@host/r": "https://***@host/r",
		"ssh://git@host:22/r":  "ssh://***@host:22/r",
		"git@github.com:me/r":  "git@github.com:me/r",
		"/srv/git/memory.git":  "/srv/git/memory.git",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestMergeDomainFileSectionCounters: two hosts validate the same section
// of a framework domain file (heuristics/<domain>.md, no frontmatter) and
// a third line elsewhere changes: the counters add up by host, the text
// merges, and nothing is a conflict.
func TestMergeDomainFileSectionCounters(t *testing.T) {
	ctx := context.Background()
	m := GitMerger{Dir: t.TempDir()}
	const domain = "# Heuristics: git\n\n## H-1: Never delete a lock you did not create\n\n**Confidence**: 0.9\n**Validated**: 4\n\nAnother process may still be writing.\n\n---\n\n## H-2: Batch commits\n\n**Confidence**: 0.8\n**Validated**: 1\n\nEach commit costs a fixed 0.1 s.\n\n---\n"
	bumpSection := func(data, host string) string {
		t.Helper()
		_, ss := frontmatter.ParseSections([]byte(data))
		for _, s := range ss {
			if s.ID != 1 {
				continue
			}
			_, tally := frontmatter.SectionCounter(s.Validated, s.ValidatedBy)
			tally, err := frontmatter.Bump(tally, tally.Sum(), host, 1)
			if err != nil {
				t.Fatal(err)
			}
			out, err := frontmatter.SetSectionFields([]byte(data), 1, []frontmatter.SectionField{
				{Label: "Validated", Value: itoa(tally.Sum())},
				{Label: "Validated by", Value: tally.String()},
			})
			if err != nil {
				t.Fatal(err)
			}
			return string(out)
		}
		t.Fatal("no section H-1")
		return ""
	}
	ours := bumpSection(domain, "h-aaaaaaaa")
	theirs := strings.Replace(bumpSection(domain, "h-bbbbbbbb"), "fixed 0.1 s", "fixed 0.1-0.5 s", 1)
	got, err := MergeFile(ctx, m, v(domain), v(ours), v(theirs), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if got.Conflict || !got.Present {
		t.Fatalf("conflict %v (%v):\n%s", got.Conflict, got.Why, got.Data)
	}
	_, ss := frontmatter.ParseSections(got.Data)
	if len(ss) != 2 || ss[0].Validated == nil || *ss[0].Validated != 6 {
		t.Fatalf("merged H-1 validated = %v, want 6:\n%s", ss[0].Validated, got.Data)
	}
	if by := ss[0].ValidatedBy; by["h-aaaaaaaa"] != 1 || by["h-bbbbbbbb"] != 1 || by["base"] != 4 {
		t.Errorf("merged tally = %v", by)
	}
	if !strings.Contains(string(got.Data), "fixed 0.1-0.5 s") || strings.Contains(string(got.Data), "<<<<<<<") {
		t.Errorf("text merge lost theirs or left a marker:\n%s", got.Data)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
