package frontmatter

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emergent-learning/elfsync/layout"
)

func TestParseErrorKinds(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		want error
	}{
		{"size on disk", Input{Path: "failures/a.md", Data: []byte("# a\n"), Size: DefaultMaxSize + 1}, ErrTooLarge},
		{"data over max", Input{Path: "failures/a.md", Data: []byte("# abc\n"), MaxSize: 3}, ErrTooLarge},
		{"nul", Input{Path: "failures/a.md", Data: []byte("# a\x00\n")}, ErrBinary},
		{"bad utf-8", Input{Path: "failures/a.md", Data: []byte("# a\xff\n")}, ErrNotUTF8},
		{"unterminated", Input{Path: "failures/a.md", Data: []byte("---\ntitle: a\n")}, ErrUnterminated},
		{"bad yaml", Input{Path: "failures/a.md", Data: []byte("---\ntitle: [\n---\n")}, ErrYAML},
		{"list", Input{Path: "failures/a.md", Data: []byte("---\n- a\n---\n")}, ErrYAML},
		{"duplicate", Input{Path: "failures/a.md", Data: []byte("---\na: 1\nA: 2\n---\n")}, ErrYAML},
		{"no type", Input{Path: "notes/a.md", Data: []byte("# a\n")}, ErrNoType},
		{"bad severity", Input{Path: "failures/a.md", Data: []byte("---\nseverity: 7\n---\n")}, ErrField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse: got error %v, want one wrapping %v", err, tt.want)
			}
			if strings.Contains(err.Error(), tt.in.Path) {
				t.Errorf("error %q names the path: the caller does", err)
			}
		})
	}
}

func TestSizeBoundary(t *testing.T) {
	data := []byte("---\ntitle: x\n---\n")
	if _, err := Parse(Input{Path: "failures/a.md", Data: data, MaxSize: int64(len(data))}); err != nil {
		t.Errorf("file exactly at MaxSize: %v", err)
	}
	if _, err := Parse(Input{Path: "failures/a.md", Data: data, Size: DefaultMaxSize}); err != nil {
		t.Errorf("Size exactly DefaultMaxSize: %v", err)
	}
	_, err := Parse(Input{Path: "failures/a.md", Data: data, Size: DefaultMaxSize + 1})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprint(DefaultMaxSize)) {
		t.Errorf("over the limit: got %v, want an error naming the limit", err)
	}
}

func TestFrontmatterSizeLimit(t *testing.T) {
	doc := func(n int) []byte {
		return []byte("---\ntitle: big\nnote: " + strings.Repeat("x", n) + "\n---\nBody.\n")
	}
	if _, err := Parse(Input{Path: "failures/a.md", Data: doc(MaxFrontmatterSize - 100)}); err != nil {
		t.Errorf("frontmatter just under the limit: %v", err)
	}
	_, err := Parse(Input{Path: "failures/a.md", Data: doc(MaxFrontmatterSize)})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("frontmatter over the limit: got %v, want ErrTooLarge", err)
	}
}

// TestAliasBombs checks that YAML built to expand exponentially fails fast
// and small: the guard counts expanded nodes before anything is decoded.
func TestAliasBombs(t *testing.T) {
	levels := func(n, width int, keysUsing int) string {
		var b strings.Builder
		b.WriteString("---\ntitle: bomb\nl0: &l0 [" + strings.TrimSuffix(strings.Repeat(`"lol",`, width), ",") + "]\n")
		for i := 1; i < n; i++ {
			fmt.Fprintf(&b, "l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d,", i-1), width), ","))
		}
		// Many keys each pointing at the largest anchor: a guard per decode
		// call would let every one of them through.
		for i := 0; i < keysUsing; i++ {
			fmt.Fprintf(&b, "k%d: *l%d\n", i, n-1)
		}
		b.WriteString("---\nBody.\n")
		return b.String()
	}
	tests := []struct {
		name string
		doc  string
	}{
		{"billion laughs", levels(9, 9, 0)},
		{"deep and narrow", levels(60, 2, 0)},
		{"many keys on a mid-size anchor", levels(4, 20, 1000)},
		{"cycle", "---\na: &a {b: *a}\n---\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := Parse(Input{Path: "failures/bomb.md", Data: []byte(tt.doc)})
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrYAML) {
				t.Fatalf("got %v, want a YAML error", err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
			if took > 5*time.Second { // generous: -race and a busy machine
				t.Errorf("took %v", took)
			}
		})
	}
}

func TestDeepNesting(t *testing.T) {
	for _, open := range []string{"[", "{a: "} {
		doc := "---\nx: " + strings.Repeat(open, 12000) + "\n---\n"
		if len(doc) > MaxFrontmatterSize {
			doc = "---\nx: " + strings.Repeat(open, MaxFrontmatterSize/len(open)-10) + "\n---\n"
		}
		if _, err := Parse(Input{Path: "failures/a.md", Data: []byte(doc)}); err == nil {
			t.Errorf("nesting %q: no error", open)
		}
	}
}

// TestSplitAgreesWithAdrg checks the frontmatter scan against
// adrg/frontmatter on the delimiter cases that differ from a naive reading.
func TestSplitAgreesWithAdrg(t *testing.T) {
	for _, doc := range []string{
		"", "\n", "---", "---\n", "---\n---", "---\n---\n", "\n\n---\na: 1\n---\nb",
		" --- \na: 1\n\t---\t\nb", "---\na: 1\n...\nb", "---yaml\na: 1\n---\n", "x\n---\na: 1\n---\n",
		"---\na: 1\n----\n---\n", "\u00a0---\na: 1\n---\n", "---\na: 1\n---x\n", "---\r\na: 1\r\n---\r\n",
	} {
		checkSplit(t, doc)
	}
}

// checkSplit fails if split and adrg/frontmatter disagree about doc: both
// must find the same block, or adrg none while split finds none or an
// unterminated one.
func checkSplit(t *testing.T, doc string) {
	t.Helper()
	fm, err := split(doc)
	target := &yamlTarget{}
	rest, aerr := adrgParse(doc, target)
	switch {
	case aerr != nil:
		// A YAML error: adrg found a block.
		if err != nil || !fm.found {
			t.Errorf("%q: adrg found a block (%v), split: %+v, %v", doc, aerr, fm, err)
		}
	case target.called:
		if err != nil || !fm.found || len(doc)-fm.bodyStart != len(rest) {
			t.Errorf("%q: adrg found a block with body %q, split: %+v, %v", doc, rest, fm, err)
		}
	default:
		if fm.found || (err != nil && !errors.Is(err, ErrUnterminated)) {
			t.Errorf("%q: adrg found no block, split: %+v, %v", doc, fm, err)
		}
	}
}

// TestConcurrentParse parses the corpus from several goroutines at once, for
// the race detector and the pooled readers.
func TestConcurrentParse(t *testing.T) {
	files := loadCorpus(t)
	want := make([]string, len(files))
	for i, f := range files {
		b, err := goldenJSON(f.in)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = string(b)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, f := range files {
				got, err := goldenJSON(f.in)
				if err != nil || string(got) != want[i] {
					t.Errorf("%s: concurrent parse differs: %v\n%s", f.in.Path, err, got)
				}
			}
		}()
	}
	wg.Wait()
}

func TestCorpusInvariants(t *testing.T) {
	for _, f := range loadCorpus(t) {
		checkResult(t, f.in)
	}
}

func TestInputNotRetained(t *testing.T) {
	data := []byte("---\ntitle: Mine\ntags: a, b\n---\n# Heading\n\nBody text.\n")
	r, err := Parse(Input{Path: "failures/a.md", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	for i := range data {
		data[i] = 'z'
	}
	if r.Title != "Mine" || r.Body != "# Heading\n\nBody text.\n" || r.TagString() != "a,b" {
		t.Errorf("record changed with its input: %+v", r)
	}
}

func TestTagString(t *testing.T) {
	for _, tt := range []struct {
		tags []string
		want string
	}{
		{nil, ""},
		{[]string{"a"}, "a"},
		{[]string{"a", "b c", "d"}, "a,b c,d"},
	} {
		r := Record{Tags: tt.tags}
		if got := r.TagString(); got != tt.want {
			t.Errorf("TagString(%q) = %q, want %q", tt.tags, got, tt.want)
		}
	}
}

func TestUpdatedIsModTime(t *testing.T) {
	mt := time.Date(2025, 3, 4, 5, 6, 7, 8, time.FixedZone("x", 3600))
	r, err := Parse(Input{Path: "failures/a.md", Data: []byte("# a\n"), ModTime: mt})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Updated.Equal(mt) || !r.Created.Equal(mt) || r.Updated.Location() != time.UTC {
		t.Errorf("Updated %v, Created %v; want %v in UTC", r.Updated, r.Created, mt)
	}
}

// knownErrors are the errors every Parse error must wrap one of.
var knownErrors = []error{ErrTooLarge, ErrBinary, ErrNotUTF8, ErrUnterminated, ErrYAML, ErrNoType, ErrField}

// checkResult checks what must hold for any input: Parse returns either a
// record with a valid type and in-range fields, or an error of a known kind
// that names the path.
func checkResult(t *testing.T, in Input) {
	t.Helper()
	r, err := Parse(in)
	if err != nil {
		if errors.Is(err, errInternal) {
			t.Fatalf("Parse(%q, %q): %v", in.Path, in.Data, err)
		}
		known := false
		for _, e := range knownErrors {
			known = known || errors.Is(err, e)
		}
		if !known {
			t.Errorf("Parse(%q, %q): error of no known kind: %v", in.Path, in.Data, err)
		}
		if strings.HasPrefix(err.Error(), "parse ") {
			t.Errorf("Parse(%q): error names the path: %v", in.Path, err)
		}
		return
	}
	if layout.TypeWord(r.Type) != r.Type {
		t.Errorf("Parse(%q, %q): type %q", in.Path, in.Data, r.Type)
	}
	if r.Severity < 0 || r.Severity > 5 {
		t.Errorf("Parse(%q, %q): severity %d", in.Path, in.Data, r.Severity)
	}
	if r.Confidence != nil && !(*r.Confidence >= 0 && *r.Confidence <= 1) {
		t.Errorf("Parse(%q, %q): confidence %v", in.Path, in.Data, *r.Confidence)
	}
	if r.Extra != "" {
		var m map[string]any
		if err := json.Unmarshal([]byte(r.Extra), &m); err != nil {
			t.Errorf("Parse(%q, %q): Extra %q is not a JSON object: %v", in.Path, in.Data, r.Extra, err)
		}
	}
	for _, tag := range r.Tags {
		if tag == "" || tag != strings.TrimSpace(tag) || strings.Contains(tag, ",") {
			t.Errorf("Parse(%q, %q): tag %q", in.Path, in.Data, tag)
		}
	}
	text := strings.ReplaceAll(strings.TrimPrefix(string(in.Data), "\ufeff"), "\r\n", "\n")
	if !strings.HasSuffix(text, r.Body) {
		t.Errorf("Parse(%q, %q): body %q is not from the input", in.Path, in.Data, r.Body)
	}
}

// TestSimpleFields checks which blocks the fast path takes and that it
// reads them as yaml.v3 does; FuzzParse checks the latter on everything.
func TestSimpleFields(t *testing.T) {
	tests := []struct {
		yml    string
		simple bool
	}{
		{"title: a\ntags: [a, b]\nseverity: 3\n", true},
		{"a: no\nb: yes\nc: on\nd: 2025-12-01\ne: 1.50\nf: 0x1F\ng: ~\nh: .nan\ni: 1_000\n", true},
		{"a: \"quoted # not a comment: ok\"\nb: 'single'\nc: \"\"\nd:\n", true},
		{"url: https://example.com/a#b\nc: C#\nd: a, b\ne: x-y\n", true},
		{"# comment\n\ntitle: a\n  \n", true},
		{"a: []\nb: [ x ]\nc: [1, 2.5, true, null]\n", true},
		{"title: café ☕ 😀\n", true},
		{"a: b # comment\n", false},
		{"a: 'it''s'\n", false},
		{"a: \"esc\\n\"\n", false},
		{"a: b\n  c\n", false},
		{"tags:\n  - a\n", false},
		{"a: &x b\nc: *x\n", false},
		{"a: !!str 1\n", false},
		{"a: [x,]\n", false},
		{"a: [x, [y]]\n", false},
		{"a: [x: y]\n", false},
		{"a: -1\n", false},
		{"a: |\n  x\n", false},
		{"a: b: c\n", false},
		{"a:b\n", false},
		{"a : b\n", false},
		{"a: b\tc\n", false},
		{"a: x\u2028y\n", false},
		{"a: x\u0085y\n", false},
		{"\"a\": b\n", false},
		{"a b: c\n", false},
		{"<<: {a: 1}\n", false},
	}
	for _, tt := range tests {
		_, ok, _ := simpleFields([]byte(tt.yml), 0)
		if ok != tt.simple {
			t.Errorf("simpleFields(%q): ok %v, want %v", tt.yml, ok, tt.simple)
		}
		checkSimple(t, []byte(tt.yml))
	}
	// Repeated keys: the same error as yaml.v3's path.
	checkSimple(t, []byte("title: a\nTitle: b\n"))
}

// TestSimpleFieldsRandom builds blocks from tokens that YAML resolves in
// surprising ways and checks that simpleFields, whenever it takes a block,
// reads it as yaml.v3 does.
func TestSimpleFieldsRandom(t *testing.T) {
	keys := []string{"title", "Title", "tags", "no", "y", "null", "true", "k-1", "_x", "a_b", "created"}
	atoms := []string{"", "no", "yes", "On", "~", "null", "Null", "NULL", "true", "TRUE", "tRUE", "0", "00", "007",
		"0x1F", "0o17", "0b101", "1e3", ".5", "+1", "1_000", "1.", "+.inf", ".Inf", ".NaN", "12:30", "1:20:30",
		"2025-12-01", "2025-12-1", "2025-12-01T10:00:00Z", "2025-12-01 10:00:00", "2001-12-14t21:59:43.10-05:00",
		"a:b", "a#b", "C#", "a,b", "a, b", "x y", "x  y", "=", "<<", "é", "☕", "%x", "@x", "`x`", "x'", "x\"",
		"\"q\"", "'s'", "\"\"", "''", "\"a: #b\"", "[a, b]", "[]", "[ ]", "[1, 2.5, ~]", "[x]", "-", ".", "..."}
	rng := rand.New(rand.NewPCG(1, 2))
	accepted := 0
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for n := rng.IntN(4) + 1; n > 0; n-- {
			v := atoms[rng.IntN(len(atoms))]
			if rng.IntN(4) == 0 {
				v += atoms[rng.IntN(len(atoms))]
			}
			fmt.Fprintf(&b, "%s:%s%s\n", keys[rng.IntN(len(keys))], []string{" ", "  ", ""}[rng.IntN(3)], v)
		}
		if _, ok, _ := simpleFields([]byte(b.String()), 0); ok {
			accepted++
		}
		checkSimple(t, []byte(b.String()))
	}
	if accepted < 5000 {
		t.Errorf("simpleFields took only %d of 20000 blocks", accepted)
	}
}
