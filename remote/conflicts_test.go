package remote

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestConflictCopies(t *testing.T) {
	root := t.TempDir()
	for _, rel := range []string{
		"memory/failures/a.md",
		"memory/failures/a.conflict-0badf00d-20261101T100000Z.md",
		"memory/.elfsync/b.conflict-0badf00d-20261101T100000Z.md",
	} {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := ConflictCopies(root)
	want := []string{filepath.Join(root, "memory", "failures", "a.conflict-0badf00d-20261101T100000Z.md")}
	if !slices.Equal(got, want) {
		t.Errorf("ConflictCopies = %q, want %q", got, want)
	}
}
