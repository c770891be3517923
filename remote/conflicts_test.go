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

func TestConflicts(t *testing.T) {
	root := filepath.Join(t.TempDir(), "my root")
	p := filepath.Join(root, "memory", "failures", "a.conflict-0badf00d-20261101T100000Z.md")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := Conflicts(root); got == nil || len(got) != 0 {
		t.Errorf("Conflicts without copies = %#v, want an empty list (JSON [])", got)
	}
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	want := []Conflict{{Path: "memory/failures/a.conflict-0badf00d-20261101T100000Z.md", Resolve: "rm -- '" + p + "'"}}
	if got := Conflicts(root); !slices.Equal(got, want) {
		t.Errorf("Conflicts = %#v, want %#v", got, want)
	}
}
