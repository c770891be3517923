package record

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/emergent-learning/elfsync/frontmatter"
)

func TestWalk(t *testing.T) {
	mem := t.TempDir()
	files := map[string]string{
		"failures/a.md":          "# A\n",
		"failures/bad.md":        "---\ntitle: [x\n---\n",
		"failures/.a.md.swp":     "noise",
		"notes/picture.png":      "png",
		".git/HEAD.md":           "ignored dir",
		"heuristics/git/h.md":    "---\nrule: R\n---\n",
		"heuristics/link.md~":    "backup",
		"observations/deep/o.md": "---\ntype: observation\n---\n",
	}
	for rel, data := range files {
		p := filepath.Join(mem, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(mem, "failures", "a.md"), filepath.Join(mem, "failures", "link.md")); err != nil {
		t.Fatal(err)
	}
	var valid, invalid []string
	err := Walk(context.Background(), mem, frontmatter.DefaultMaxSize, func(rel string, r frontmatter.Record, err error) error {
		if err != nil {
			invalid = append(invalid, rel)
		} else {
			valid = append(valid, rel+":"+r.Type)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"failures/a.md:failure", "heuristics/git/h.md:heuristic", "observations/deep/o.md:observation"}; !slices.Equal(valid, want) {
		t.Errorf("valid = %q, want %q", valid, want)
	}
	if want := []string{"failures/bad.md", "failures/link.md"}; !slices.Equal(invalid, want) {
		t.Errorf("invalid = %q, want %q (a symlink is not read)", invalid, want)
	}
}

func TestReadPath(t *testing.T) {
	dir := t.TempDir()
	mem := filepath.Join(dir, "memory")
	in := filepath.Join(mem, "failures", "a.md")
	out := filepath.Join(dir, "elsewhere", "a.md")
	for _, p := range []string{in, out} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("# A title\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := ReadPath(mem, in, frontmatter.DefaultMaxSize); err != nil || r.Type != "failure" {
		t.Errorf("ReadPath(under memory/failures) = type %q, %v; want failure from the folder", r.Type, err)
	}
	if _, err := ReadPath(mem, out, frontmatter.DefaultMaxSize); err == nil {
		t.Error("ReadPath(outside memory/, no type in the file) = nil error, want one: no folder gives the type")
	}
}
