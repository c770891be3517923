package status

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/indexer"
	"github.com/emergent-learning/elfsync/instance"
	"github.com/emergent-learning/elfsync/remote"
)

func TestPending(t *testing.T) {
	root := t.TempDir()
	now := time.Now()
	old := now.Add(-time.Hour)
	mk := func(rel string, mtime time.Time) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(filepath.Dir(p), old, old); err != nil {
			t.Fatal(err)
		}
	}
	mk("memory/failures/new.md", now)
	mk("memory/failures/stale.md", old)
	mk("memory/old/x.md", old)
	st := instance.State{IndexDeadline: 3 * time.Second, CommitDeadline: 40 * time.Second}
	commit := &LastCommit{Hash: "h"}
	tests := []struct {
		name    string
		rep     Report
		st      instance.State
		pending []string
		all     bool
	}{
		{"a new file", Report{MissingRows: []string{"memory/failures/new.md"}, LastCommit: commit}, st,
			[]string{"memory/failures/new.md"}, true},
		{"a row an hour behind", Report{StaleRows: []string{"memory/failures/stale.md"}, LastCommit: commit}, st,
			[]string{}, false},
		{"in a full scan", Report{StaleRows: []string{"memory/failures/stale.md"}, LastCommit: commit},
			instance.State{Scanning: true}, []string{"memory/failures/stale.md"}, true},
		{"a new file and an old one", Report{MissingRows: []string{"memory/failures/new.md", "memory/old/x.md"}, LastCommit: commit}, st,
			[]string{"memory/failures/new.md"}, false},
		{"uncommitted within the commit deadline", Report{Uncommitted: []string{"memory/failures/new.md"}, LastCommit: commit}, st,
			[]string{"memory/failures/new.md"}, true},
		{"a refused row beside a new file", Report{MissingRows: []string{"memory/failures/new.md"}, LastCommit: commit,
			Refused: []indexer.Refused{{Table: "learnings", ID: 3, Path: "memory/index.db", Reason: "unsafe path"}}}, st,
			[]string{"memory/failures/new.md"}, false},
		{"no deadlines published", Report{MissingRows: []string{"memory/failures/new.md"}, LastCommit: commit}, instance.State{},
			[]string{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, all := pending(root, tt.rep, tt.st, now)
			if !slices.Equal(got, tt.pending) || all != tt.all {
				t.Errorf("pending = %q, %v; want %q, %v", got, all, tt.pending, tt.all)
			}
		})
	}
	// A deleted file: its folder's mtime counts.
	gone := filepath.Join(root, "memory", "failures", "gone.md")
	mk("memory/failures/gone.md", old)
	os.Remove(gone) // the folder's mtime is now
	if got, all := pending(root, Report{OrphanRows: []string{"memory/failures/gone.md"}, LastCommit: commit}, st, time.Now()); !all || len(got) != 1 {
		t.Errorf("a file just deleted: pending = %q, %v; want it pending", got, all)
	}
}

func TestWriteText(t *testing.T) {
	var b strings.Builder
	Report{Files: 1, MissingRows: []string{"memory/a.md"}, Pending: []string{"memory/a.md"}, OnlyPending: true,
		Git: true, LastCommit: &LastCommit{Hash: "0123456789abcdef", Subject: "memory: +1 failures"},
		Watcher: Watcher{Running: true, PID: 7}}.WriteText(&b)
	got := b.String()
	for _, want := range []string{"pending: 1 file, 0 rows\n", "pending, the running watcher is on it (1):\n  memory/a.md\n",
		"last commit: 0123456789ab memory: +1 failures", "watcher: running (pid 7)\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("text lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "files without a row") {
		t.Errorf("pending paths listed as drift too:\n%s", got)
	}
	b.Reset()
	Report{Files: 2, Rows: 1, MissingRows: []string{"memory/b.md"}, Git: true, NoRepository: true}.WriteText(&b)
	if got := b.String(); !strings.HasPrefix(got, "DRIFT: 2 files, 1 row\nfiles without a row (1):\n") ||
		!strings.Contains(got, "last commit: none (no git repository yet") || strings.Contains(got, "0001-01-01") {
		t.Errorf("drift text:\n%s", got)
	}
}

// Records whose rows are in but whose full-text entries are not (a crash
// between the two steps of a scan) are shown, and are drift until a scan
// completes them.
func TestSearchPendingShown(t *testing.T) {
	root := t.TempDir()
	mem := filepath.Join(root, "memory", "failures")
	if err := os.MkdirAll(mem, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b"} {
		if err := os.WriteFile(filepath.Join(mem, n+".md"), []byte("---\ntype: failure\ntitle: "+n+"\n---\n\nbody\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	ix, err := indexer.Open(ctx, indexer.Options{Root: root, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if _, err := ix.Scan(ctx, nil); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+ix.DBPath()+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`INSERT INTO search (search) VALUES ('delete-all')`, `UPDATE meta SET value = '0' WHERE key = 'fts_upto'`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := Read(ctx, root, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep.WriteText(&b)
	if rep.SearchPending != 2 || rep.InSync || !strings.Contains(b.String(), "full text incomplete: 2 records not yet searchable") {
		t.Errorf("search_pending %d, in_sync %v:\n%s", rep.SearchPending, rep.InSync, b.String())
	}
	if _, err := ix.Scan(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if rep, err = Read(ctx, root, 0, false); err != nil || rep.SearchPending != 0 || !rep.InSync {
		t.Errorf("after a scan: search_pending %d, in_sync %v (%v)", rep.SearchPending, rep.InSync, err)
	}
}

// TestConflictCopiesFromTheCheck checks that the conflict copies status
// finds in its index check's walk are the ones remote.ConflictCopies finds
// walking memory/ itself, in the same order.
func TestConflictCopiesFromTheCheck(t *testing.T) {
	root := t.TempDir()
	for _, rel := range []string{
		"memory/failures/a.md",
		"memory/failures/a.conflict-0badf00d-20261101T100000Z.md",
		"memory/failures/deep/b.conflict-merge-20261101T100000Z-2.md",
		"memory/c.conflict-0badf00d-20261101T100000Z",
		"memory/notes.conflict-0badf00d-20261101T100000Z.txt",
		"memory/failures/a-b.conflict-0badf00d-20261101T100000Z.md",
		"memory/.elfsync/d.conflict-0badf00d-20261101T100000Z.md",
		"memory/failures/looks.conflict-like.md",
	} {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for _, p := range remote.ConflictCopies(root) {
		rel, _ := filepath.Rel(root, p)
		want = append(want, filepath.ToSlash(rel))
	}
	if len(want) != 5 {
		t.Fatalf("remote.ConflictCopies found %q, want 5", want)
	}
	rep, err := ReadWith(context.Background(), root, Options{ConflictCopy: remote.IsConflictCopyName})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.ConflictPaths, want) {
		t.Errorf("ConflictPaths = %q, want %q", rep.ConflictPaths, want)
	}
	if rep, err := Read(context.Background(), root, 0, false); err != nil || rep.ConflictPaths != nil {
		t.Errorf("without ConflictCopy: %q, %v; want none", rep.ConflictPaths, err)
	}
}
