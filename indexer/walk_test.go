package indexer

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWalkDirMatchesWalkDir checks that walkDir calls back exactly as
// filepath.WalkDir does, SkipDir included, and that its Info gives what
// os.Lstat gives (symbolic links not followed).
func TestWalkDirMatchesWalkDir(t *testing.T) {
	root := t.TempDir()
	write := func(rel, data string, mtime time.Time) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC)
	for i, rel := range []string{"b/z.md", "b/a.md", "a.md", "c/d/e.md", "c/skip/x.md", "c/y.md", "c/d/f.txt"} {
		write(rel, strings.Repeat("x", i*7), base.Add(time.Duration(i)*time.Hour))
	}
	if err := os.Symlink("b", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.md", filepath.Join(root, "c", "l.md")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}

	trace := func(walk func(string, fs.WalkDirFunc) error) []string {
		var out []string
		err := walk(root, func(p string, d fs.DirEntry, err error) error {
			rel, _ := filepath.Rel(root, p)
			line := fmt.Sprintf("%s dir=%v type=%v err=%v", filepath.ToSlash(rel), d.IsDir(), d.Type(), err)
			if !d.IsDir() {
				info, ierr := d.Info()
				want, werr := os.Lstat(p)
				if ierr != nil || werr != nil {
					t.Errorf("%s: Info %v, Lstat %v", rel, ierr, werr)
				} else if info.Size() != want.Size() || !info.ModTime().Equal(want.ModTime()) ||
					info.ModTime().UnixNano() != want.ModTime().UnixNano() || info.Mode() != want.Mode() || info.Name() != want.Name() {
					t.Errorf("%s: Info gives size %d mtime %v mode %v name %q; Lstat %d %v %v %q", rel,
						info.Size(), info.ModTime(), info.Mode(), info.Name(), want.Size(), want.ModTime(), want.Mode(), want.Name())
				}
				line += fmt.Sprintf(" size=%d", info.Size())
			}
			out = append(out, line)
			if d.IsDir() && d.Name() == "skip" {
				return fs.SkipDir
			}
			if d.Name() == "a.md" && strings.Contains(p, "b") {
				return fs.SkipDir // a file: skips the rest of its directory
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	got, want := trace(walkDir), trace(filepath.WalkDir)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("walkDir:\n%s\nfilepath.WalkDir:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A root that does not exist: one call with the error, as WalkDir.
	var calls []string
	missing := filepath.Join(root, "nope")
	err := walkDir(missing, func(p string, d fs.DirEntry, err error) error {
		calls = append(calls, fmt.Sprintf("%s %v %v", p, d == nil, err != nil))
		return err
	})
	if err == nil || len(calls) != 1 || calls[0] != missing+" true true" {
		t.Errorf("missing root: err %v, calls %q", err, calls)
	}
}
