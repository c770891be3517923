package frontmatter

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestSetFields(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		changes []Change
		want    string
	}{
		{
			name:    "replace keeps comments, order and body",
			in:      "---\n# a comment\ntitle: \"x\"  # trailing\nconfidence: 0.5\ntags: [a, b]\n---\n\n# x\n\nbody\n",
			changes: []Change{{Key: "confidence", Value: 0.75}},
			want:    "---\n# a comment\ntitle: \"x\"  # trailing\nconfidence: 0.75\ntags: [a, b]\n---\n\n# x\n\nbody\n",
		},
		{
			name:    "case-insensitive key is replaced, not repeated",
			in:      "---\nConfidence: 0.5\n---\nb\n",
			changes: []Change{{Key: "confidence", Value: 1.0}},
			want:    "---\nconfidence: 1.0\n---\nb\n",
		},
		{
			name:    "multi-line value replaced whole",
			in:      "---\nrule: |\n  line one\n  line two\n\nnext: 1\n---\nb\n",
			changes: []Change{{Key: "rule", Value: "new\nrule"}},
			want:    "---\nrule: \"new\\nrule\"\n\nnext: 1\n---\nb\n",
		},
		{
			name:    "missing key appended",
			in:      "---\ntitle: t\n---\nbody\n",
			changes: []Change{{Key: "times_validated", Value: int64(3)}, {Key: "validated_by", Value: Tally{"h-1": 2, "base": 1}}},
			want:    "---\ntitle: t\ntimes_validated: 3\nvalidated_by: {base: 1, h-1: 2}\n---\nbody\n",
		},
		{
			name:    "delete",
			in:      "---\ntitle: t\nis_golden: true\ndomain: d\n---\nbody\n",
			changes: []Change{{Key: "is_golden", Delete: true}},
			want:    "---\ntitle: t\ndomain: d\n---\nbody\n",
		},
		{
			name:    "no frontmatter gets a block",
			in:      "# T\n\nbody\n",
			changes: []Change{{Key: "title", Value: "T"}},
			want:    "---\ntitle: \"T\"\n---\n# T\n\nbody\n",
		},
		{
			name:    "CRLF and BOM kept",
			in:      "\uFEFF---\r\ntitle: t\r\n---\r\nbody\r\n",
			changes: []Change{{Key: "title", Value: "u"}},
			want:    "\uFEFF---\r\ntitle: \"u\"\r\n---\r\nbody\r\n",
		},
		{
			name:    "hostile text stays one value",
			in:      "---\ntitle: t\n---\nbody\n",
			changes: []Change{{Key: "title", Value: "a\n---\nb: &x [*x]\n"}, {Key: "tags", Value: []string{"x,y", "#z"}}},
			want:    "---\ntitle: \"a\\n---\\nb: &x [*x]\\n\"\ntags: [\"x,y\", \"#z\"]\n---\nbody\n",
		},
		{
			name:    "time",
			in:      "---\n---\n",
			changes: []Change{{Key: "created", Value: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)}},
			want:    "---\ncreated: 2026-01-02T03:04:05Z\n---\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SetFields([]byte(tt.in), tt.changes)
			if err != nil {
				t.Fatalf("SetFields: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestSetFieldsRefuses(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		changes []Change
	}{
		{"bad key", "---\na: 1\n---\n", []Change{{Key: "a: 1\nb", Value: "x"}}},
		{"unterminated", "---\na: 1\n", []Change{{Key: "a", Value: "x"}}},
		{"bad value type", "---\na: 1\n---\n", []Change{{Key: "a", Value: struct{}{}}}},
		{"bad tally key", "---\na: 1\n---\n", []Change{{Key: "validated_by", Value: Tally{"a b": 1}}}},
		{"NUL in text", "---\na: 1\n---\n", []Change{{Key: "a", Value: "x\x00"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := SetFields([]byte(tt.in), tt.changes)
			if !errors.Is(err, ErrEdit) {
				t.Fatalf("err = %v, want ErrEdit", err)
			}
		})
	}
}

// TestSetFieldsParsesBack checks the edit against Parse, the reader that
// counts: the record reads back with the new values and nothing else
// changed.
func TestSetFieldsParsesBack(t *testing.T) {
	in := "---\ntype: heuristic\ntitle: \"T\"\nrule: \"r\"\nconfidence: 0.5\nextra_key: keep me\n---\n\n# T\n\nExplained.\n"
	before, err := Parse(Input{Path: "heuristics/t.md", Data: []byte(in)})
	if err != nil {
		t.Fatal(err)
	}
	tally, err := Bump(nil, 4, "h-abc", 1)
	if err != nil {
		t.Fatal(err)
	}
	out, err := SetFields([]byte(in), []Change{
		{Key: "confidence", Value: 0.8},
		{Key: KeyTimesValidated, Value: tally.Sum()},
		{Key: KeyValidatedBy, Value: tally},
	})
	if err != nil {
		t.Fatal(err)
	}
	after, err := Parse(Input{Path: "heuristics/t.md", Data: out})
	if err != nil {
		t.Fatalf("parse edited file: %v\n%s", err, out)
	}
	if *after.Confidence != 0.8 || after.TimesValidated != 5 || after.ValidatedBy["h-abc"] != 1 || after.ValidatedBy[TallyBase] != 4 {
		t.Errorf("after = conf %v validated %d by %v", *after.Confidence, after.TimesValidated, after.ValidatedBy)
	}
	if after.Title != before.Title || after.Rule != before.Rule || after.Body != before.Body || after.Extra != before.Extra {
		t.Errorf("other fields changed: %+v vs %+v", after, before)
	}
}

// FuzzSetFields checks that an edit of a file that parses either is
// refused or gives a file that parses to the same record but for the
// edited key, which reads back as written. Seeded with the golden corpus;
// `go test -fuzz=FuzzSetFields ./frontmatter`.
func FuzzSetFields(f *testing.F) {
	for _, c := range loadCorpus(f) {
		f.Add(c.in.Data, "a value: with ---\nlines")
	}
	f.Fuzz(func(t *testing.T, data []byte, value string) {
		in := Input{Path: "failures/x.md", Data: data, ModTime: time.Unix(1700000000, 0)}
		before, err := Parse(in)
		if err != nil {
			return
		}
		out, err := SetFields(data, []Change{{Key: "zz_fuzz", Value: value}})
		if err != nil {
			if !errors.Is(err, ErrEdit) {
				t.Fatalf("error not wrapping ErrEdit: %v", err)
			}
			return
		}
		in.Data = out
		after, err := Parse(in)
		if err != nil {
			// A bold-field file given a frontmatter block is the one
			// allowed change of reading; the result must still parse.
			t.Fatalf("edited file does not parse: %v\nin: %q\nout: %q", err, data, out)
		}
		var extra map[string]any
		if err := json.Unmarshal([]byte(after.Extra), &extra); err != nil || extra["zz_fuzz"] != value {
			t.Fatalf("zz_fuzz reads back as %v (extra %s), want %q", extra["zz_fuzz"], after.Extra, value)
		}
		if bytes.HasPrefix(bytes.TrimLeft(bytes.TrimPrefix(data, bom), " \t\r\n"), []byte("---")) {
			after.Extra, before.Extra = "", ""
			a, _ := json.Marshal(after)
			b, _ := json.Marshal(before)
			if string(a) != string(b) {
				t.Fatalf("other fields changed:\nbefore %+v\nafter  %+v", before, after)
			}
		}
	})
}
