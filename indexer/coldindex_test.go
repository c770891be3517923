package indexer

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// recordIndexes lists the indexes of the record tables, with their SQL.
func recordIndexes(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT name || ': ' || sql FROM sqlite_master
		WHERE type = 'index' AND tbl_name IN ('learnings', 'heuristics', 'decisions') AND sql IS NOT NULL ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func coldTree(n int) map[string]string {
	files := map[string]string{}
	for i := range n {
		files[fmt.Sprintf("failures/f%03d.md", i)] = fmt.Sprintf("---\ntype: failure\ntitle: Failure %d\ndomain: d%d\nseverity: 2\n---\n\nBody %d.\n", i, i%3, i)
		files[fmt.Sprintf("decisions/d%03d.md", i)] = fmt.Sprintf("---\ntype: decision\ntitle: Decision %d\ndomain: d%d\n---\n\nBecause %d.\n", i, i%3, i)
	}
	files["heuristics/git.md"] = "# Heuristics: git\n\n## H-7: Pull before you push\n\n**Confidence**: 0.8\n\nAlways.\n"
	return files
}

// A cold scan builds the framework's indexes of the record tables after
// the rows: they are missing while the rows go in, and back, the same,
// when the rows are in.
func TestColdScanBuildsIndexesAfterRows(t *testing.T) {
	old := deferAbove
	deferAbove = 10
	t.Cleanup(func() { deferAbove = old })
	root := t.TempDir()
	writeTree(t, root, coldTree(30))
	var db *sql.DB
	var atRows []string
	ix, err := Open(context.Background(), Options{Root: root, Logger: zerolog.Nop(), RowsDone: func() {
		atRows = recordIndexes(t, db)
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	db = rw(t, root)
	before := recordIndexes(t, db)
	if len(before) < 10 {
		t.Fatalf("a new index has only these record-table indexes: %v", before)
	}
	var during []string
	res, err := ix.Scan(context.Background(), func(done, total int) {
		if during == nil {
			during = recordIndexes(t, db)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 61 {
		t.Errorf("added %d files, want 61", res.Added)
	}
	if len(during) >= len(before) {
		t.Errorf("while the rows went in the indexes were all there: %v", during)
	}
	for _, s := range during {
		if !slices.Contains(before, s) {
			t.Errorf("index %q appeared during the load", s)
		}
	}
	if !slices.Equal(atRows, before) {
		t.Errorf("when the rows were in, indexes\n%v\nwant\n%v", atRows, before)
	}
	if after := recordIndexes(t, db); !slices.Equal(after, before) {
		t.Errorf("after the scan, indexes\n%v\nwant\n%v", after, before)
	}
	if n := count(t, db, `SELECT count(*) FROM meta WHERE key = ?`, deferredIndexesKey); n != 0 {
		t.Errorf("meta.%s left behind", deferredIndexesKey)
	}
	if n := count(t, db, `SELECT count(*) FROM learnings INDEXED BY idx_learnings_domain WHERE domain = 'd1'`); n != 10 {
		t.Errorf("idx_learnings_domain finds %d rows of domain d1, want 10", n)
	}
	if n := count(t, db, `SELECT count(*) FROM decisions INDEXED BY idx_decisions_domain WHERE domain = 'd2'`); n != 10 {
		t.Errorf("idx_decisions_domain finds %d rows of domain d2, want 10", n)
	}
	if n := count(t, db, `SELECT count(*) FROM search_config WHERE k = 'hashsize' AND v = ?`, ftsHashSize); n != 1 {
		t.Errorf("the full-text build did not set hashsize %d", ftsHashSize)
	}
	if n := count(t, db, `SELECT count(*) FROM search WHERE search MATCH 'failure'`); n != 30 {
		t.Errorf("%d records match 'failure', want 30", n)
	}
	if n := count(t, db, `SELECT count(*) FROM heuristics WHERE id = 7 AND elf_key = 'memory/heuristics/git.md#H-7'
		AND rule = 'Pull before you push' AND confidence = 0.8`); n != 1 {
		t.Error("the section H-7 has no row of id 7 with its rule and confidence")
	}
	if res := scan(t, ix); res.Added+res.Updated+res.Removed != 0 {
		t.Errorf("second scan changed something: %+v", res)
	}
}

// Indexes dropped for a cold load that a crash kept from being built
// again are built by the next Open; tables with rows never lose theirs.
// deferredIndex opens a new index, whose record tables are empty, and
// drops their deferrable indexes as a cold load does. It returns the
// root, the index, a second connection and the indexes there were before.
func deferredIndex(t *testing.T) (string, *Index, *sql.DB, []string) {
	t.Helper()
	root := t.TempDir()
	ix, err := Open(context.Background(), Options{Root: root, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	db := rw(t, root)
	before := recordIndexes(t, db)
	dropped, err := deferIndexes(context.Background(), ix.db)
	if err != nil || !dropped {
		t.Fatalf("deferIndexes on empty tables = %v, %v; want true", dropped, err)
	}
	return root, ix, db, before
}

func TestDeferredIndexesSurviveACrash(t *testing.T) {
	ctx := context.Background()
	root, ix, db, before := deferredIndex(t)
	mid := recordIndexes(t, db)
	if len(mid) != len(before)-len(deferrableIndexes) {
		t.Errorf("after the drop %d indexes, want %d: %v", len(mid), len(before)-len(deferrableIndexes), mid)
	}
	// The crash: the process ends without building them.
	ix.Close()
	ix, err := Open(ctx, Options{Root: root, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if after := recordIndexes(t, db); !slices.Equal(after, before) {
		t.Errorf("after reopening, indexes\n%v\nwant\n%v", after, before)
	}
	if n := count(t, db, `SELECT count(*) FROM meta WHERE key = ?`, deferredIndexesKey); n != 0 {
		t.Errorf("meta.%s left behind", deferredIndexesKey)
	}

	writeTree(t, root, coldTree(2))
	scan(t, ix)
	dropped, err := deferIndexes(ctx, ix.db)
	if err != nil || dropped {
		t.Errorf("deferIndexes with rows = %v, %v; want false", dropped, err)
	}
	if after := recordIndexes(t, db); !slices.Equal(after, before) {
		t.Errorf("with rows, indexes\n%v\nwant\n%v", after, before)
	}
}

// A domain file the ledger lost goes through the insert-first upsert of
// a new file: its sections' rows are updated in place, and a row with a
// change not yet written back is left alone.
func TestLostDomainFileUpsertsInPlace(t *testing.T) {
	root := t.TempDir()
	dom := "# Heuristics: git\n\n## H-7: Pull before you push\n\n**Confidence**: 0.8\n\nAlways.\n\n## H-9: Small commits\n\n**Confidence**: 0.6\n\nOften.\n"
	writeTree(t, root, map[string]string{"heuristics/git.md": dom})
	ix := openIndex(t, root)
	scan(t, ix)
	db := rw(t, root)
	if n := count(t, db, `SELECT count(*) FROM heuristics WHERE id IN (7, 9)`); n != 2 {
		t.Fatalf("%d of the sections have their numbers as ids, want 2", n)
	}
	// Another process changes H-9 (logged for write-back), and the
	// ledger loses the file.
	exec1(t, db, `UPDATE heuristics SET rule = 'Tiny commits' WHERE id = 9`)
	exec1(t, db, `DELETE FROM files`)
	writeTree(t, root, map[string]string{"heuristics/git.md": strings.Replace(
		strings.Replace(dom, "Pull before you push", "Fetch before you push", 1), "Small commits", "Smaller commits", 1)})
	if _, err := ix.Scan(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM heuristics`); n != 2 {
		t.Errorf("%d heuristic rows, want 2", n)
	}
	if n := count(t, db, `SELECT count(*) FROM heuristics WHERE id = 7 AND rule = 'Fetch before you push'`); n != 1 {
		t.Error("H-7 was not updated in place")
	}
	if n := count(t, db, `SELECT count(*) FROM heuristics WHERE id = 9 AND rule = 'Tiny commits'`); n != 1 {
		t.Error("H-9's change waiting for write-back was overwritten")
	}
	if n := count(t, db, `SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'heuristics'), 0)`); n != 9 {
		t.Errorf("heuristics' AUTOINCREMENT counter is %d, want 9", n)
	}
}

func TestPlainIndexShape(t *testing.T) {
	for _, c := range []struct {
		stmt string
		ok   bool
	}{
		{`CREATE INDEX idx_learnings_domain ON learnings(domain)`, true},
		{`CREATE INDEX IF NOT EXISTS idx_learnings_created_at ON learnings(created_at DESC)`, true},
		{`CREATE INDEX idx_heuristics_domain_confidence ON heuristics(domain, confidence DESC)`, true},
		{`CREATE INDEX idx_learnings_domain ON learnings(domain); DROP TABLE learnings`, false},
		{`CREATE INDEX idx_learnings_domain ON learnings(domain) WHERE domain IS NOT NULL`, false},
		{`CREATE INDEX idx_learnings_domain ON learnings(lower(domain))`, false},
		{`CREATE INDEX idx_other ON learnings(domain)`, false},
		{`CREATE INDEX idx_learnings_domain ON metrics(domain)`, false},
	} {
		if _, ok := plainIndex(c.stmt); ok != c.ok {
			t.Errorf("plainIndex(%q) ok = %v, want %v", c.stmt, ok, c.ok)
		}
	}
}

// meta is writable by any process: what restoreIndexes finds there runs
// only when it is a plain index statement deferIndexes could have
// written; otherwise the framework's own definitions are built instead.
func TestRestoreIndexesRunsOnlyPlainStatements(t *testing.T) {
	ctx := context.Background()
	root, ix, db, before := deferredIndex(t)
	ix.Close()
	hostile := `["CREATE INDEX idx_learnings_domain ON learnings(domain); DROP TABLE decisions"]`
	if _, err := db.Exec(`UPDATE meta SET value = ? WHERE key = ?`, hostile, deferredIndexesKey); err != nil {
		t.Fatal(err)
	}
	ix, err := Open(ctx, Options{Root: root, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if n := count(t, db, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'decisions'`); n != 1 {
		t.Fatal("a statement from meta ran: decisions was dropped")
	}
	if after := recordIndexes(t, db); !slices.Equal(after, before) {
		t.Errorf("after reopening, indexes\n%v\nwant\n%v", after, before)
	}
	if n := count(t, db, `SELECT count(*) FROM meta WHERE key = ?`, deferredIndexesKey); n != 0 {
		t.Errorf("meta.%s left behind", deferredIndexesKey)
	}
}
