package frontmatter

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// testModTime is every corpus file's ModTime, so that goldens are stable.
var testModTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// corpusRoots are the trees the golden test parses. A file's path relative
// to its root is its memory-relative Input.Path, which decides its type and
// its name-derived fields; its golden is testdata/golden/<name>/<path>.json.
var corpusRoots = []struct{ name, dir string }{
	{"legacy", "testdata/legacy/memory"}, // the framework's own files, copied from a real memory folder
	{"corpus", "testdata/corpus"},        // one file per odd case
}

type corpusFile struct {
	root string // corpusRoots name
	in   Input
}

// loadCorpus reads every corpus file, with the Size and MaxSize overrides
// of testdata/corpus.txt.
func loadCorpus(tb testing.TB) []corpusFile {
	tb.Helper()
	overrides := readOverrides(tb, "testdata/corpus.txt")
	var files []corpusFile
	for _, r := range corpusRoots {
		err := filepath.WalkDir(r.dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, err := filepath.Rel(r.dir, p)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			in := Input{Path: filepath.ToSlash(rel), Data: data, ModTime: testModTime, Size: int64(len(data))}
			if r.name == "corpus" {
				if o, ok := overrides[in.Path]; ok {
					if o.Size != 0 {
						in.Size = o.Size
					}
					in.MaxSize = o.MaxSize
					delete(overrides, in.Path)
				}
			}
			files = append(files, corpusFile{root: r.name, in: in})
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	for p := range overrides {
		tb.Errorf("testdata/corpus.txt names %s, which is not in testdata/corpus", p)
	}
	return files
}

func readOverrides(tb testing.TB, name string) map[string]Input {
	tb.Helper()
	f, err := os.Open(name)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	out := map[string]Input{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		words := strings.Fields(sc.Text())
		if len(words) == 0 || strings.HasPrefix(words[0], "#") {
			continue
		}
		var in Input
		for _, w := range words[1:] {
			k, v, _ := strings.Cut(w, "=")
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				tb.Fatalf("%s: %q: %v", name, w, err)
			}
			switch k {
			case "size":
				in.Size = n
			case "max":
				in.MaxSize = n
			default:
				tb.Fatalf("%s: unknown setting %q", name, w)
			}
		}
		out[words[0]] = in
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// golden is what a golden file holds: the record, or the error.
type golden struct {
	Path   string
	Error  string  `json:",omitempty"`
	Record *Record `json:",omitempty"`
}

// goldenJSON returns what in's golden file should hold. It is safe to call
// from any goroutine.
func goldenJSON(in Input) ([]byte, error) {
	g := golden{Path: in.Path}
	rec, err := Parse(in)
	if err != nil {
		g.Error = err.Error()
	} else {
		g.Record = &rec
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(g); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// TestGolden parses every corpus file and compares the result with its
// golden file. Run `go test ./frontmatter -update` to rewrite them, then
// review the diff.
func TestGolden(t *testing.T) {
	want := map[string]bool{}
	for _, f := range loadCorpus(t) {
		name := filepath.Join("testdata", "golden", f.root, filepath.FromSlash(f.in.Path)+".json")
		want[name] = true
		t.Run(path.Join(f.root, f.in.Path), func(t *testing.T) {
			got, err := goldenJSON(f.in)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(name, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			exp, err := os.ReadFile(name)
			if err != nil {
				t.Fatalf("%v (run go test ./frontmatter -update)", err)
			}
			if !bytes.Equal(got, exp) {
				t.Errorf("Parse(%s) differs from %s\ngot:\n%s\nwant:\n%s", f.in.Path, name, got, exp)
			}
		})
	}
	// A golden file whose input is gone is stale: remove it on -update,
	// complain otherwise.
	var stale []string
	err := filepath.WalkDir(filepath.Join("testdata", "golden"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || want[p] {
			return err
		}
		stale = append(stale, p)
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	sort.Strings(stale)
	for _, p := range stale {
		if *update {
			if err := os.Remove(p); err != nil {
				t.Error(err)
			}
		} else {
			t.Errorf("stale golden file %s has no input (run go test ./frontmatter -update)", p)
		}
	}
}
