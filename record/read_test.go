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
