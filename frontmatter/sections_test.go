package frontmatter

import (
	"reflect"
	"strings"
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

// SetSectionNumber rewrites one heading, the nth of its number, and
// nothing else; the file then reads as the same sections with that one
// renumbered.
func TestSetSectionNumber(t *testing.T) {
	const head = "# Heuristics: git\n\n---\n\n"
	const a = "## H-0: Rebase first\n\n**Confidence**: 0.7\n\nBecause.\n\n---\n\n"
	const b = "## H-0: Sign tags\n\n**Validated**: 2\n\n---\n\n"
	const fenced = "```\n## H-0: not a section\n```\n"
	tests := []struct {
		name    string
		in      string
		id      int64
		nth     int
		newID   int64
		want    string
		wantErr bool
	}{
		{"the first H-0", head + a + b, 0, 1, 17, head + strings.Replace(a, "H-0", "H-17", 1) + b, false},
		{"the second H-0", head + a + b, 0, 2, 18, head + a + strings.Replace(b, "H-0", "H-18", 1), false},
		{"a number too large to be an id", head + strings.Replace(a, "H-0", "H-99999999999999999999", 1), 0, 1, 5, head + strings.Replace(a, "H-0", "H-5", 1), false},
		{"a repeated number", head + strings.Replace(a, "H-0", "H-4", 1) + strings.Replace(b, "H-0", "H-4", 1), 4, 2, 9,
			head + strings.Replace(a, "H-0", "H-4", 1) + strings.Replace(b, "H-0", "H-9", 1), false},
		{"CRLF kept", strings.ReplaceAll(head+a+b, "\n", "\r\n"), 0, 2, 18, strings.ReplaceAll(head+a+strings.Replace(b, "H-0", "H-18", 1), "\n", "\r\n"), false},
		{"a BOM kept", "\uFEFF" + a + b, 0, 1, 17, "\uFEFF" + strings.Replace(a, "H-0", "H-17", 1) + b, false},
		{"a heading in fenced code is text", head + fenced + a, 0, 1, 17, head + fenced + strings.Replace(a, "H-0", "H-17", 1), false},
		{"odd spelling normalised", head + strings.Replace(a, "## H-0: ", "##  H0 - ", 1), 0, 1, 17, head + strings.Replace(a, "H-0", "H-17", 1), false},
		{"the number is taken", head + a + strings.Replace(b, "H-0", "H-17", 1), 0, 1, 17, "", true},
		{"no such section", head + a, 0, 2, 17, "", true},
		{"no section", head + a, 3, 1, 17, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := SetSectionNumber([]byte(tt.in), tt.id, tt.nth, tt.newID)
			if tt.wantErr {
				if err == nil {
					t.Errorf("no error; got\n%q", out)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("got\n%q\nwant\n%q", out, tt.want)
			}
		})
	}
}

// SetSectionFieldsNth edits the nth section of a repeated number, in a
// CRLF file too.
func TestSetSectionFieldsNth(t *testing.T) {
	in := "## H-0: A\n\n**Confidence**: 0.5\n\n---\n\n## H-0: B\n\n**Confidence**: 0.5\n\n---\n"
	out, err := SetSectionFieldsNth([]byte(in), 0, 2, []SectionField{{Label: "Validated", Value: "3"}})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(in, "B\n\n**Confidence**: 0.5\n", "B\n\n**Confidence**: 0.5\n**Validated**: 3\n", 1)
	if string(out) != want {
		t.Errorf("got\n%q\nwant\n%q", out, want)
	}
	crlf := strings.ReplaceAll(in, "\n", "\r\n")
	out, err = SetSectionFieldsNth([]byte(crlf), 0, 2, []SectionField{{Label: "Confidence", Value: "0.9"}, {Label: "Validated", Value: "3"}})
	if err != nil {
		t.Fatal(err)
	}
	want = strings.ReplaceAll(strings.Replace(in, "B\n\n**Confidence**: 0.5\n", "B\n\n**Confidence**: 0.9\n**Validated**: 3\n", 1), "\n", "\r\n")
	if string(out) != want {
		t.Errorf("CRLF: got\n%q\nwant\n%q", out, want)
	}
}

// A heading number too large to be a row's id (SQLite would have no id
// left for the next row) is no id: the section reads as numberless.
func TestSectionNumberTooLarge(t *testing.T) {
	for _, n := range []string{"9223372036854775807", "99999999999999999999", "9007199254740992"} {
		_, secs := ParseSections([]byte("# Heuristics: x\n\n## H-" + n + ": Rule\n\nText.\n"))
		if len(secs) != 1 || secs[0].HasID || secs[0].ID != 0 || secs[0].Rule != "Rule" || secs[0].Line != 2 {
			t.Errorf("H-%s: %+v", n, secs)
		}
	}
	_, secs := ParseSections([]byte("## H-9007199254740991: Rule\n"))
	if len(secs) != 1 || !secs[0].HasID || secs[0].ID != 9007199254740991 {
		t.Errorf("2^53-1: %+v", secs)
	}
}

// SetSectionRuleNth and RemoveSectionNth act on the nth section of a
// number, CRLF kept.
func TestSectionRuleAndRemoveNth(t *testing.T) {
	in := strings.ReplaceAll("# Heuristics: x\n\n## H-0: A\n\nWhy A.\n\n---\n\n## H-0: B\n\nWhy B.\n\n---\n\n## H-3: C\n", "\n", "\r\n")
	out, err := SetSectionRuleNth([]byte(in), 0, 2, "B2")
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(in, "## H-0: B\r\n", "## H-0: B2\r\n", 1); string(out) != want {
		t.Errorf("rule: got %q\nwant %q", out, want)
	}
	out, err = RemoveSectionNth([]byte(in), 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(in, "## H-0: B\r\n\r\nWhy B.\r\n\r\n---\r\n\r\n", "", 1); string(out) != want {
		t.Errorf("remove: got %q\nwant %q", out, want)
	}
	if _, err := SetSectionRuleNth([]byte(in), 0, 3, "X"); err == nil {
		t.Error("a third H-0: no error")
	}
}

// FuzzSetSectionNumber: no panic; a renumbered file reads as the same
// sections, the one renumbered; the section edits leave the others alone.
func FuzzSetSectionNumber(f *testing.F) {
	f.Add("# Heuristics: git\n\n## H-0: A\n\nWhy.\n\n---\n\n## H-0: B\n", int64(0), 2, int64(7))
	f.Add("\uFEFF## H-5: A\r\n**Confidence**: 0.5\r\n```\r\n## H-5: x\r\n```\r\n## H-5 - B\n", int64(5), 1, int64(9))
	f.Fuzz(func(t *testing.T, data string, id int64, nth int, newID int64) {
		if nth < 1 || nth > 5 {
			return
		}
		_, before := ParseSections([]byte(data))
		out, err := SetSectionNumber([]byte(data), id, nth, newID)
		if err == nil {
			_, after := ParseSections(out)
			if len(after) != len(before) {
				t.Fatalf("%d sections, were %d", len(after), len(before))
			}
			n := 0
			for i := range before {
				if before[i].ID != after[i].ID {
					n++
					if after[i].ID != newID || before[i].ID != id {
						t.Fatalf("section %d: H-%d became H-%d", i, before[i].ID, after[i].ID)
					}
				}
			}
			if n > 1 {
				t.Fatalf("%d sections renumbered", n)
			}
		}
		out, err = SetSectionFieldsNth([]byte(data), id, nth, []SectionField{{Label: "Validated", Value: "3"}})
		if err == nil {
			_, after := ParseSections(out)
			if len(after) != len(before) {
				t.Fatalf("fields: %d sections, were %d\n%q", len(after), len(before), out)
			}
		}
	})
}
