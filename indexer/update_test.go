package indexer

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// dumpEdited returns every row of the tables an edit writes, as text.
func dumpEdited(t *testing.T, db *sql.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	// Without ids: the first scan gives them in the order its readers
	// finish.
	for _, q := range []string{
		`SELECT elf_key, type, filepath, title, summary, tags, domain, severity, created_at, updated_at, extra FROM learnings ORDER BY elf_key`,
		`SELECT elf_key, filepath, domain, rule, confidence FROM heuristics ORDER BY elf_key`,
		`SELECT filepath, size, mtime_ns, hash, error, tbl, nrec FROM files ORDER BY filepath`,
		`SELECT d.elf_key, d.tbl, coalesce(l.elf_key, h.elf_key), d.title, d.summary, d.body, d.rule,
			d.id <= (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'fts_upto')
			FROM search_docs d LEFT JOIN learnings l ON d.tbl = 'learnings' AND l.id = d.row_id
			LEFT JOIN heuristics h ON d.tbl = 'heuristics' AND h.id = d.row_id ORDER BY d.elf_key`,
		`SELECT c.tbl, c.op, l.elf_key, c.elf_key, c.cols FROM elf_changes c LEFT JOIN learnings l ON l.id = c.row_id ORDER BY c.seq`,
		`SELECT x.tbl, l.elf_key FROM elf_refused x LEFT JOIN learnings l ON l.id = x.row_id ORDER BY 1, 2`,
		`SELECT d.elf_key FROM search s JOIN search_docs d ON d.id = s.rowid WHERE search MATCH 'edited OR renamed OR lock' ORDER BY 1`,
		`SELECT count(*) FROM search WHERE search MATCH 'body'`,
	} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := scanAll(t, rows, len(cols))
			out[q] = append(out[q], fmt.Sprintf("%v", vals))
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestBulkUpdateSameAsOneRow edits notes every way an edit can go (body,
// title, domain and severity, type within learnings, tags, a row with a
// foreign change not yet written back, a refused row, an edit to an
// invalid note, one that moves to another table) and checks that the
// many-row path leaves every row, ledger entry, full-text row and entry
// exactly as the one-row path does.
func TestBulkUpdateSameAsOneRow(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	note := func(typ, title, domain, sev, tags, body string) string {
		return "---\ntype: " + typ + "\ntitle: \"" + title + "\"\ndomain: " + domain + "\nseverity: " + sev +
			"\ntags: [" + tags + "]\ncreated: 2025-12-01\n---\n\n## Summary\n\nA lock " + title + ".\n\n" + body + "\n"
	}
	start := map[string]string{}
	for i := 0; i < 9; i++ {
		start[fmt.Sprintf("failures/f%d.md", i)] = note("failure", fmt.Sprintf("Lock %d", i), "git", "high", "git, locks", "Body.")
	}
	start["successes/s.md"] = note("success", "Lock s", "git", "low", "git", "Body.")
	edits := map[string]string{
		"failures/f0.md": note("failure", "Lock 0", "git", "high", "git, locks", "Body.\n\nEdited once."),
		"failures/f1.md": note("failure", "Lock renamed", "git", "high", "git, locks", "Body."),
		"failures/f2.md": note("failure", "Lock 2", "ci", "high", "git, locks", "Body."),
		"failures/f8.md": note("failure", "Lock 8", "git", "low", "git, locks", "Body."),
		"failures/f3.md": note("success", "Lock 3", "git", "high", "git, locks", "Body."),
		"failures/f4.md": note("failure", "Lock 4 edited while pending", "git", "high", "git, locks", "Body."),
		"failures/f5.md": note("failure", "Lock 5", "git", "high", "git, locks", "Body edited after a refusal."),
		"failures/f6.md": "---\ntype: [\n---\n",
		"failures/f7.md": "---\ntype: heuristic\ndomain: sqlite\nrule: Always set busy_timeout\n---\n",
		"successes/s.md": note("success", "Lock s", "git", "low", "git, ci", "Body."),
	}
	run := func(bulk bool) map[string][]string {
		root := t.TempDir()
		writeTree(t, root, start)
		for rel := range start {
			setTime(t, root, rel, t0)
		}
		ix := openIndex(t, root)
		if res := scan(t, ix); res.Added != len(start) {
			t.Fatalf("first scan: %+v", res)
		}
		db := rw(t, root)
		// A foreign change to f4's row, not yet written back; f5's row refused.
		exec1(t, db, `INSERT INTO elf_changes (tbl, op, row_id, elf_key, cols) SELECT 'learnings', 'update', id, elf_key, 'title,' FROM learnings WHERE elf_key = 'memory/failures/f4.md'`)
		exec1(t, db, `INSERT INTO elf_refused (tbl, row_id, reason) SELECT 'learnings', id, 'test' FROM learnings WHERE elf_key = 'memory/failures/f5.md'`)
		writeTree(t, root, edits)
		for rel := range edits {
			setTime(t, root, rel, t1)
		}
		// These keep their mtime (so updated_at): only the one value
		// their edit changed differs.
		for _, rel := range []string{"failures/f1.md", "failures/f2.md", "failures/f8.md", "successes/s.md"} {
			setTime(t, root, rel, t0)
		}
		bulkUpdates = bulk
		defer func() { bulkUpdates = true }()
		n := bulkUpdated.Load()
		// The reconcile without the write-back a scan starts with, so
		// f4's change is still pending when its file is read.
		res, err := ix.reconcileTree(context.Background(), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := bulkUpdated.Load() - n; bulk && got != 8 || !bulk && got != 0 {
			t.Fatalf("bulk %v: %d rows through the many-row path", bulk, got)
		}
		if res.Updated+res.Invalid+res.Unchanged != len(edits) {
			t.Fatalf("bulk %v: edit scan %+v", bulk, res)
		}
		return dumpEdited(t, reader(t, root))
	}
	one, many := run(false), run(true)
	for q := range one {
		if !reflect.DeepEqual(one[q], many[q]) {
			t.Errorf("%s\none row:\n  %s\nmany rows:\n  %s", q, strings.Join(one[q], "\n  "), strings.Join(many[q], "\n  "))
		}
	}
	if len(many[`SELECT x.tbl, l.elf_key FROM elf_refused x LEFT JOIN learnings l ON l.id = x.row_id ORDER BY 1, 2`]) != 0 {
		t.Errorf("the refused row is still refused after its file was written")
	}
}

func setTime(t *testing.T, root, rel string, at time.Time) {
	t.Helper()
	if err := os.Chtimes(filepath.Join(root, MemoryDir, filepath.FromSlash(rel)), at, at); err != nil {
		t.Fatal(err)
	}
}
