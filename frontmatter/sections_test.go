package frontmatter

import (
	"reflect"
	"testing"
	"time"
)

// A section's counters: the plain number the framework reads, and the
// per-host tally elfsync keeps beside it; the plain number wins.
func TestSectionCounterTallies(t *testing.T) {
	data := []byte("# Heuristics: git\n\n---\n\n" +
		"## H-7: Rebase before you push\n\n**Confidence**: 0.7\n**Validated**: 6\n**Validated by**: {base: 3, h-3f9a2c1b: 2, h-77b1e0aa: 1}\n**Violated by**: {h-3f9a2c1b: 2}\n\nBecause.\n\n---\n\n" +
		"## H-8: Sign tags\n\n**Validated**: 4\n**Validated by**: {h-3f9a2c1b: 1}\n\n---\n\n" +
		"## H-9: Bad tally\n\n**Validated**: 2\n**Validated by**: {h-x: -1, bad key: 2}\n\n---\n")
	_, secs := ParseSections(data)
	if len(secs) != 3 {
		t.Fatalf("%d sections, want 3", len(secs))
	}
	tests := []struct {
		validated, violated int64
		vBy, xBy            Tally
	}{
		{6, 2, Tally{"base": 3, "h-3f9a2c1b": 2, "h-77b1e0aa": 1}, Tally{"h-3f9a2c1b": 2}},
		{4, 0, Tally{"base": 3, "h-3f9a2c1b": 1}, nil}, // the plain number wins
		{2, 0, Tally{"base": 2}, nil},                  // a bad tally is ignored
	}
	for i, tt := range tests {
		r := SectionRecord("heuristics/git.md", "git", secs[i], time.Now())
		if r.TimesValidated != tt.validated || r.TimesViolated != tt.violated ||
			!reflect.DeepEqual(r.ValidatedBy, tt.vBy) || !reflect.DeepEqual(r.ViolatedBy, tt.xBy) {
			t.Errorf("H-%d: validated %d %v, violated %d %v; want %d %v, %d %v", secs[i].ID,
				r.TimesValidated, r.ValidatedBy, r.TimesViolated, r.ViolatedBy, tt.validated, tt.vBy, tt.violated, tt.xBy)
		}
		if secs[i].Explanation != "" && secs[i].Explanation != "Because." {
			t.Errorf("H-%d: a tally line leaked into the explanation: %q", secs[i].ID, secs[i].Explanation)
		}
	}
	for _, bad := range []string{"", "{", "{a}", "{a: 1, a: 2}", "{h-x: 1.5}", "{h-x: -1}", "[1]", "{a b: 1}"} {
		if _, ok := ParseTallyText(bad); ok {
			t.Errorf("ParseTallyText(%q) ok, want refused", bad)
		}
	}
	if tl, ok := ParseTallyText("{base: -2, h-x: 3}"); !ok || tl.Sum() != 1 {
		t.Errorf("ParseTallyText with a negative base = %v, %v", tl, ok)
	}
}

// A tally line goes right after its counter's line; one added with its
// counter goes at the end of the bold block, after the counter.
func TestSetSectionFieldsPlacesTallyByItsCounter(t *testing.T) {
	data := []byte("## H-7: Rule\n\n**Confidence**: 0.7\n**Validated**: 12\n**Golden**: true\n\nText.\n\n---\n")
	out, err := SetSectionFields(data, 7, []SectionField{{Label: "Validated", Value: "13"}, {Label: "Validated by", Value: "{base: 12, h-x: 1}"},
		{Label: "Violated", Value: "1"}, {Label: "Violated by", Value: "{h-x: 1}"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "## H-7: Rule\n\n**Confidence**: 0.7\n**Validated**: 13\n**Validated by**: {base: 12, h-x: 1}\n**Golden**: true\n**Violated**: 1\n**Violated by**: {h-x: 1}\n\nText.\n\n---\n"
	if string(out) != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
}
