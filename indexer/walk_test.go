package indexer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/frontmatter"
)

// referenceWalk is what walkTree must give, written the plain way with
// filepath.WalkDir and os.Lstat: the record files in WalkDir's order with
// their lstat size and mtime, ignored paths skipped, symbolic links never
// followed; and every other non-directory entry that is not ignored.
func referenceWalk(t *testing.T, mem string) (files []walked, others []string) {
	t.Helper()
	err := filepath.WalkDir(mem, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(mem, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if frontmatter.Ignored(rel) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		others = append(others, rel)
		if d.Type().IsRegular() && frontmatter.IsRecord(rel) {
			info, err := os.Lstat(p)
			if err != nil {
				return err
			}
			files = append(files, walked{rel, info.Size(), info.ModTime().UnixNano()})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, others
}

// TestWalkTreeMatchesReference checks walkTree (parallel, getdents and
// fstatat on Linux) against referenceWalk on a tree with the cases that
// matter: names that sort differently as paths than as path elements,
// ignored files and folders, framework files, links to files and to
// folders, a FIFO, empty folders, and mtimes with nanoseconds.
func TestWalkTreeMatchesReference(t *testing.T) {
	root := t.TempDir()
	mem := filepath.Join(root, MemoryDir)
	base := time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC)
	rels := []string{
		"a.md", "a-b.md", "a/z.md", "a/b.md", "a-b/c.md", "a.b/d.md", "A.MD", "b.Md", "notes.txt",
		"README.md", "golden-rules.md", "sub/golden-rules.md", "sub/readme.MD", "sub/x.md~", "sub/.x.md",
		"sub/4913", "sub/#x.md#", "sub/y.md.swp", "sub/z.tmp", "sub/deep/er/e.md",
		"sub/x.conflict-0badf00d-20261101T100000Z.md", "sub/x.conflict-merge-20261101T100000Z-2",
		".git/HEAD", ".hidden/h.md", "skip.tmp/s.md", "index.db", "index.db-wal", "index.db.lock",
	}
	for i := 0; i < 400; i++ { // a folder wide enough to need several getdents calls
		rels = append(rels, fmt.Sprintf("wide/%03d-%s.md", i, strings.Repeat("n", 60)))
	}
	for i, rel := range rels {
		p := filepath.Join(mem, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.Repeat("x", i*7)), 0o644); err != nil {
			t.Fatal(err)
		}
		mt := base.Add(time.Duration(i) * time.Hour)
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"empty", "sub/empty"} {
		if err := os.MkdirAll(filepath.Join(mem, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a", filepath.Join(mem, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../a.md", filepath.Join(mem, "sub", "l.md")); err != nil {
		t.Fatal(err)
	}
	if err := mkfifo(filepath.Join(mem, "sub", "fifo.md")); err != nil {
		t.Logf("no FIFO: %v", err)
	}

	wantFiles, wantOthers := referenceWalk(t, mem)
	// The snapshot is kept in this order, and cmpWalkOrder checks it.
	for i := 1; i < len(wantFiles); i++ {
		if cmpWalkOrder(wantFiles[i-1].rel, wantFiles[i].rel) >= 0 || cmpWalkOrder(wantFiles[i].rel, wantFiles[i-1].rel) <= 0 {
			t.Errorf("cmpWalkOrder puts %s before %s", wantFiles[i].rel, wantFiles[i-1].rel)
		}
	}
	for _, workers := range []int{1, 2, 8} {
		ix := &Index{memDir: mem, log: zerolog.Nop(), opts: Options{Workers: workers}}
		var mu sync.Mutex
		var names []string
		r, err := ix.walkTreeMatch("", func(name string) bool {
			mu.Lock()
			names = append(names, name)
			mu.Unlock()
			return !strings.HasPrefix(name, "0") // most of wide/, to see the order
		})
		if err != nil || len(r.unreadable) != 0 {
			t.Fatalf("walkTree: unreadable %q, %v", r.unreadable, err)
		}
		if !slices.Equal(r.files, wantFiles) {
			t.Errorf("workers %d: walkTree gives\n%v\nwant\n%v", workers, r.files, wantFiles)
		}
		var wantMatched, wantNames []string
		for _, rel := range wantOthers {
			wantNames = append(wantNames, path.Base(rel))
			if !strings.HasPrefix(path.Base(rel), "0") {
				wantMatched = append(wantMatched, rel)
			}
		}
		slices.Sort(names)
		slices.Sort(wantNames)
		if !slices.Equal(names, wantNames) {
			t.Errorf("workers %d: match called with\n%q\nwant\n%q", workers, names, wantNames)
		}
		if !slices.Equal(r.matched, wantMatched) {
			t.Errorf("workers %d: matched\n%q\nwant, in walk order,\n%q", workers, r.matched, wantMatched)
		}
	}

	// A subtree, as a watcher hint walks it.
	ix := &Index{memDir: mem, log: zerolog.Nop()}
	files, _, err := ix.walkTree("sub")
	if err != nil {
		t.Fatal(err)
	}
	var sub []walked
	for _, f := range wantFiles {
		if strings.HasPrefix(f.rel, "sub/") {
			sub = append(sub, f)
		}
	}
	if !slices.Equal(files, sub) {
		t.Errorf("walkTree(sub) = %v, want %v", files, sub)
	}

	// A top that does not exist is the caller's error.
	if _, _, err := ix.walkTree("nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("walkTree(nope): %v, want a not-exist error", err)
	}
}
