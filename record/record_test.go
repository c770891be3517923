package record

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/layout"
)

var testNow = time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)

// TestRecordWriteConcurrent races writers for one name: each gets its own
// file, and no temp file is left.
func TestRecordWriteConcurrent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "memory", "failures")
	const n = 30
	paths := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			paths[i], errs[i] = writeUnique(dir, testNow, "same", []byte{byte('a' + i%26), '\n'})
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if seen[paths[i]] {
			t.Errorf("%s written twice", paths[i])
		}
		seen[paths[i]] = true
		data, err := os.ReadFile(paths[i])
		if err != nil || string(data) != string([]byte{byte('a' + i%26), '\n'}) {
			t.Errorf("%s holds %q (%v), want writer %d's data", paths[i], data, err, i)
		}
	}
	for k := 1; k <= n; k++ {
		if !seen[filepath.Join(dir, frontmatter.FileName(testNow, "same", k))] {
			t.Errorf("name %d unused", k)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != n {
		t.Errorf("%d entries, want %d (no temp files)", len(entries), n)
	}
}

// TestRecordWriteFails checks that a failed write leaves no temp file: the
// folder is a file, then the target names are all taken by directories.
func TestRecordWriteFails(t *testing.T) {
	root := t.TempDir()
	notDir := filepath.Join(root, "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := writeUnique(notDir, testNow, "x", []byte("x")); err == nil {
		t.Error("writeRecord into a file: no error")
	}

	// A name held by a directory is taken too: the link goes to the next.
	dir := filepath.Join(root, "d")
	if err := os.MkdirAll(filepath.Join(dir, frontmatter.FileName(testNow, "x", 1)), 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := writeUnique(dir, testNow, "x", []byte("x"))
	if err != nil || filepath.Base(p) != frontmatter.FileName(testNow, "x", 2) {
		t.Errorf("writeRecord = %q, %v; want the -2 name", p, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("%d entries, want 2 (no temp file)", len(entries))
	}
}

// TestWrite records each type through the API the MCP server uses, and
// reads the file back.
func TestWrite(t *testing.T) {
	mem := filepath.Join(t.TempDir(), "memory")
	for _, k := range layout.Kinds {
		in := map[string]string{"title": " A " + k.Type + " ", "domain": "d", "tags": "a, b,", "rule": "R " + k.Type}
		p, err := Write(mem, k.Type, in, testNow.Add(700*time.Millisecond))
		if err != nil {
			t.Fatalf("%s: %v", k.Type, err)
		}
		if filepath.Dir(p) != filepath.Join(mem, k.Folder) || !strings.HasPrefix(filepath.Base(p), "20261127_") {
			t.Errorf("%s: wrote %s", k.Type, p)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		r, err := frontmatter.Parse(frontmatter.Input{Path: k.Folder + "/" + filepath.Base(p), Data: data})
		if err != nil {
			t.Fatalf("%s: %v\n%s", k.Type, err, data)
		}
		want := "A " + k.Type
		if k.Type == layout.TypeHeuristic {
			want = "R " + k.Type
		}
		if r.Type != k.Type || r.Title != want || r.TagString() != "a,b" || !r.Created.Equal(testNow) {
			t.Errorf("%s: read back %+v", k.Type, r)
		}
	}
	if _, err := Write(mem, "note", map[string]string{"title": "x"}, testNow); err == nil {
		t.Error("Write of an unknown type: no error")
	}
}

func TestSeverityAndConfidence(t *testing.T) {
	sev := []struct {
		in   string
		want int
		ok   bool
	}{{"1", 1, true}, {"5", 5, true}, {"Critical", 5, true}, {"low", 2, true}, {"03", 0, false}, {"+3", 0, false}, {"6", 0, false}, {"CRİTICAL", 0, false}}
	for _, tt := range sev {
		got, err := parseSeverity(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("parseSeverity(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	conf := []struct {
		in   string
		want float64
		ok   bool
	}{{"0", 0, true}, {"1", 1, true}, {".5", 0.5, true}, {"HIGH", 0.9, true}, {"1.5", 0, false}, {"1e-1", 0, false}, {"NaN", 0, false}, {"0.1234567890123456", 0, false}}
	for _, tt := range conf {
		got, err := parseConfidence(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("parseConfidence(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
