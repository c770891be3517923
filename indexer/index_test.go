package indexer

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// writeTree writes files (memory-relative path → content) under root/memory.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(root, MemoryDir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// aged sets a file's mtime well in the past, so the racy-mtime guard does
// not force a re-read, the way files look that were not just written.
func aged(t *testing.T, root, rel string) {
	t.Helper()
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(root, MemoryDir, rel), old, old); err != nil {
		t.Fatal(err)
	}
}

func openIndex(t *testing.T, root string) *Index {
	t.Helper()
	ix, err := Open(context.Background(), Options{Root: root, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

// reader opens the index the way another process would: its own read-only
// connection.
func reader(t *testing.T, root string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", readerDSN(filepath.Join(root, MemoryDir, DBName)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func scan(t *testing.T, ix *Index) Result {
	t.Helper()
	res, err := ix.Scan(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

type learningRow struct {
	id                                int64
	typ, title, summary, tags, domain string
	severity                          sql.NullInt64
	created                           string
}

func learning(t *testing.T, db *sql.DB, fp string) (learningRow, bool) {
	t.Helper()
	var r learningRow
	err := db.QueryRow(`SELECT id, type, title, coalesce(summary,''), coalesce(tags,''), coalesce(domain,''), severity, coalesce(created_at,'')
		FROM learnings WHERE filepath = ?`, fp).Scan(&r.id, &r.typ, &r.title, &r.summary, &r.tags, &r.domain, &r.severity, &r.created)
	if err == sql.ErrNoRows {
		return r, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return r, true
}

func count(t *testing.T, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

const failureNote = `---
type: failure
title: "Lock: held"
domain: git
severity: high
tags: [git, locks]
created: 2025-12-01
---

# ignored heading

## Summary

The lock was held.
`

const heuristicNote = `---
domain: sqlite
rule: Always set busy_timeout
explanation: Zero means instant failure.
confidence: 0.8
---
`

func TestScanIndexesEveryField(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"failures/a.md":           failureNote,
		"heuristics/deep/er/h.md": heuristicNote,
		"failures/img.png":        "\x89PNG",
		"failures/.a.md.swp":      "noise",
		"failures/b.md~":          "noise",
	})
	ix := openIndex(t, root)
	res := scan(t, ix)
	if res.Added != 2 || res.Invalid != 0 {
		t.Fatalf("scan = %+v, want 2 added, 0 invalid", res)
	}
	db := reader(t, root)
	got, ok := learning(t, db, "memory/failures/a.md")
	if !ok {
		t.Fatal("no row for memory/failures/a.md")
	}
	want := learningRow{id: got.id, typ: "failure", title: "Lock: held", summary: "The lock was held.",
		tags: "git,locks", domain: "git", severity: sql.NullInt64{Int64: 4, Valid: true}, created: "2025-12-01 00:00:00"}
	if got != want || got.id == 0 {
		t.Errorf("row = %+v, want %+v", got, want)
	}
	var rule, expl string
	var conf float64
	if err := db.QueryRow(`SELECT rule, explanation, confidence FROM heuristics WHERE filepath = ?`,
		"memory/heuristics/deep/er/h.md").Scan(&rule, &expl, &conf); err != nil {
		t.Fatal(err)
	}
	if rule != "Always set busy_timeout" || expl != "Zero means instant failure." || conf != 0.8 {
		t.Errorf("heuristic = %q %q %v", rule, expl, conf)
	}
	if n := count(t, db, `SELECT count(*) FROM search WHERE search MATCH 'busy_timeout'`); n != 1 {
		t.Errorf("full-text search for busy_timeout found %d, want 1", n)
	}
	if n := count(t, db, `SELECT count(*) FROM files`); n != 2 {
		t.Errorf("ledger has %d entries, want 2 (noise and non-md files are not tracked)", n)
	}
}

func TestPragmasFromSecondConnection(t *testing.T) {
	root := t.TempDir()
	openIndex(t, root)
	db, err := sql.Open("sqlite", writerDSN(filepath.Join(root, MemoryDir, DBName)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	var busy, version int
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`PRAGMA busy_timeout`).Scan(&busy); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || busy < 5000 || version != SchemaVersion {
		t.Errorf("journal_mode=%s busy_timeout=%d user_version=%d, want wal, >=5000, %d", mode, busy, version, SchemaVersion)
	}
}

func TestEditKeepsIdAndCounters(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"heuristics/h.md": heuristicNote, "failures/a.md": failureNote})
	ix := openIndex(t, root)
	scan(t, ix)
	db := reader(t, root)
	var id int64
	if err := db.QueryRow(`SELECT id FROM heuristics WHERE filepath = 'memory/heuristics/h.md'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if err := ix.SetHeuristicCounters(context.Background(), "memory/heuristics/h.md", 7, 2); err != nil {
		t.Fatal(err)
	}
	a, _ := learning(t, db, "memory/failures/a.md")

	writeTree(t, root, map[string]string{
		"heuristics/h.md": strings.Replace(heuristicNote, "Always set", "Always, always set", 1),
		"failures/a.md":   strings.Replace(failureNote, "Lock: held", "Lock: still held", 1),
	})
	// The edit drops the counter keys SetHeuristicCounters wrote: the row
	// keeps its counters (a file that does not state them changes nothing).
	res := scan(t, ix)
	if res.Updated != 2 {
		t.Fatalf("scan = %+v, want 2 updated", res)
	}
	var id2 int64
	var rule string
	var validated, violated int
	if err := db.QueryRow(`SELECT id, rule, times_validated, times_violated FROM heuristics WHERE filepath = 'memory/heuristics/h.md'`).
		Scan(&id2, &rule, &validated, &violated); err != nil {
		t.Fatal(err)
	}
	if id2 != id || rule != "Always, always set busy_timeout" || validated != 7 || violated != 2 {
		t.Errorf("after edit: id %d (was %d) rule %q counters %d/%d, want same id, new rule, 7/2", id2, id, rule, validated, violated)
	}
	a2, _ := learning(t, db, "memory/failures/a.md")
	if a2.id != a.id || a2.title != "Lock: still held" {
		t.Errorf("learning after edit: id %d (was %d) title %q", a2.id, a.id, a2.title)
	}
}

func TestUnchangedFilesAreSkipped(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"failures/a.md": failureNote, "failures/b.md": failureNote})
	aged(t, root, "failures/a.md")
	aged(t, root, "failures/b.md")
	ix := openIndex(t, root)
	scan(t, ix)
	if res := scan(t, ix); res.Unchanged != 2 || res.Added+res.Updated+res.Removed != 0 {
		t.Errorf("second scan = %+v, want 2 unchanged only", res)
	}
	// Same content, new mtime: hashed, found equal, not rewritten.
	now := time.Now().Add(-time.Minute)
	os.Chtimes(filepath.Join(root, MemoryDir, "failures/a.md"), now, now)
	if res := scan(t, ix); res.Unchanged != 2 || res.Updated != 0 {
		t.Errorf("scan after touch = %+v, want 2 unchanged", res)
	}
}

func TestRacyMtimeIsRehashed(t *testing.T) {
	root := t.TempDir()
	// The index first (creating the schema takes a while under -race),
	// then the file, then at once the scan: it must see a fresh mtime.
	ix := openIndex(t, root)
	writeTree(t, root, map[string]string{"failures/a.md": failureNote})
	scan(t, ix)
	// Rewrite with the same size and force the same mtime: only the racy
	// guard (the mtime was too fresh to trust) makes the scan look again.
	p := filepath.Join(root, MemoryDir, "failures/a.md")
	info, _ := os.Stat(p)
	edited := strings.Replace(failureNote, "held", "HELD", 1)
	if err := os.WriteFile(p, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(p, info.ModTime(), info.ModTime())
	scan(t, ix)
	got, _ := learning(t, reader(t, root), "memory/failures/a.md")
	if got.title != "Lock: HELD" {
		t.Errorf("title = %q after a same-size same-mtime rewrite, want the new one", got.title)
	}
}

func TestDeleteAndDirectoryRemoval(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"failures/a.md":          failureNote,
		"failures/sub/b.md":      failureNote,
		"failures/sub/deep/c.md": failureNote,
	})
	ix := openIndex(t, root)
	scan(t, ix)
	db := reader(t, root)
	os.Remove(filepath.Join(root, MemoryDir, "failures/a.md"))
	res, err := ix.Sync(context.Background(), []string{"failures/a.md"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Removed != 1 {
		t.Errorf("sync of a deleted file = %+v, want 1 removed", res)
	}
	os.RemoveAll(filepath.Join(root, MemoryDir, "failures/sub"))
	if res, err = ix.Sync(context.Background(), []string{"failures/sub"}); err != nil {
		t.Fatal(err)
	}
	if res.Removed != 2 {
		t.Errorf("sync of a removed directory = %+v, want 2 removed", res)
	}
	if n := count(t, db, `SELECT count(*) FROM learnings`); n != 0 {
		t.Errorf("%d rows left, want 0", n)
	}
	if n := count(t, db, `SELECT count(*) FROM files`); n != 0 {
		t.Errorf("%d ledger entries left, want 0", n)
	}
}

func TestTypeChangeMovesTables(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"heuristics/h.md": heuristicNote})
	ix := openIndex(t, root)
	scan(t, ix)
	writeTree(t, root, map[string]string{"heuristics/h.md": "---\ntype: failure\ntitle: Now a failure\n---\n"})
	if _, err := ix.Sync(context.Background(), []string{"heuristics/h.md"}); err != nil {
		t.Fatal(err)
	}
	db := reader(t, root)
	if n := count(t, db, `SELECT count(*) FROM heuristics`); n != 0 {
		t.Errorf("heuristics has %d rows, want 0", n)
	}
	if got, ok := learning(t, db, "memory/heuristics/h.md"); !ok || got.typ != "failure" {
		t.Errorf("learning = %+v, %v; want a failure row", got, ok)
	}
	if n := count(t, db, `SELECT count(*) FROM search WHERE search MATCH 'failure'`); n != 1 {
		t.Errorf("search finds %d, want 1", n)
	}
}

func TestInvalidFileKeepsLastGoodRow(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"failures/a.md":     failureNote,
		"failures/never.md": "---\ntitle: [unclosed\n---\n",
	})
	ix := openIndex(t, root)
	res := scan(t, ix)
	if res.Added != 1 || len(res.Errors) != 1 || res.Errors[0].Path != "memory/failures/never.md" {
		t.Fatalf("scan = %+v, want 1 added and never.md invalid", res)
	}
	db := reader(t, root)
	before, _ := learning(t, db, "memory/failures/a.md")

	writeTree(t, root, map[string]string{"failures/a.md": "---\ntitle: \"half writ"})
	res, err := ix.Sync(context.Background(), []string{"failures/a.md"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Invalid != 1 {
		t.Fatalf("sync = %+v, want 1 invalid", res)
	}
	during, ok := learning(t, db, "memory/failures/a.md")
	if !ok || during != before {
		t.Errorf("row while invalid = %+v (ok %v), want the last good %+v", during, ok, before)
	}
	if _, ok := learning(t, db, "memory/failures/never.md"); ok {
		t.Error("a file that never parsed has a row")
	}
	d, err := Check(context.Background(), root, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Invalid) != 2 || !d.InSync() {
		t.Errorf("check = %+v, want 2 invalid and in sync", d)
	}

	writeTree(t, root, map[string]string{"failures/a.md": strings.Replace(failureNote, "Lock: held", "Fixed", 1)})
	if _, err := ix.Sync(context.Background(), []string{"failures/a.md"}); err != nil {
		t.Fatal(err)
	}
	after, _ := learning(t, db, "memory/failures/a.md")
	if after.id != before.id || after.title != "Fixed" {
		t.Errorf("after the fix: %+v, want id %d and the new title", after, before.id)
	}
}

func TestSymlinksAreNotFollowed(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret.md"), []byte(failureNote), 0o644)
	os.MkdirAll(filepath.Join(outside, "dir"), 0o755)
	os.WriteFile(filepath.Join(outside, "dir", "x.md"), []byte(failureNote), 0o644)
	writeTree(t, root, map[string]string{"failures/a.md": failureNote})
	mem := filepath.Join(root, MemoryDir)
	if err := os.Symlink(filepath.Join(outside, "secret.md"), filepath.Join(mem, "failures", "link.md")); err != nil {
		t.Skip("symlinks unsupported:", err)
	}
	os.Symlink(filepath.Join(outside, "dir"), filepath.Join(mem, "failures", "linkdir"))
	ix := openIndex(t, root)
	res := scan(t, ix)
	if res.Added != 1 {
		t.Errorf("scan = %+v, want only the real file", res)
	}
	if _, err := ix.Sync(context.Background(), []string{"failures/link.md", "failures/linkdir", "failures/linkdir/x.md"}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, reader(t, root), `SELECT count(*) FROM learnings`); n != 1 {
		t.Errorf("%d rows, want 1: a symlink was followed", n)
	}
}

func TestUnusableIndexIsSetAsideAndRebuilt(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, path string)
	}{
		{"garbage", func(t *testing.T, path string) {
			os.WriteFile(path, []byte(strings.Repeat("not a database ", 500)), 0o644)
		}},
		{"newer schema", func(t *testing.T, path string) {
			db, _ := sql.Open("sqlite", writerDSN(path))
			defer db.Close()
			if _, err := db.Exec(`PRAGMA user_version = 999`); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, map[string]string{"failures/a.md": failureNote})
			path := filepath.Join(root, MemoryDir, DBName)
			tc.spoil(t, path)
			ix := openIndex(t, root)
			if res := scan(t, ix); res.Added != 1 {
				t.Errorf("scan = %+v, want 1 added", res)
			}
			aside, _ := filepath.Glob(path + ".broken-*")
			if len(aside) == 0 {
				t.Error("the unusable index was not kept aside")
			}
		})
	}
}

func TestIndexDeletedOrCorruptedWhileOpen(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"failures/a.md": failureNote, "failures/b.md": failureNote})
	ix := openIndex(t, root)
	scan(t, ix)
	path := filepath.Join(root, MemoryDir, DBName)

	os.Remove(path)
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	res, err := ix.Sync(context.Background(), []string{"failures/a.md"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Rebuilt || res.Added != 2 {
		t.Errorf("sync after delete = %+v, want a rebuild adding 2", res)
	}
	if n := count(t, reader(t, root), `SELECT count(*) FROM learnings`); n != 2 {
		t.Errorf("%d rows after rebuild, want 2", n)
	}

	// Overwritten in place with garbage while open.
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte(strings.Repeat("garbage!", 4096)), 0)
	f.Close()
	os.Remove(path + "-wal")
	res, err = ix.Scan(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Rebuilt {
		t.Errorf("scan after garbage = %+v, want a rebuild", res)
	}
	if n := count(t, reader(t, root), `SELECT count(*) FROM learnings`); n != 2 {
		t.Errorf("%d rows after rebuild, want 2", n)
	}
}

func TestCheckReportsDrift(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"failures/a.md": failureNote, "failures/b.md": failureNote})
	ix := openIndex(t, root)
	scan(t, ix)
	writeTree(t, root, map[string]string{
		"failures/new.md": failureNote,
		"failures/a.md":   strings.Replace(failureNote, "held", "released", 1),
	})
	os.Remove(filepath.Join(root, MemoryDir, "failures/b.md"))
	d, err := Check(context.Background(), root, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.InSync() || d.Files != 2 || d.Rows != 2 ||
		strings.Join(d.MissingRows, ",") != "memory/failures/new.md" ||
		strings.Join(d.OrphanRows, ",") != "memory/failures/b.md" ||
		strings.Join(d.StaleRows, ",") != "memory/failures/a.md" {
		t.Errorf("check = %+v", d)
	}
	scan(t, ix)
	if d, _ := Check(context.Background(), root, 0); !d.InSync() {
		t.Errorf("after scan: %+v, want in sync", d)
	}
}

func TestScanWritesDeletesBack(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"failures/a.md": failureNote, "heuristics/h.md": heuristicNote})
	aged(t, root, "failures/a.md")
	aged(t, root, "heuristics/h.md")
	ix := openIndex(t, root)
	scan(t, ix)
	db, err := sql.Open("sqlite", writerDSN(filepath.Join(root, MemoryDir, DBName)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`DELETE FROM learnings`,
		`DELETE FROM heuristics`,
		`INSERT INTO learnings (type, filepath, title) VALUES ('failure', 'auto-failures/ghost.md', 'ghost')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	scan(t, ix)
	for _, rel := range []string{"failures/a.md", "heuristics/h.md"} {
		if _, err := os.Stat(filepath.Join(root, MemoryDir, rel)); !os.IsNotExist(err) {
			t.Errorf("%s: the row was deleted, the file is still there (%v)", rel, err)
		}
	}
	r := reader(t, root)
	// A row pointing outside memory/ is the framework's (its hooks keep
	// auto-captured notes there): kept as it is.
	if n := count(t, r, `SELECT count(*) FROM learnings WHERE filepath = 'auto-failures/ghost.md'`); n != 1 {
		t.Error("the framework's row outside memory/ was dropped")
	}
	if d, _ := Check(context.Background(), root, 0); !d.InSync() {
		t.Errorf("after scan: %+v, want in sync", d)
	}
}

// More than MassDelete rows deleted at once are restored from the files,
// with their ids; the files stay.
func TestMassDeleteIsNotPropagated(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{}
	for i := range 12 {
		files["failures/f"+string(rune('a'+i))+".md"] = failureNote
	}
	writeTree(t, root, files)
	ix := openIndex(t, root)
	scan(t, ix)
	r := reader(t, root)
	before := count(t, r, `SELECT sum(id) FROM learnings`)
	db, err := sql.Open("sqlite", writerDSN(filepath.Join(root, MemoryDir, DBName)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DELETE FROM learnings`); err != nil {
		t.Fatal(err)
	}
	scan(t, ix)
	for rel := range files {
		if _, err := os.Stat(filepath.Join(root, MemoryDir, rel)); err != nil {
			t.Errorf("%s: %v", rel, err)
		}
	}
	if n := count(t, r, `SELECT count(*) FROM learnings`); n != 12 {
		t.Errorf("%d rows restored, want 12", n)
	}
	if after := count(t, r, `SELECT sum(id) FROM learnings`); after != before {
		t.Errorf("ids changed: sum %d, was %d", after, before)
	}
}

// One Sync batch mixing every kind of hint: an edited file, a new one, a
// deleted one, a removed directory, a path with quotes and non-ASCII
// letters, and a path that never existed. The batch's ledger entries are
// read in one query; each hint must still get its own outcome.
func TestSyncMixedBatch(t *testing.T) {
	root := t.TempDir()
	odd := `failures/it's "quoted" é.md`
	writeTree(t, root, map[string]string{
		"failures/edited.md":  failureNote,
		"failures/gone.md":    failureNote,
		"failures/dir/x.md":   failureNote,
		"failures/dir/y/z.md": failureNote,
		odd:                   failureNote,
	})
	ix := openIndex(t, root)
	scan(t, ix)
	db := reader(t, root)
	mem := filepath.Join(root, MemoryDir)
	edited := strings.Replace(failureNote, "severity: high", "severity: low", 1)
	if edited == failureNote {
		t.Fatal("test note has no severity: high to edit")
	}
	writeTree(t, root, map[string]string{"failures/edited.md": edited, "failures/new.md": failureNote})
	if err := os.Remove(filepath.Join(mem, "failures/gone.md")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(mem, "failures/dir")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(mem, filepath.FromSlash(odd))); err != nil {
		t.Fatal(err)
	}
	res, err := ix.Sync(context.Background(), []string{
		"failures/edited.md", "failures/new.md", "failures/gone.md", "failures/dir", odd, "failures/never.md",
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Removed != 4 {
		t.Errorf("removed %d, want 4 (gone.md, dir's two files, the quoted one): %+v", res.Removed, res)
	}
	want := map[string]bool{"memory/failures/edited.md": true, "memory/failures/new.md": true}
	rows, err := db.Query(`SELECT filepath, severity FROM learnings`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var fp string
		var sev int
		if err := rows.Scan(&fp, &sev); err != nil {
			t.Fatal(err)
		}
		n++
		if !want[fp] {
			t.Errorf("row %s left, want only %v", fp, want)
		}
		if fp == "memory/failures/edited.md" && sev != 2 {
			t.Errorf("edited.md severity %d, want 2", sev)
		}
	}
	if n != len(want) {
		t.Errorf("%d rows, want %d", n, len(want))
	}
}
