package indexer

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// rw opens the index the way a framework tool does: a plain second
// connection of another writer.
func rw(t *testing.T, root string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(root, MemoryDir, DBName)+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func exec1(t *testing.T, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	r, err := db.Exec(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	id, _ := r.LastInsertId()
	return id
}

const domainFile = `# Heuristics: git

Generated from failures, successes, and observations in the **git** domain.

---

`

func sectionText(id, rule string) string {
	return "## H-" + id + ": " + rule + "\n\n**Confidence**: 0.7\n**Source**: observation\n**Created**: 2026-11-27\n\nBecause.\n\n---\n\n"
}

// The framework's MCP server: INSERT the heuristic (no filepath), then
// append its section to the domain file. One row, the framework's id.
func TestFrameworkHeuristicInsertThenSection(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"heuristics/git.md": domainFile})
	ix := openIndex(t, root)
	scan(t, ix)
	db := rw(t, root)
	id := exec1(t, db, `INSERT INTO heuristics (domain, rule, explanation, source_type, confidence, times_validated, times_violated, is_golden, created_at, updated_at)
		VALUES ('git', 'Rebase before you push', 'Because.', 'observation', 0.7, 0, 0, 0, '2026-11-27 10:00:00', '2026-11-27 10:00:00')`)
	if id == 0 {
		t.Fatal("no id")
	}
	writeTree(t, root, map[string]string{"heuristics/git.md": domainFile + sectionText(itoa(id), "Rebase before you push")})
	if _, err := ix.Sync(context.Background(), []string{"heuristics/git.md"}); err != nil {
		t.Fatal(err)
	}
	r := reader(t, root)
	if n := count(t, r, `SELECT count(*) FROM heuristics`); n != 1 {
		t.Errorf("%d heuristics, want 1", n)
	}
	if n := count(t, r, `SELECT count(*) FROM heuristics WHERE id = ? AND elf_key = ?`, id, "memory/heuristics/git.md#H-"+itoa(id)); n != 1 {
		t.Errorf("the section did not claim row %d", id)
	}
	// The write-back of the INSERT (the row is the section's now) leaves
	// the row as a rebuild would have it, and status can read it.
	scan(t, ix)
	if n := count(t, r, `SELECT count(*) FROM heuristics WHERE id = ? AND filepath = 'memory/heuristics/git.md' AND title IS NOT NULL`, id); n != 1 {
		t.Errorf("row %d has no filepath or title after its section claimed it", id)
	}
	if d, err := Check(context.Background(), root, 0); err != nil || !d.InSync() {
		t.Errorf("check = %+v, %v; want in sync", d, err)
	}
	// A second section, then one removed: rows follow.
	writeTree(t, root, map[string]string{"heuristics/git.md": domainFile + sectionText(itoa(id), "Rebase before you push") + sectionText("40", "Sign your tags")})
	ix.Sync(context.Background(), []string{"heuristics/git.md"})
	if n := count(t, r, `SELECT count(*) FROM heuristics WHERE id = 40 AND rule = 'Sign your tags'`); n != 1 {
		t.Error("an appended section H-40 has no row with id 40")
	}
	writeTree(t, root, map[string]string{"heuristics/git.md": domainFile + sectionText("40", "Sign your tags")})
	ix.Sync(context.Background(), []string{"heuristics/git.md"})
	if n := count(t, r, `SELECT count(*) FROM heuristics`); n != 1 {
		t.Errorf("%d heuristics after a section was removed, want 1", n)
	}
	if n := count(t, r, `SELECT count(*) FROM search WHERE search MATCH 'rebase'`); n != 0 {
		t.Error("the removed section is still found")
	}
	if res := scan(t, ix); res.Added+res.Updated+res.Removed != 0 {
		t.Errorf("scan after = %+v, want a no-op", res)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// The framework's record_failure writes the file, then INSERTs the row:
// whichever of that INSERT and elfsync's indexing comes first, one row
// with the framework's id.
func TestFrameworkWriteFileThenInsert(t *testing.T) {
	for _, indexedFirst := range []bool{false, true} {
		name := "insert first"
		if indexedFirst {
			name = "indexed first"
		}
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			ix := openIndex(t, root)
			scan(t, ix)
			writeTree(t, root, map[string]string{"failures/20261127_x.md": "# X broke\n\n**Domain**: git\n**Severity**: 3\n\n## Summary\n\nIt broke.\n"})
			if indexedFirst {
				scan(t, ix)
			}
			db := rw(t, root)
			id := exec1(t, db, `INSERT INTO learnings (type, filepath, title, summary, tags, domain, severity, created_at, updated_at)
				VALUES ('failure', 'memory/failures/20261127_x.md', 'X broke', 'It broke.', '', 'git', 3, '2026-11-27 10:00:00', '2026-11-27 10:00:00')`)
			scan(t, ix)
			r := reader(t, root)
			if n := count(t, r, `SELECT count(*) FROM learnings`); n != 1 {
				t.Errorf("%d rows, want 1", n)
			}
			if n := count(t, r, `SELECT count(*) FROM learnings WHERE id = ? AND elf_key IS NOT NULL`, id); n != 1 {
				t.Errorf("row %d (the framework's) is not the record's", id)
			}
			if n := count(t, r, `SELECT count(*) FROM search WHERE search MATCH 'broke'`); n != 1 {
				t.Errorf("search finds %d, want 1", n)
			}
			if res := scan(t, ix); res.Added+res.Updated+res.Removed != 0 {
				t.Errorf("scan after = %+v, want a no-op", res)
			}
		})
	}
}

// The id the framework's INSERT gave a bold-field failure is written into
// the file, in its style ("**ID**: N"), so an index rebuilt from the files
// gives the row the same id (which the framework's tables may refer to).
func TestFrameworkInsertIDSurvivesRebuild(t *testing.T) {
	for _, indexedFirst := range []bool{false, true} {
		name := "insert first"
		if indexedFirst {
			name = "indexed first"
		}
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, map[string]string{"failures/a.md": failureNote})
			ix := openIndex(t, root)
			scan(t, ix)
			const rel = "failures/20261127_x.md"
			const bold = "# X broke\n\n**Domain**: git\n**Severity**: 3\n\n## Summary\n\nIt broke.\n"
			writeTree(t, root, map[string]string{rel: bold})
			if indexedFirst {
				scan(t, ix)
			}
			db := rw(t, root)
			// An auto-captured failure outside memory/ (the hooks') first:
			// a rebuild from the files has no row for it.
			exec1(t, db, `INSERT INTO learnings (type, filepath, title) VALUES ('failure', 'auto-failures/f.md', 'Auto')`)
			id := exec1(t, db, `INSERT INTO learnings (type, filepath, title, summary, tags, domain, severity, created_at, updated_at)
				VALUES ('failure', 'memory/failures/20261127_x.md', 'X broke', 'It broke.', '', 'git', 3, '2026-11-27 10:00:00', '2026-11-27 10:00:00')`)
			writeBack(t, ix)
			scan(t, ix)
			want := strings.Replace(bold, "**Severity**: 3\n", "**Severity**: 3\n**ID**: "+itoa(id)+"\n", 1)
			if got := readFile(t, root, rel); got != want {
				t.Errorf("file:\n%s\nwant:\n%s", got, want)
			}
			if res := scan(t, ix); res.Added+res.Updated+res.Removed != 0 {
				t.Errorf("scan after = %+v, want a no-op", res)
			}
			ix.Close()
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(filepath.Join(root, MemoryDir, DBName+suffix))
			}
			ix = openIndex(t, root)
			scan(t, ix)
			r := reader(t, root)
			if n := count(t, r, `SELECT count(*) FROM learnings WHERE id = ? AND filepath = 'memory/failures/20261127_x.md'`, id); n != 1 {
				t.Errorf("rebuilt: the failure lost the framework's id %d", id)
			}
		})
	}
}

// A file moved (same content, new path) keeps its row and id.
func TestMoveKeepsID(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"heuristics/a.md": heuristicNote, "failures/f.md": failureNote})
	ix := openIndex(t, root)
	scan(t, ix)
	r := reader(t, root)
	var hid, fid int64
	r.QueryRow(`SELECT id FROM heuristics WHERE filepath = 'memory/heuristics/a.md'`).Scan(&hid)
	r.QueryRow(`SELECT id FROM learnings WHERE filepath = 'memory/failures/f.md'`).Scan(&fid)
	mem := filepath.Join(root, MemoryDir)
	os.MkdirAll(filepath.Join(mem, "heuristics", "sub"), 0o755)
	if err := os.Rename(filepath.Join(mem, "heuristics", "a.md"), filepath.Join(mem, "heuristics", "sub", "b.md")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(mem, "failures", "f.md"), filepath.Join(mem, "failures", "g.md")); err != nil {
		t.Fatal(err)
	}
	scan(t, ix)
	if n := count(t, r, `SELECT count(*) FROM heuristics WHERE id = ? AND filepath = 'memory/heuristics/sub/b.md'`, hid); n != 1 {
		t.Error("the moved heuristic lost its id")
	}
	if n := count(t, r, `SELECT count(*) FROM learnings WHERE id = ? AND filepath = 'memory/failures/g.md'`, fid); n != 1 {
		t.Error("the renamed failure lost its id")
	}
}

// An index of elfsync's first schema is migrated in place: ids kept.
func TestMigrateFromVersion1(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"failures/a.md": failureNote, "heuristics/h.md": heuristicNote})
	path := filepath.Join(root, MemoryDir, DBName)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{v1Schema,
		`INSERT INTO learnings (id, type, filepath, title) VALUES (7, 'failure', 'memory/failures/a.md', 'old')`,
		`INSERT INTO heuristics (id, filepath, rule, times_validated) VALUES (9, 'memory/heuristics/h.md', 'old', 5)`,
		`INSERT INTO files (filepath, size, mtime_ns, hash, tbl) VALUES ('memory/failures/a.md', 1, 1, 'x', 'learnings'), ('memory/heuristics/h.md', 1, 1, 'x', 'heuristics')`,
		`PRAGMA user_version = 1`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	ix := openIndex(t, root)
	scan(t, ix)
	r := reader(t, root)
	if n := count(t, r, `SELECT count(*) FROM learnings WHERE id = 7 AND title != 'old'`); n != 1 {
		t.Error("learning 7 lost or not re-read")
	}
	if n := count(t, r, `SELECT count(*) FROM heuristics WHERE id = 9 AND times_validated = 5`); n != 1 {
		t.Error("heuristic 9 lost its id or counters")
	}
	if n := count(t, r, `SELECT count(*) FROM search WHERE search MATCH 'lock'`); n == 0 {
		t.Error("search is empty after the migration")
	}
}

const v1Schema = `
CREATE TABLE learnings (id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, filepath TEXT NOT NULL UNIQUE,
	title TEXT NOT NULL, summary TEXT, tags TEXT, domain TEXT, severity INTEGER, created_at DATETIME, updated_at DATETIME, extra TEXT);
CREATE INDEX idx_learnings_type ON learnings(type);
CREATE TABLE heuristics (id INTEGER PRIMARY KEY AUTOINCREMENT, filepath TEXT NOT NULL UNIQUE, domain TEXT, rule TEXT NOT NULL,
	explanation TEXT, source_type TEXT, source_id INTEGER, confidence REAL DEFAULT 0.5, times_validated INTEGER NOT NULL DEFAULT 0,
	times_violated INTEGER NOT NULL DEFAULT 0, is_golden BOOLEAN NOT NULL DEFAULT 0, created_at DATETIME, updated_at DATETIME,
	title TEXT, tags TEXT, extra TEXT);
CREATE TABLE files (id INTEGER PRIMARY KEY AUTOINCREMENT, filepath TEXT NOT NULL UNIQUE, size INTEGER NOT NULL,
	mtime_ns INTEGER NOT NULL, hash TEXT NOT NULL, error TEXT, tbl TEXT CHECK (tbl IN ('learnings', 'heuristics')));
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`

// A corrupt index holding framework tables: the tables are salvaged, the
// broken file kept, the ids of rows kept.
func TestCorruptIndexIsSalvaged(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"failures/a.md": failureNote})
	ix := openIndex(t, root)
	scan(t, ix)
	db := rw(t, root)
	exec1(t, db, `INSERT INTO metrics (metric_type, metric_name, metric_value) VALUES ('x', 'y', 1)`)
	exec1(t, db, `UPDATE learnings SET id = 42`)
	db.Close()
	ix.Close()
	path := filepath.Join(root, MemoryDir, DBName)
	// Damage the file's header: SQLite calls it "not a database".
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	copy(data[:16], "Not SQLite here!")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	// Restore the header on the aside copy is not possible for a reader
	// either: salvage must cope with an unreadable file and still open.
	ix = openIndex(t, root)
	scan(t, ix)
	if b, _ := filepath.Glob(path + ".broken-*[0-9]"); len(b) != 1 {
		t.Errorf("broken copies: %v, want 1", b)
	}
	r := reader(t, root)
	if n := count(t, r, `SELECT count(*) FROM learnings`); n != 1 {
		t.Errorf("%d learnings, want 1", n)
	}
}

// Every table, the full-text one included, reads with the system's
// sqlite3 and Python (SQLite 3.40 on Debian 12), .dump and iterdump.
func TestOldSQLiteReaders(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"failures/a.md": failureNote, "heuristics/h.md": heuristicNote})
	ix := openIndex(t, root)
	scan(t, ix)
	ix.Close()
	path := filepath.Join(root, MemoryDir, DBName)
	if cli, err := exec.LookPath("sqlite3"); err == nil {
		out, err := exec.Command(cli, path, "SELECT count(*) FROM search WHERE search MATCH 'lock'; SELECT count(*) FROM search;").CombinedOutput()
		if err != nil || strings.Fields(string(out))[0] == "0" {
			t.Errorf("sqlite3 search: %v %s", err, out)
		}
		dump, err := exec.Command(cli, path, ".dump").Output()
		if err != nil {
			t.Fatalf("sqlite3 .dump: %v", err)
		}
		restored := filepath.Join(t.TempDir(), "r.db")
		cmd := exec.Command(cli, restored)
		cmd.Stdin = bytes.NewReader(dump)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("restore the dump: %v %s", err, out)
		}
		out, err = exec.Command(cli, restored, "SELECT count(*) FROM search WHERE search MATCH 'lock'").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) == "0" {
			t.Errorf("restored search: %v %s", err, out)
		}
	}
	if py, err := exec.LookPath("python3"); err == nil {
		out, err := exec.Command(py, "-c", `import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
n = sum(1 for _ in c.iterdump())
print(n, len(c.execute("SELECT * FROM search WHERE search MATCH 'lock'").fetchall()))`, path).CombinedOutput()
		if err != nil || strings.HasSuffix(strings.TrimSpace(string(out)), " 0") {
			t.Errorf("python: %v %s", err, out)
		}
	}
}

// An index this elfsync cannot use (here: from a newer schema) holding
// framework tables is set aside with its readable tables copied over: the
// framework's rows and the records' ids are kept.
func TestUnusableIndexTablesSalvaged(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"failures/a.md": failureNote})
	ix := openIndex(t, root)
	scan(t, ix)
	db := rw(t, root)
	exec1(t, db, `INSERT INTO metrics (metric_type, metric_name, metric_value) VALUES ('x', 'y', 1)`)
	exec1(t, db, `CREATE TABLE dashboard_layout (k TEXT PRIMARY KEY, v TEXT)`)
	exec1(t, db, `INSERT INTO dashboard_layout VALUES ('a', 'b')`)
	exec1(t, db, `UPDATE learnings SET id = 42`)
	exec1(t, db, `PRAGMA user_version = 999`)
	db.Close()
	ix.Close()
	ix = openIndex(t, root)
	scan(t, ix)
	path := filepath.Join(root, MemoryDir, DBName)
	if b, _ := filepath.Glob(path + ".broken-*[0-9]"); len(b) != 1 {
		t.Errorf("set-aside copies: %v, want 1", b)
	}
	r := reader(t, root)
	if n := count(t, r, `SELECT count(*) FROM metrics WHERE metric_type = 'x'`); n != 1 {
		t.Error("the metrics row was not salvaged")
	}
	if n := count(t, r, `SELECT count(*) FROM dashboard_layout`); n != 1 {
		t.Error("an unknown framework table was not salvaged")
	}
	if n := count(t, r, `SELECT count(*) FROM learnings WHERE id = 42 AND elf_key = 'memory/failures/a.md'`); n != 1 {
		t.Error("the record did not keep its id 42")
	}
	if n := count(t, r, `SELECT count(*) FROM learnings`); n != 1 {
		t.Errorf("%d learnings, want 1", n)
	}
}

// A move seen in two halves (the watcher reports the old path in one batch
// and the new one in the next) keeps the id too.
func TestMoveInTwoBatchesKeepsID(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"failures/f.md": failureNote})
	ix := openIndex(t, root)
	scan(t, ix)
	r := reader(t, root)
	var id int64
	r.QueryRow(`SELECT id FROM learnings`).Scan(&id)
	mem := filepath.Join(root, MemoryDir)
	if err := os.Rename(filepath.Join(mem, "failures", "f.md"), filepath.Join(mem, "failures", "g.md")); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Sync(context.Background(), []string{"failures/f.md"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Sync(context.Background(), []string{"failures/g.md"}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, r, `SELECT count(*) FROM learnings WHERE id = ? AND filepath = 'memory/failures/g.md'`, id); n != 1 {
		t.Error("the file moved in two batches lost its id")
	}
}

// A rebuild keeps the ids of domain-file sections even when one-file
// heuristics are indexed in the same batch; a renamed domain file keeps
// them too.
func TestSectionIDsSurviveRebuildAndRename(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{"heuristics/git.md": domainFile + sectionText("3", "Three") + sectionText("4", "Four")}
	for i := range 5 {
		files["heuristics/one-"+strconv.Itoa(i)+".md"] = strings.Replace(heuristicNote, "Always set busy_timeout", "Rule "+strconv.Itoa(i), 1)
	}
	writeTree(t, root, files)
	ix := openIndex(t, root)
	scan(t, ix)
	r := reader(t, root)
	if n := count(t, r, `SELECT count(*) FROM heuristics WHERE (id = 3 AND rule = 'Three') OR (id = 4 AND rule = 'Four')`); n != 2 {
		t.Errorf("%d of 2 sections have their ids", n)
	}
	mem := filepath.Join(root, MemoryDir)
	if err := os.Rename(filepath.Join(mem, "heuristics", "git.md"), filepath.Join(mem, "heuristics", "git2.md")); err != nil {
		t.Fatal(err)
	}
	scan(t, ix)
	if n := count(t, r, `SELECT count(*) FROM heuristics WHERE ((id = 3 AND rule = 'Three') OR (id = 4 AND rule = 'Four')) AND filepath = 'memory/heuristics/git2.md'`); n != 2 {
		t.Errorf("%d of 2 sections kept their ids through a rename", n)
	}
}

// The full-text index follows every kind of change a scan writes (new,
// edited, deleted files, a section dropped from a domain file, a type
// moving tables), its rows now written many per statement at the end of
// a flush: FTS5's integrity check matches it against search_docs after
// each scan. A new index has pageSize pages.
func TestFullTextFollowsEveryChange(t *testing.T) {
	root := t.TempDir()
	note := func(typ, word string, i int) string {
		return "---\ntype: " + typ + "\ntitle: Note " + strconv.Itoa(i) + "\n---\n\nThe " + word + " body of note " + strconv.Itoa(i) + ".\n"
	}
	files := map[string]string{"heuristics/git.md": domainFile + sectionText("1", "Use zebra locks") + sectionText("2", "Use yak shaving")}
	for i := range 30 {
		files["failures/n"+strconv.Itoa(i)+".md"] = note("failure", "alpha", i)
	}
	writeTree(t, root, files)
	ix := openIndex(t, root)
	scan(t, ix)
	db := rw(t, root)
	check := func(when string, want map[string]int) {
		t.Helper()
		if _, err := db.Exec(`INSERT INTO search (search) VALUES ('integrity-check')`); err != nil {
			t.Fatalf("%s: full-text integrity check: %v", when, err)
		}
		for w, n := range want {
			if got := count(t, db, `SELECT count(*) FROM search WHERE search MATCH ?`, w); got != n {
				t.Errorf("%s: %d matches of %q, want %d", when, got, w, n)
			}
		}
	}
	check("cold", map[string]int{"alpha": 30, "zebra": 1, "yak": 1, "bravo": 0})

	edits := map[string]string{"heuristics/git.md": domainFile + sectionText("1", "Use zebra locks")}
	for i := range 10 {
		edits["failures/n"+strconv.Itoa(i)+".md"] = note("failure", "bravo", i)
	}
	edits["failures/n10.md"] = note("observation", "charlie", 10)
	edits["failures/n11.md"] = note("heuristic", "charlie", 11)
	writeTree(t, root, edits)
	for i := 20; i < 25; i++ {
		if err := os.Remove(filepath.Join(root, MemoryDir, "failures", "n"+strconv.Itoa(i)+".md")); err != nil {
			t.Fatal(err)
		}
	}
	scan(t, ix)
	check("after edits", map[string]int{"alpha": 13, "bravo": 10, "charlie": 2, "zebra": 1, "yak": 0})
	// Every full-text row names its record's row, also where the record
	// moved to another table.
	if n := count(t, db, `SELECT count(*) FROM search_docs d WHERE NOT EXISTS (
		SELECT 1 FROM learnings r WHERE d.tbl = 'learnings' AND r.id = d.row_id AND r.elf_key = d.elf_key
		UNION ALL SELECT 1 FROM heuristics r WHERE d.tbl = 'heuristics' AND r.id = d.row_id AND r.elf_key = d.elf_key
		UNION ALL SELECT 1 FROM decisions r WHERE d.tbl = 'decisions' AND r.id = d.row_id AND r.elf_key = d.elf_key)`); n != 0 {
		t.Errorf("after edits %d search_docs rows name no record row", n)
	}

	var ps int
	if err := db.QueryRow(`PRAGMA page_size`).Scan(&ps); err != nil || ps != pageSize {
		t.Errorf("page_size = %d (%v), want %d", ps, err, pageSize)
	}
}
