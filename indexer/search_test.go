package indexer

import (
	"context"
	"database/sql"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// searchNote is a failure whose body holds its words.
func searchNote(i int, words string) string {
	return "---\ntype: failure\ntitle: Note " + strconv.Itoa(i) + "\n---\n\nThe " + words + " of note " + strconv.Itoa(i) + ".\n"
}

// searchRoot writes n notes failures/n<i>.md, note i with the words
// words(i), aged past the racy window, and scans them into a new index:
// its root, the index and a read-write connection.
func searchRoot(t *testing.T, n int, words func(i int) string) (string, *Index, *sql.DB) {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{}
	for i := range n {
		files["failures/n"+strconv.Itoa(i)+".md"] = searchNote(i, words(i))
	}
	writeTree(t, root, files)
	for rel := range files {
		aged(t, root, rel)
	}
	ix := openIndex(t, root)
	scan(t, ix)
	return root, ix, rw(t, root)
}

// cutBuild leaves what a large build cut short after the search_docs row
// mid leaves: the entries of the rows above mid gone, fts_upto at mid.
func cutBuild(t *testing.T, db *sql.DB, mid int64) {
	t.Helper()
	exec1(t, db, `INSERT INTO search (search, rowid, title, summary, body, rule)
		SELECT 'delete', id, title, summary, body, rule FROM search_docs WHERE id > ? ORDER BY id`, mid)
	exec1(t, db, `UPDATE meta SET value = ? WHERE key = 'fts_upto'`, mid)
}

// ftsIntact runs FTS5's integrity check. Of an external-content table it
// checks only the index itself; with nothing pending it also compares
// the index with search_docs row by row (rank 1), which finds a stale or
// missing entry.
func ftsIntact(t *testing.T, db *sql.DB, when string) {
	t.Helper()
	if _, err := db.Exec(`INSERT INTO search (search) VALUES ('integrity-check')`); err != nil {
		t.Fatalf("%s: full-text integrity check: %v", when, err)
	}
	if pendingSearch(t, db) == 0 {
		if _, err := db.Exec(`INSERT INTO search (search, rank) VALUES ('integrity-check', 1)`); err != nil {
			t.Fatalf("%s: full-text integrity check against search_docs: %v", when, err)
		}
	}
}

// ranked lists the keys a MATCH finds, best first.
func ranked(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT d.elf_key FROM search JOIN search_docs d ON d.id = search.rowid
		WHERE search MATCH ? ORDER BY bm25(search), d.elf_key`, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		out = append(out, k)
	}
	return out
}

func pendingSearch(t *testing.T, db *sql.DB) int {
	t.Helper()
	n, err := SearchPending(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A scan of many files writes every row first and the full-text index
// right after: between the two, the rows are there and the records are
// counted as not yet searchable; afterwards search finds exactly what an
// index written record by record finds.
func TestRowsFirstThenFullText(t *testing.T) {
	words := []string{"alpha beta", "beta gamma gamma", "alpha alpha delta", "gamma", "delta beta alpha"}
	files := map[string]string{"heuristics/git.md": domainFile + sectionText("1", "Use alpha locks") + sectionText("2", "Use gamma")}
	for i := range 40 {
		files["failures/n"+strconv.Itoa(i)+".md"] = searchNote(i, words[i%len(words)])
	}
	queries := []string{"alpha", "beta", "gamma", "delta", "alpha OR gamma", "note"}

	// Record by record.
	plain := t.TempDir()
	writeTree(t, plain, files)
	scan(t, openIndex(t, plain))
	want := map[string][]string{}
	pdb := rw(t, plain)
	for _, q := range queries {
		want[q] = ranked(t, pdb, q)
	}

	old := deferAbove
	deferAbove = 10
	t.Cleanup(func() { deferAbove = old })
	root := t.TempDir()
	writeTree(t, root, files)
	var atRows struct{ rows, pending, found int }
	var db *sql.DB
	ix, err := Open(context.Background(), Options{Root: root, Logger: zerolog.Nop(), RowsDone: func() {
		atRows.rows = count(t, db, `SELECT count(*) FROM learnings`) + count(t, db, `SELECT count(*) FROM heuristics`)
		atRows.pending = pendingSearch(t, db)
		atRows.found = count(t, db, `SELECT count(*) FROM search WHERE search MATCH 'alpha'`)
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	db = rw(t, root)
	scan(t, ix)
	if atRows.rows != 42 || atRows.pending != 42 || atRows.found != 0 {
		t.Errorf("when the rows were in: %+v, want 42 rows, 42 not yet searchable, no match", atRows)
	}
	if n := pendingSearch(t, db); n != 0 {
		t.Errorf("after the scan %d records are not searchable", n)
	}
	ftsIntact(t, db, "after the scan")
	for _, q := range queries {
		if got := ranked(t, db, q); !slices.Equal(got, want[q]) {
			t.Errorf("%q finds %v, want %v as record by record", q, got, want[q])
		}
	}
}

// A crash after the rows and before their full-text entries leaves them
// not searchable, which status can tell; the next scan, even one that
// finds nothing changed, completes the index, also past edits made in
// between.
func TestFullTextConvergesAfterCrash(t *testing.T) {
	root, ix, db := searchRoot(t, 20, func(int) string { return "kilo lima" })
	// What a crash between the two steps leaves: rows and search_docs,
	// no FTS5 entries, fts_upto below them.
	exec1(t, db, `INSERT INTO search (search) VALUES ('delete-all')`)
	exec1(t, db, `UPDATE meta SET value = '0' WHERE key = 'fts_upto'`)
	ftsIntact(t, db, "crashed") // consistent, only incomplete
	if n := pendingSearch(t, db); n != 20 {
		t.Fatalf("%d records not yet searchable, want 20", n)
	}
	d, err := Check(context.Background(), root, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.SearchPending != 20 {
		t.Errorf("Check: %d records not yet searchable, want 20", d.SearchPending)
	}

	// An edit and a delete of records still waiting for their entries.
	writeTree(t, root, map[string]string{"failures/n3.md": searchNote(3, "mike")})
	if err := os.Remove(filepath.Join(root, MemoryDir, "failures", "n4.md")); err != nil {
		t.Fatal(err)
	}
	scan(t, ix)
	ftsIntact(t, db, "after the scan")
	if n := pendingSearch(t, db); n != 0 {
		t.Errorf("%d records still not searchable", n)
	}
	if n := count(t, db, `SELECT count(*) FROM search WHERE search MATCH 'kilo'`); n != 18 {
		t.Errorf("%d matches of kilo, want 18", n)
	}
	if n := count(t, db, `SELECT count(*) FROM search WHERE search MATCH 'mike'`); n != 1 {
		t.Errorf("%d matches of mike, want 1", n)
	}

	// Nothing changed and nothing pending: a no-op scan stays one.
	exec1(t, db, `INSERT INTO search (search) VALUES ('delete-all')`)
	exec1(t, db, `UPDATE meta SET value = '0' WHERE key = 'fts_upto'`)
	if res := scan(t, ix); res.Added+res.Updated+res.Removed != 0 {
		t.Errorf("no-op scan: %+v", res)
	}
	ftsIntact(t, db, "after the no-op scan")
	if n := pendingSearch(t, db); n != 0 {
		t.Errorf("after the no-op scan %d records are not searchable", n)
	}
	if n := count(t, db, `SELECT count(*) FROM search WHERE search MATCH 'kilo'`); n != 18 {
		t.Errorf("after the no-op scan %d matches of kilo, want 18", n)
	}
}

// A changed text keeps its search_docs row in a small write (its FTS5
// delete and insert in one statement) and gets a new row above every
// indexed one in a large write, whose entries come after all rows. No new
// row is ever taken for indexed, even when the highest rows were deleted.
func TestChangedTextRow(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"failures/a.md": searchNote(1, "oscar"), "failures/b.md": searchNote(2, "papa")})
	ix := openIndex(t, root)
	scan(t, ix)
	db := rw(t, root)
	id := func(key string) int64 {
		var id int64
		if err := db.QueryRow(`SELECT id FROM search_docs WHERE elf_key = ?`, key).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	a, b := id("memory/failures/a.md"), id("memory/failures/b.md")
	writeTree(t, root, map[string]string{"failures/a.md": searchNote(1, "quebec")})
	scan(t, ix)
	if a2 := id("memory/failures/a.md"); a2 != a {
		t.Errorf("small write: edited text moved from row %d to %d", a, a2)
	}
	old := deferAbove
	t.Cleanup(func() { deferAbove = old })
	deferAbove = 0
	writeTree(t, root, map[string]string{"failures/a.md": searchNote(1, "quebec sierra")})
	scan(t, ix)
	deferAbove = old
	if a2 := id("memory/failures/a.md"); a2 <= max(a, b) {
		t.Errorf("large write: edited text kept row %d (old rows %d, %d)", a2, a, b)
	}
	if n := count(t, db, `SELECT count(*) FROM search WHERE search MATCH 'sierra'`); n != 1 {
		t.Errorf("large write: %d matches of sierra, want 1", n)
	}
	top := id("memory/failures/a.md")
	if err := os.Remove(filepath.Join(root, MemoryDir, "failures", "a.md")); err != nil {
		t.Fatal(err)
	}
	scan(t, ix)
	writeTree(t, root, map[string]string{"failures/c.md": searchNote(3, "romeo")})
	scan(t, ix)
	if c := id("memory/failures/c.md"); c <= top {
		t.Errorf("new row %d reuses an id up to %d", c, top)
	}
	ftsIntact(t, db, "end")
	for w, n := range map[string]int{"oscar": 0, "quebec": 0, "papa": 1, "romeo": 1} {
		if got := count(t, db, `SELECT count(*) FROM search WHERE search MATCH ?`, w); got != n {
			t.Errorf("%d matches of %s, want %d", got, w, n)
		}
	}
}

// An index of schema version 2 (one FTS5 write per row, by trigger) is
// brought forward in place: its entries count as indexed, and later
// changes keep index and content in step.
func TestMigrateFromVersion2(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"failures/a.md": searchNote(1, "sierra"), "failures/b.md": searchNote(2, "tango")})
	ix := openIndex(t, root)
	scan(t, ix)
	ix.Close()
	db := rw(t, root)
	for _, q := range []string{
		`DROP TRIGGER search_docs_ad`, `DROP TRIGGER search_docs_au`,
		`CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
			INSERT INTO search (rowid, title, summary, body, rule) VALUES (new.id, new.title, new.summary, new.body, new.rule); END`,
		`CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
			INSERT INTO search (search, rowid, title, summary, body, rule) VALUES ('delete', old.id, old.title, old.summary, old.body, old.rule); END`,
		`CREATE TRIGGER search_docs_au AFTER UPDATE OF title, summary, body, rule ON search_docs BEGIN
			INSERT INTO search (search, rowid, title, summary, body, rule) VALUES ('delete', old.id, old.title, old.summary, old.body, old.rule);
			INSERT INTO search (rowid, title, summary, body, rule) VALUES (new.id, new.title, new.summary, new.body, new.rule); END`,
		`DELETE FROM meta WHERE key = 'fts_upto'`,
		`PRAGMA user_version = 2`,
	} {
		exec1(t, db, q)
	}
	db.Close()

	ix = openIndex(t, root)
	db = rw(t, root)
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != SchemaVersion {
		t.Fatalf("user_version %d (%v), want %d", v, err, SchemaVersion)
	}
	if n := count(t, db, `SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'search_docs_ai'`); n != 0 {
		t.Error("the per-row insert trigger is still there")
	}
	if n := pendingSearch(t, db); n != 0 {
		t.Errorf("%d records not searchable after the migration", n)
	}
	if n := count(t, db, `SELECT count(*) FROM search_config WHERE k = 'automerge' AND v = 0`); n != 1 {
		t.Error("automerge is not 0 after the migration")
	}
	writeTree(t, root, map[string]string{"failures/a.md": searchNote(1, "uniform")})
	if err := os.Remove(filepath.Join(root, MemoryDir, "failures", "b.md")); err != nil {
		t.Fatal(err)
	}
	scan(t, ix)
	ftsIntact(t, db, "after edits")
	for w, n := range map[string]int{"sierra": 0, "tango": 0, "uniform": 1} {
		if got := count(t, db, `SELECT count(*) FROM search WHERE search MATCH ?`, w); got != n {
			t.Errorf("%d matches of %s, want %d", got, w, n)
		}
	}
	if strings.Contains(strings.Join(ranked(t, db, "note"), ","), "b.md") {
		t.Error("the deleted record is still found")
	}
}

// A new file whose record has a row already (its ledger entry lost) is
// not inserted twice: the many-row insert leaves it to the one-row
// upsert, which updates the row in place.
func TestBulkLeavesExistingRowToUpsert(t *testing.T) {
	root := t.TempDir()
	h := "---\ntype: heuristic\ntitle: Lock first\nrule: Take the lock first\nconfidence: 0.7\n---\n\nvictor\n"
	d := "---\ntype: decision\ntitle: Use WAL\n---\n\nwhiskey\n"
	writeTree(t, root, map[string]string{"heuristics/h.md": h, "decisions/d.md": d})
	ix := openIndex(t, root)
	scan(t, ix)
	db := rw(t, root)
	hid := count(t, db, `SELECT id FROM heuristics WHERE elf_key = 'memory/heuristics/h.md'`)
	did := count(t, db, `SELECT id FROM decisions WHERE elf_key = 'memory/decisions/d.md'`)
	exec1(t, db, `DELETE FROM files`)
	writeTree(t, root, map[string]string{
		"heuristics/h.md": strings.Replace(h, "Lock first", "Lock early", 1),
		"decisions/d.md":  strings.Replace(d, "Use WAL", "Use WAL mode", 1)})
	scan(t, ix)
	if n := count(t, db, `SELECT count(*) FROM heuristics`); n != 1 {
		t.Errorf("%d heuristic rows, want 1", n)
	}
	if id := count(t, db, `SELECT id FROM heuristics WHERE title = 'Lock early'`); id != hid {
		t.Errorf("heuristic row %d, want %d updated in place", id, hid)
	}
	if id := count(t, db, `SELECT id FROM decisions WHERE title = 'Use WAL mode'`); id != did {
		t.Errorf("decision row %d, want %d updated in place", id, did)
	}
	if n := count(t, db, `SELECT count(*) FROM files`); n != 2 {
		t.Errorf("%d ledger entries, want 2", n)
	}
	ftsIntact(t, db, "end")
	if n := count(t, db, `SELECT count(*) FROM search WHERE search MATCH 'victor OR whiskey'`); n != 2 {
		t.Errorf("%d matches, want 2", n)
	}
}

// Editing a record updates its row in place without drawing a new id
// from the table's AUTOINCREMENT counter: the next new record gets the
// next id.
func TestEditDrawsNoID(t *testing.T) {
	root := t.TempDir()
	h := "---\ntype: heuristic\ntitle: Lock first\nrule: Take the lock first\n---\n\nxray\n"
	d := "---\ntype: decision\ntitle: Use WAL\n---\n\nyankee\n"
	writeTree(t, root, map[string]string{"heuristics/h.md": h, "decisions/d.md": d, "failures/f.md": searchNote(1, "zulu")})
	ix := openIndex(t, root)
	scan(t, ix)
	db := rw(t, root)
	seq := func() map[string]int {
		out := map[string]int{}
		for _, tbl := range []string{"learnings", "heuristics", "decisions"} {
			out[tbl] = count(t, db, `SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0)`, tbl)
		}
		return out
	}
	before := seq()
	for i := range 3 {
		n := strconv.Itoa(i)
		writeTree(t, root, map[string]string{
			"heuristics/h.md": strings.Replace(h, "Lock first", "Lock first "+n, 1),
			"decisions/d.md":  strings.Replace(d, "Use WAL", "Use WAL "+n, 1),
			"failures/f.md":   searchNote(1, "zulu "+n)})
		if res := scan(t, ix); res.Updated != 3 {
			t.Fatalf("edit %d: %+v", i, res)
		}
	}
	if after := seq(); !maps.Equal(after, before) {
		t.Errorf("AUTOINCREMENT counters moved from %v to %v by edits", before, after)
	}
}
