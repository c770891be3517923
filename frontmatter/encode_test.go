package frontmatter

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

var encodeCreated = time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// TestEncodeLayout pins the file format byte for byte: the scripts write the
// same bytes, and their tests compare against Encode.
func TestEncodeLayout(t *testing.T) {
	tests := []struct {
		name string
		r    Record
		want string
	}{
		{
			name: "failure",
			r: Record{Type: TypeFailure, Title: `Say "hi": #1`, Domain: "bash", Severity: 4,
				Tags: []string{"a", "b"}, Summary: "line 1\nline 2", Created: encodeCreated},
			want: "---\n" +
				"type: failure\n" +
				"title: \"Say \\\"hi\\\": #1\"\n" +
				"domain: \"bash\"\n" +
				"severity: 4\n" +
				"tags: \"a,b\"\n" +
				"summary: \"line 1\\nline 2\"\n" +
				"created: \"2026-11-27T17:00:00Z\"\n" +
				"---\n" +
				"\n" +
				"# Say \"hi\": #1\n" +
				"\n" +
				"## Summary\n" +
				"\n" +
				"line 1\nline 2\n",
		},
		{
			name: "success without summary",
			r:    Record{Type: TypeSuccess, Title: "a\nb", Severity: 3, Created: encodeCreated.Add(90 * time.Minute)},
			want: "---\ntype: success\ntitle: \"a\\nb\"\ndomain: \"\"\nseverity: 3\ntags: \"\"\nsummary: \"\"\n" +
				"created: \"2026-11-27T18:30:00Z\"\n---\n\n# a b\n",
		},
		{
			name: "heuristic",
			r: Record{Type: TypeHeuristic, Rule: "Never delete a lock you did not create", Domain: "git",
				Explanation: "Another process may be writing.", Confidence: ptr(0.85), SourceType: "observation",
				Created: encodeCreated},
			want: "---\n" +
				"type: heuristic\n" +
				"title: \"Never delete a lock you did not create\"\n" +
				"domain: \"git\"\n" +
				"tags: \"\"\n" +
				"rule: \"Never delete a lock you did not create\"\n" +
				"explanation: \"Another process may be writing.\"\n" +
				"confidence: 0.85\n" +
				"source_type: \"observation\"\n" +
				"created: \"2026-11-27T17:00:00Z\"\n" +
				"---\n" +
				"\n" +
				"# Never delete a lock you did not create\n" +
				"\n" +
				"Another process may be writing.\n",
		},
		{
			name: "heuristic, confidence 1, no explanation, rule from title",
			r:    Record{Type: TypeHeuristic, Title: "r", Domain: "d", Confidence: ptr(1.0), Created: encodeCreated},
			want: "---\ntype: heuristic\ntitle: \"r\"\ndomain: \"d\"\ntags: \"\"\nrule: \"r\"\nexplanation: \"\"\n" +
				"confidence: 1.0\nsource_type: \"\"\ncreated: \"2026-11-27T17:00:00Z\"\n---\n\n# r\n",
		},
		{
			name: "unset severity, confidence and created are left out",
			r:    Record{Type: TypeObservation, Title: "t"},
			want: "---\ntype: observation\ntitle: \"t\"\ndomain: \"\"\ntags: \"\"\nsummary: \"\"\n---\n\n# t\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Encode(tt.r)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name string
		r    Record
	}{
		{"invalid UTF-8", Record{Type: TypeFailure, Title: "a\xffb"}},
		{"NUL", Record{Type: TypeFailure, Title: "t", Summary: "a\x00b"}},
		{"unknown type", Record{Type: "note", Title: "t"}},
		{"severity 6", Record{Type: TypeFailure, Title: "t", Severity: 6}},
		{"confidence 1.5", Record{Type: TypeHeuristic, Rule: "r", Confidence: ptr(1.5)}},
		{"heuristic NUL", Record{Type: TypeHeuristic, Rule: "r", Explanation: "\x00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := Encode(tt.r); err == nil {
				t.Errorf("Encode = %q, want an error", got)
			}
		})
	}
	if _, err := Encode(Record{Type: TypeFailure, Title: "\xff"}); !errors.Is(err, ErrUnencodable) {
		t.Errorf("err = %v, want ErrUnencodable", err)
	}
}

// hostile are values meant to break a naive writer: YAML syntax, markdown
// syntax, shell syntax, control characters, line breaks YAML readers
// know and people do not, and unicode.
var hostile = []string{
	`plain`,
	`"double" and 'single' quotes`,
	`key: value # comment`,
	`---`,
	`- leading dash`,
	`# leading hash`,
	`? question`,
	`: colon`,
	`[flow, list]`,
	`{flow: map}`,
	`&anchor *alias !tag %directive @at` + "`backtick`",
	`|`, `>`,
	`yes`, `no`, `on`, `off`, `null`, `~`, `true`, `1.50`, `0x1F`, `.inf`, `.nan`, `2026-11-27`,
	"line one\nline two\n---\n# not a heading\n## Summary\nfake",
	"tab\there",
	"cr\rlf\r\nend",
	`back\slash \\ \n \x41 \u0041 "\"`,
	"$(touch /tmp/elfsync-pwned) `touch /tmp/elfsync-pwned` ${HOME} $HOME",
	"control \x01\x02\x07\x08\x0b\x0c\x0e\x1b\x1f\x7f end",
	"c1 \u0080\u0085\u009f end",
	"separators \u2028 and \u2029 end",
	"bom \ufeff and non-characters \ufffe\uffff end",
	"emoji 😀🎉👩‍👩‍👧 flag 🇫🇷",
	"RTL שלום עליכם مرحبا \u202eevil\u202c",
	"combining e\u0301 and zero width \u200b\u200d",
	"nbsp\u00a0inside and ideographic\u3000space",
	"unicode replacement \ufffd char",
	"ends with backslash \\",
	"---\n---",
	"...",
	"**Domain**: fake",
}

// TestEncodeRoundTrip checks that Parse reads back what Encode wrote, for
// every hostile value in every text field of every type.
func TestEncodeRoundTrip(t *testing.T) {
	for _, typ := range []string{TypeFailure, TypeSuccess, TypeObservation, TypeExperiment, TypeDecision, TypeHeuristic} {
		for i, v := range hostile {
			v = strings.TrimSpace(v) // Parse trims text fields
			tags := splitTags(nil, v+",x,"+v)
			r := Record{Type: typ, Title: v, Domain: v, Summary: v, Tags: tags, Severity: 1 + i%5,
				Created: encodeCreated, Rule: v, Explanation: v, SourceType: v, Confidence: ptr(float64(i%10) / 10)}
			data, err := Encode(r)
			if err != nil {
				t.Fatalf("%s %q: %v", typ, v, err)
			}
			checkRoundTrip(t, r, data)
		}
	}
}

// checkRoundTrip parses data and compares it with r, the record encoded.
func checkRoundTrip(t *testing.T, r Record, data []byte) {
	t.Helper()
	got, err := Parse(Input{Path: "x/y.md", Data: data, ModTime: encodeCreated.Add(time.Hour)})
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	want := r
	want.Tags = append([]string(nil), r.Tags...)
	if want.Type == TypeHeuristic {
		if want.Rule == "" {
			want.Rule = want.Title
		}
		want.Title = want.Rule
	}
	fail := func(field string, got, want any) {
		t.Helper()
		t.Errorf("%s: got %q, want %q\nfile:\n%s", field, got, want, data)
	}
	if got.Type != want.Type {
		fail("type", got.Type, want.Type)
	}
	if got.Title != want.Title {
		fail("title", got.Title, want.Title)
	}
	if got.Domain != want.Domain {
		fail("domain", got.Domain, want.Domain)
	}
	if got.TagString() != strings.Join(want.Tags, ",") {
		fail("tags", got.TagString(), strings.Join(want.Tags, ","))
	}
	if !got.Created.Equal(want.Created) {
		fail("created", got.Created, want.Created)
	}
	if want.Type == TypeHeuristic {
		if got.Rule != want.Rule {
			fail("rule", got.Rule, want.Rule)
		}
		if got.Explanation != want.Explanation {
			fail("explanation", got.Explanation, want.Explanation)
		}
		if got.SourceType != want.SourceType {
			fail("source_type", got.SourceType, want.SourceType)
		}
		if (got.Confidence == nil) != (want.Confidence == nil) ||
			got.Confidence != nil && *got.Confidence != *want.Confidence {
			fail("confidence", got.Confidence, want.Confidence)
		}
		return
	}
	if got.Summary != want.Summary {
		fail("summary", got.Summary, want.Summary)
	}
	if got.Severity != want.Severity {
		fail("severity", got.Severity, want.Severity)
	}
}

// TestEncodeQuote checks the escapes, and that yaml.v3 reads every quoted
// value back exactly, white space and all.
func TestEncodeQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{``, `""`},
		{`a"b\c`, `"a\"b\\c"`},
		{"\n\t\r", `"\n\t\r"`},
		{"\x00\x01\x1f\x7f", `"\x00\x01\x1F\x7F"`},
		{"\u0080\u0085\u009f\u00a0", "\"\\x80\\x85\\x9F\u00a0\""},
		{"\u2028\u2029\ufeff\ufffe\uffff\ufffd", "\"\\u2028\\u2029\\uFEFF\\uFFFE\\uFFFF\ufffd\""},
		{"😀 שלום", "\"😀 שלום\""},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	for _, v := range append(hostile, "  padded  ", "\n", " ", "\x00") {
		var got string
		if err := yaml.Unmarshal([]byte("k: "+Quote(v)), &struct {
			K *string `yaml:"k"`
		}{&got}); err != nil {
			t.Fatalf("Quote(%q) = %s: %v", v, Quote(v), err)
		}
		if got != v {
			t.Errorf("Quote(%q) = %s, read back as %q", v, Quote(v), got)
		}
	}
}

// FuzzEncode checks the round trip for any text: go test -fuzz FuzzEncode
// ./frontmatter/. Plain go test runs the seeds.
func FuzzEncode(f *testing.F) {
	for _, v := range hostile {
		f.Add(v, v)
	}
	f.Fuzz(func(t *testing.T, title, summary string) {
		title, summary = strings.TrimSpace(title), strings.TrimSpace(summary)
		r := Record{Type: TypeFailure, Title: title, Summary: summary, Severity: 3, Created: encodeCreated,
			Tags: splitTags(nil, summary)}
		data, err := Encode(r)
		if err != nil {
			if !utf8Clean(title) || !utf8Clean(summary) {
				return
			}
			t.Fatal(err)
		}
		if title == "" {
			return // Parse falls back to the heading, then the file name
		}
		checkRoundTrip(t, r, data)
		h := r
		h.Type, h.Rule, h.Title, h.Explanation, h.Summary = TypeHeuristic, title, "", summary, ""
		h.Confidence = ptr(0.5)
		if data, err = Encode(h); err != nil {
			t.Fatal(err)
		}
		checkRoundTrip(t, h, data)
	})
}

func utf8Clean(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

func TestEncodeSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Hello, World!", "hello-world"},
		{"  --Already--Dashed--  ", "already-dashed"},
		{"Ünïcödé 😀 only", "n-c-d-only"},
		{"😀🎉", "untitled"},
		{"", "untitled"},
		{"---", "untitled"},
		{"$(rm -rf /)", "rm-rf"},
		{"../../etc/passwd", "etc-passwd"},
		{strings.Repeat("a", 70), strings.Repeat("a", 60)},
		{strings.Repeat("a", 59) + " b", strings.Repeat("a", 59)},
		{"ABC_def 123", "abc-def-123"},
	}
	for _, tt := range tests {
		if got := Slug(tt.in); got != tt.want {
			t.Errorf("Slug(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEncodeFileName(t *testing.T) {
	c := time.Date(2026, 1, 2, 23, 30, 0, 0, time.FixedZone("X", -5*3600)) // 2026-01-03 in UTC
	for n, want := range map[int]string{0: "20260103_x.md", 1: "20260103_x.md", 2: "20260103_x-2.md", 10: "20260103_x-10.md"} {
		if got := FileName(c, "x", n); got != want {
			t.Errorf("FileName(n=%d) = %q, want %q", n, got, want)
		}
	}
}

func TestEncodeConfidence(t *testing.T) {
	for c, want := range map[float64]string{0: "0.0", 1: "1.0", 0.5: "0.5", 0.85: "0.85", 0.3: "0.3",
		0.000000000000001: "0.000000000000001", 0.123456789012345: "0.123456789012345"} {
		got, err := FormatConfidence(c)
		if err != nil || got != want {
			t.Errorf("FormatConfidence(%v) = %q, %v, want %q", c, got, err, want)
		}
	}
	for _, c := range []float64{-0.1, 1.01} {
		if _, err := FormatConfidence(c); err == nil {
			t.Errorf("FormatConfidence(%v): no error", c)
		}
	}
}
