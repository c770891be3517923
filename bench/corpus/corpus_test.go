package corpus

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emergent-learning/elfsync/frontmatter"
)

// readTree returns every file under dir by slash path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDeterministic(t *testing.T) {
	for _, prose := range []Prose{Real, Small} {
		t.Run(string(prose), func(t *testing.T) {
			opts := Options{Notes: 400, Dirs: 24, Seed: 7, Prose: prose}
			a, b := t.TempDir(), t.TempDir()
			pa, err := Generate(a, opts)
			if err != nil {
				t.Fatal(err)
			}
			pb, err := Generate(b, opts)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(pa, "\n") != strings.Join(pb, "\n") {
				t.Fatal("same options, different paths")
			}
			ta, tb := readTree(t, a), readTree(t, b)
			if len(ta) != opts.Notes || len(pa) != opts.Notes {
				t.Fatalf("%d files, %d paths, want %d", len(ta), len(pa), opts.Notes)
			}
			for p, da := range ta {
				if !bytes.Equal(da, tb[p]) {
					t.Fatalf("%s differs between two runs with the same seed", p)
				}
			}
			opts.Seed = 8
			c := t.TempDir()
			pc, err := Generate(c, opts)
			if err != nil {
				t.Fatal(err)
			}
			if tc := readTree(t, c); bytes.Equal(tc[pc[len(pc)-1]], ta[pa[len(pa)-1]]) {
				t.Error("another seed wrote the same last note")
			}
		})
	}
}

// TestRealCorpus checks that the Real corpus is what the benchmark claims:
// every file parses as a record, a large vocabulary, the three formats, no
// markdown link brackets, and realistic sizes.
func TestRealCorpus(t *testing.T) {
	dir := t.TempDir()
	const n = 1500
	paths, err := Generate(dir, Options{Notes: n, Dirs: 60, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	words := map[string]bool{}
	var domainFiles, bold, withFM, total int
	for _, p := range paths {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		total += len(data)
		if _, err := frontmatter.Parse(frontmatter.Input{Path: p, Data: data, ModTime: time.Now(), Size: int64(len(data))}); err != nil {
			t.Errorf("%s does not parse: %v", p, err)
		}
		s := string(data)
		switch {
		case IsDomainFile(p):
			domainFiles++
			if !strings.Contains(s, "\n## H-") || !strings.Contains(s, "\n**Confidence**: ") || !strings.Contains(s, "\n**Source**: ") {
				t.Errorf("%s is not a domain file:\n%s", p, s)
			}
		case strings.HasPrefix(s, "---\ntype: "):
			withFM++
		case strings.Contains(s, "\n**Domain**: ") || strings.Contains(s, "\n**Domain:** "):
			bold++
		default:
			t.Errorf("%s has neither frontmatter nor bold fields:\n%s", p, s)
		}
		if strings.ContainsAny(s, "[]") {
			t.Errorf("%s holds a bracket (a markdown link reference)", p)
		}
		for _, w := range strings.Fields(strings.ToLower(s)) {
			words[strings.Trim(w, ".,:;?!()\"'*#-")] = true
		}
	}
	if want := n / DomainFilesPer; domainFiles != want {
		t.Errorf("%d domain files, want %d", domainFiles, want)
	}
	if bold < n/20 || withFM < n/2 {
		t.Errorf("%d bold-field and %d frontmatter notes of %d", bold, withFM, n)
	}
	if len(words) < 5000 {
		t.Errorf("%d distinct words in %d notes: not a natural vocabulary", len(words), n)
	}
	if avg := total / n; avg < 1200 || avg > 4000 {
		t.Errorf("average file size %d bytes, want 1.2-4 KB", avg)
	}
	t.Logf("%d files: %d frontmatter, %d bold-field, %d domain files; %d distinct words; %d bytes on average",
		n, withFM, bold, domainFiles, len(words), total/n)
}
