package indexer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func openQuickGrace(t *testing.T, root string) *Index {
	t.Helper()
	ix, err := Open(context.Background(), Options{Root: root, Logger: zerolog.Nop(), Grace: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func writeBack(t *testing.T, ix *Index) WriteBackResult {
	t.Helper()
	res, err := ix.WriteBack(context.Background(), "h-test0001")
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func readFile(t *testing.T, root, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, MemoryDir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// The learning-loop hook's statements: bump counters and confidence of
// consulted heuristics, promote to golden. The file follows, counters as
// this host's tally.
func TestWriteBackHookUpdates(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"heuristics/h.md": heuristicNote,
		"heuristics/git.md": domainFile + sectionText("7", "Rebase before you push")})
	ix := openQuickGrace(t, root)
	scan(t, ix)
	db := rw(t, root)
	exec1(t, db, `UPDATE heuristics SET times_validated = times_validated + 1, confidence = MIN(1.0, confidence + 0.01), updated_at = ?
		WHERE id IN (SELECT id FROM heuristics)`, time.Now().Format(time.RFC3339))
	exec1(t, db, `UPDATE heuristics SET is_golden = 1, updated_at = ? WHERE id = 7`, time.Now().Format(time.RFC3339))
	res := writeBack(t, ix)
	if len(res.Changed) != 2 || res.Refused != 0 {
		t.Errorf("write-back = %+v, want 2 files changed", res)
	}
	h := readFile(t, root, "heuristics/h.md")
	for _, want := range []string{"times_validated: 1", "validated_by: {h-test0001: 1}", "confidence: 0.81"} {
		if !strings.Contains(h, want) {
			t.Errorf("h.md lacks %q:\n%s", want, h)
		}
	}
	g := readFile(t, root, "heuristics/git.md")
	for _, want := range []string{"**Validated**: 1", "**Confidence**: 0.71", "**Golden**: true"} {
		if !strings.Contains(g, want) {
			t.Errorf("git.md lacks %q:\n%s", want, g)
		}
	}
	if res := scan(t, ix); res.Added+res.Updated+res.Removed != 0 {
		t.Errorf("scan after = %+v, want a no-op", res)
	}
	if d, _ := Check(context.Background(), root, 0); !d.InSync() {
		t.Errorf("check = %+v, want in sync", d)
	}
	// A rebuild from the files keeps the values.
	ix.Close()
	os.Remove(filepath.Join(root, MemoryDir, DBName))
	ix = openQuickGrace(t, root)
	scan(t, ix)
	r := reader(t, root)
	if n := count(t, r, `SELECT count(*) FROM heuristics WHERE times_validated = 1 AND confidence > 0.7`); n != 2 {
		t.Errorf("%d of 2 heuristics kept their counters and confidence through a rebuild", n)
	}
	if n := count(t, r, `SELECT count(*) FROM heuristics WHERE id = 7 AND is_golden = 1`); n != 1 {
		t.Error("H-7 lost its golden flag through a rebuild")
	}
}

// The dashboard edits a heuristic's rule and deletes another; a learning's
// title is edited. Only what the row changed is written.
func TestWriteBackDashboardEdits(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"heuristics/h.md": heuristicNote, "failures/a.md": failureNote,
		"heuristics/git.md": domainFile + sectionText("7", "Rebase before you push") + sectionText("8", "Sign tags")})
	ix := openQuickGrace(t, root)
	scan(t, ix)
	db := rw(t, root)
	exec1(t, db, `UPDATE heuristics SET rule = ?, updated_at = CURRENT_TIMESTAMP WHERE filepath = 'memory/heuristics/h.md'`, "Always set busy_timeout to 5 s")
	exec1(t, db, `UPDATE heuristics SET rule = ? WHERE id = 7`, "Rebase, then push")
	exec1(t, db, `DELETE FROM heuristics WHERE id = 8`)
	exec1(t, db, `UPDATE learnings SET title = ? WHERE filepath = 'memory/failures/a.md'`, "Lock: held for good")
	writeBack(t, ix)
	if h := readFile(t, root, "heuristics/h.md"); !strings.Contains(h, `rule: "Always set busy_timeout to 5 s"`) && !strings.Contains(h, `rule: Always set busy_timeout to 5 s`) {
		t.Errorf("h.md:\n%s", h)
	}
	g := readFile(t, root, "heuristics/git.md")
	if !strings.Contains(g, "## H-7: Rebase, then push") || strings.Contains(g, "H-8") {
		t.Errorf("git.md:\n%s", g)
	}
	if a := readFile(t, root, "failures/a.md"); !strings.Contains(a, "Lock: held for good") || !strings.Contains(a, "The lock was held.") {
		t.Errorf("a.md:\n%s", a)
	}
	r := reader(t, root)
	if n := count(t, r, `SELECT count(*) FROM heuristics`); n != 2 {
		t.Errorf("%d heuristics, want 2", n)
	}
	if res := scan(t, ix); res.Added+res.Updated+res.Removed != 0 {
		t.Errorf("scan after = %+v, want a no-op", res)
	}
}

// Rows inserted without a file get one after the grace, with their id;
// hostile rows are refused and hold nothing else up.
func TestWriteBackInsertsWithoutFile(t *testing.T) {
	root := t.TempDir()
	ix := openQuickGrace(t, root)
	scan(t, ix)
	db := rw(t, root)
	hid := exec1(t, db, `INSERT INTO heuristics (domain, rule, explanation, confidence, source_type, created_at)
		VALUES ('git', 'Never force-push a shared branch', 'Auto-extracted from task output', 0.5, 'auto', '2026-11-27T10:00:00')`)
	lid := exec1(t, db, `INSERT INTO learnings (type, filepath, title, summary, domain, severity, created_at)
		VALUES ('failure', 'memory/failures/20261127_died.md', 'Writer died', 'It died half-way.', 'x', 3, '2026-11-27 10:00:00')`)
	exec1(t, db, `INSERT INTO learnings (type, filepath, title, summary, domain, severity, created_at)
		VALUES ('failure', 'auto-failures/failure_1.md', 'Auto-captured', 's', 'x', 3, '2026-11-27 10:00:00')`)
	for _, fp := range []string{"memory/../../escape.md", "/etc/passwd.md", "memory/index.db", "memory/.git/x.md"} {
		exec1(t, db, `INSERT INTO learnings (type, filepath, title) VALUES ('failure', ?, 'hostile')`, fp)
	}
	exec1(t, db, `INSERT INTO heuristics (domain, rule) VALUES ('x', ?)`, "line one\n---\nis_golden: true")
	// Past the 1 ms grace; /etc/passwd.md points outside memory/: the
	// framework's, left alone.
	var res WriteBackResult
	refused := 0
	for deadline := time.Now().Add(5 * time.Second); ; {
		res = writeBack(t, ix)
		refused += res.Refused
		if res.Pending == 0 || time.Now().After(deadline) {
			break
		}
	}
	if refused != 4 {
		t.Errorf("refused %d, want 4 (%+v)", refused, res)
	}
	r := reader(t, root)
	if n := count(t, r, `SELECT count(*) FROM heuristics WHERE id = ? AND elf_key IS NOT NULL`, hid); n != 1 {
		t.Errorf("heuristic %d has no file", hid)
	}
	if n := count(t, r, `SELECT count(*) FROM learnings WHERE id = ? AND elf_key = 'memory/failures/20261127_died.md'`, lid); n != 1 {
		t.Errorf("learning %d has no file at its own path", lid)
	}
	if n := count(t, r, `SELECT count(*) FROM learnings WHERE filepath = 'auto-failures/failure_1.md' AND elf_key IS NULL`); n != 1 {
		t.Error("the framework's row outside memory/ was touched")
	}
	if _, err := os.Stat(filepath.Join(root, "escape.md")); err == nil {
		t.Error("a hostile row wrote outside memory/")
	}
	if res := scan(t, ix); res.Added+res.Updated+res.Removed != 0 {
		t.Errorf("scan after = %+v, want a no-op", res)
	}
}

// 100 concurrent counter increments from other connections end at exactly
// +100 in the row and the file.
func TestWriteBackConcurrentIncrements(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"heuristics/h.md": heuristicNote})
	ix := openQuickGrace(t, root)
	scan(t, ix)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // the watcher's write-back, running meanwhile
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := ix.WriteBack(context.Background(), "h-test0001"); err != nil {
				errs <- err
				return
			}
		}
	}()
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db := rw(t, root)
			for range 10 {
				if _, err := db.Exec(`UPDATE heuristics SET times_validated = times_validated + 1 WHERE filepath = 'memory/heuristics/h.md'`); err != nil {
					errs <- fmt.Errorf("writer %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-done
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	writeBack(t, ix)
	scan(t, ix)
	r := reader(t, root)
	if n := count(t, r, `SELECT times_validated FROM heuristics`); n != 100 {
		t.Errorf("row: times_validated %d, want 100", n)
	}
	if h := readFile(t, root, "heuristics/h.md"); !strings.Contains(h, "times_validated: 100") {
		t.Errorf("file:\n%s", h)
	}
}

// A framework failure file (bold fields, no frontmatter) edited in the
// database stays a bold-field file: the field's line is rewritten in
// place, the title goes into the heading, the summary into its paragraph,
// a new field becomes a bold line beside the others. It never says a value
// twice.
func TestWriteBackIntoBoldFieldFile(t *testing.T) {
	root := t.TempDir()
	bold := "# Push rejected\n\n**Domain**: git\n**Severity**: 3\n**Tags**: git, remote\n**Date**: 2026-11-29\n\n## Summary\n\nThe remote moved.\n"
	const rel = "failures/20261129_push-rejected.md"
	writeTree(t, root, map[string]string{rel: bold})
	ix := openQuickGrace(t, root)
	scan(t, ix)
	db := rw(t, root)
	exec1(t, db, `UPDATE learnings SET severity = 5 WHERE filepath = 'memory/failures/20261129_push-rejected.md'`)
	if res := writeBack(t, ix); res.Refused != 0 {
		t.Fatalf("write-back = %+v", res)
	}
	got := readFile(t, root, rel)
	if want := strings.Replace(bold, "**Severity**: 3", "**Severity**: 5", 1); got != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}
	r := reader(t, root)
	if n := count(t, r, `SELECT count(*) FROM learnings WHERE severity = 5 AND domain = 'git' AND tags = 'git,remote' AND title = 'Push rejected' AND summary = 'The remote moved.'`); n != 1 {
		t.Error("the row lost a field")
	}
	if res := scan(t, ix); res.Added+res.Updated+res.Removed != 0 {
		t.Errorf("scan after = %+v, want a no-op", res)
	}

	// Title, summary, tags and domain at once (the dashboard's edit).
	exec1(t, db, `UPDATE learnings SET title = 'Push refused', summary = 'Someone pushed first.', tags = 'git,push', domain = 'remote'
		WHERE filepath = 'memory/failures/20261129_push-rejected.md'`)
	if res := writeBack(t, ix); res.Refused != 0 {
		t.Fatalf("write-back = %+v", res)
	}
	got = readFile(t, root, rel)
	want := "# Push refused\n\n**Domain**: remote\n**Severity**: 5\n**Tags**: git, push\n**Date**: 2026-11-29\n\n## Summary\n\nSomeone pushed first.\n"
	if got != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}
	if n := count(t, r, `SELECT count(*) FROM learnings WHERE severity = 5 AND domain = 'remote' AND tags = 'git,push' AND title = 'Push refused' AND summary = 'Someone pushed first.'`); n != 1 {
		t.Error("the row does not say what the file says")
	}
	if res := scan(t, ix); res.Added+res.Updated+res.Removed != 0 {
		t.Errorf("scan after = %+v, want a no-op", res)
	}
}

// A refused row stays flagged until its file is rewritten (the file wins)
// or a later write of the row succeeds.
func TestRefusedRowClearedByFileEdit(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"failures/a.md": failureNote})
	ix := openQuickGrace(t, root)
	scan(t, ix)
	db := rw(t, root)
	exec1(t, db, `UPDATE learnings SET title = ? WHERE filepath = 'memory/failures/a.md'`, "bad\ntitle")
	if res := writeBack(t, ix); res.Refused != 1 {
		t.Fatalf("write-back = %+v, want 1 refused", res)
	}
	if d, _ := Check(context.Background(), root, 0); d.InSync() || len(d.StaleRows) != 0 || len(d.Refused) != 1 ||
		d.Refused[0].Path != "memory/failures/a.md" || d.Refused[0].Table != "learnings" || !strings.Contains(d.Refused[0].Reason, "control character") {
		t.Errorf("check = %+v, want the row refused, with its file and why", d)
	}
	writeTree(t, root, map[string]string{"failures/a.md": strings.Replace(failureNote, "held", "held again", 1)})
	if _, err := ix.Sync(context.Background(), []string{"failures/a.md"}); err != nil {
		t.Fatal(err)
	}
	if d, _ := Check(context.Background(), root, 0); !d.InSync() {
		t.Errorf("check after the file was rewritten = %+v, want in sync", d)
	}
}

// status reads rows whose filepath another process cleared (the key names
// the file), and lists a file once however many of its sections differ.
func TestCheckReadsRowsWithoutFilepath(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"heuristics/git.md": domainFile + sectionText("7", "Rebase before you push") + sectionText("8", "Sign tags")})
	ix := openQuickGrace(t, root)
	scan(t, ix)
	db := rw(t, root)
	exec1(t, db, `UPDATE heuristics SET filepath = NULL, confidence = 0.9`)
	d, err := Check(context.Background(), root, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.Rows != 2 || len(d.OrphanRows) != 0 || len(d.StaleRows) != 1 || d.StaleRows[0] != "memory/heuristics/git.md" {
		t.Errorf("check = %+v, want 2 rows, git.md stale once", d)
	}
	writeBack(t, ix)
	if d, err := Check(context.Background(), root, 0); err != nil || !d.InSync() {
		t.Errorf("check after write-back = %+v, %v; want in sync", d, err)
	}
}

// A row whose filepath holds a control character gets no file of that
// name (git log and terminals would show the raw bytes): it is refused.
func TestWriteBackRefusesControlCharacterPath(t *testing.T) {
	root := t.TempDir()
	ix := openQuickGrace(t, root)
	scan(t, ix)
	db := rw(t, root)
	exec1(t, db, `INSERT INTO learnings (type, filepath, title, summary, severity, created_at) VALUES ('failure', ?, 'Bell', 's', 3, '2026-11-27 10:00:00')`,
		"memory/failures/ok\x07\x1b[31m.md")
	var refused int
	for deadline := time.Now().Add(5 * time.Second); ; {
		res := writeBack(t, ix)
		refused += res.Refused
		if res.Pending == 0 || time.Now().After(deadline) {
			break
		}
	}
	entries, _ := os.ReadDir(filepath.Join(root, MemoryDir, "failures"))
	if len(entries) != 0 || refused != 1 {
		t.Errorf("refused %d, files %v; want the row refused and no file", refused, entries)
	}
}

// A domain-file section's counter bumped in the database goes into this
// host's tally beside the other hosts' ("**Validated by**:"), so a merge
// with another machine's bumps keeps both; a rebuild reads the same value.
func TestWriteBackSectionCounterTally(t *testing.T) {
	root := t.TempDir()
	sec := "## H-7: Rebase before you push\n\n**Confidence**: 0.7\n**Validated**: 5\n**Validated by**: {base: 3, h-other01: 2}\n\nBecause.\n\n---\n\n"
	writeTree(t, root, map[string]string{"heuristics/git.md": domainFile + sec + sectionText("8", "Sign tags")})
	ix := openQuickGrace(t, root)
	scan(t, ix)
	r := reader(t, root)
	if n := count(t, r, `SELECT times_validated FROM heuristics WHERE id = 7`); n != 5 {
		t.Fatalf("times_validated %d, want 5", n)
	}
	db := rw(t, root)
	exec1(t, db, `UPDATE heuristics SET times_validated = times_validated + 1 WHERE id IN (7, 8)`)
	writeBack(t, ix)
	g := readFile(t, root, "heuristics/git.md")
	for _, want := range []string{"**Validated**: 6\n**Validated by**: {base: 3, h-other01: 2, h-test0001: 1}\n",
		"## H-8: Sign tags\n\n**Confidence**: 0.7\n**Source**: observation\n**Created**: 2026-11-27\n**Validated**: 1\n**Validated by**: {h-test0001: 1}\n\nBecause."} {
		if !strings.Contains(g, want) {
			t.Errorf("git.md lacks %q:\n%s", want, g)
		}
	}
	if res := scan(t, ix); res.Added+res.Updated+res.Removed != 0 {
		t.Errorf("scan after = %+v, want a no-op", res)
	}
	ix.Close()
	os.Remove(filepath.Join(root, MemoryDir, DBName))
	ix = openQuickGrace(t, root)
	scan(t, ix)
	r = reader(t, root)
	if n := count(t, r, `SELECT sum(times_validated) FROM heuristics WHERE id IN (7, 8)`); n != 7 {
		t.Errorf("after a rebuild the counters sum to %d, want 7", n)
	}
}

// A domain file whose last section the dashboard deleted holds no record:
// in sync, not a file without a row.
func TestWriteBackLastSectionDeleted(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"heuristics/git.md": domainFile + sectionText("7", "Rebase before you push")})
	ix := openQuickGrace(t, root)
	scan(t, ix)
	exec1(t, rw(t, root), `DELETE FROM heuristics WHERE id = 7`)
	writeBack(t, ix)
	if g := readFile(t, root, "heuristics/git.md"); strings.Contains(g, "H-7") {
		t.Errorf("git.md still holds H-7:\n%s", g)
	}
	if d, err := Check(context.Background(), root, 0); err != nil || !d.InSync() {
		t.Errorf("check = %+v, %v; want in sync", d, err)
	}
}

// The MCP server's section appended after the grace, when the heuristic
// already got a file of its own: the section takes the row over (its id
// kept), the file elfsync wrote is removed; one record, not two.
func TestLateSectionTakesOverPlacedFile(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"heuristics/git.md": domainFile})
	ix := openQuickGrace(t, root)
	scan(t, ix)
	db := rw(t, root)
	id := exec1(t, db, `INSERT INTO heuristics (domain, rule, explanation, source_type, confidence, times_validated, times_violated, is_golden, created_at, updated_at)
		VALUES ('git', 'Rebase before you push', 'Because.', 'observation', 0.7, 0, 0, 0, '2026-11-27 10:00:00', '2026-11-27 10:00:00')`)
	var placed []string
	for deadline := time.Now().Add(5 * time.Second); len(placed) == 0 && time.Now().Before(deadline); {
		placed = writeBack(t, ix).Changed
	}
	if len(placed) != 1 || !strings.HasPrefix(placed[0], "memory/heuristics/2026") {
		t.Fatalf("write-back placed %v, want the heuristic's own file", placed)
	}
	exec1(t, db, `UPDATE heuristics SET times_validated = times_validated + 2 WHERE id = ?`, id)
	writeBack(t, ix)
	writeTree(t, root, map[string]string{"heuristics/git.md": domainFile + sectionText(itoa(id), "Rebase before you push")})
	if _, err := ix.Sync(context.Background(), []string{"heuristics/git.md"}); err != nil {
		t.Fatal(err)
	}
	r := reader(t, root)
	if n := count(t, r, `SELECT count(*) FROM heuristics`); n != 1 {
		t.Errorf("%d heuristics, want 1", n)
	}
	if n := count(t, r, `SELECT count(*) FROM heuristics WHERE id = ? AND elf_key = ? AND filepath = 'memory/heuristics/git.md' AND times_validated = 2`, id, "memory/heuristics/git.md#H-"+itoa(id)); n != 1 {
		t.Errorf("row %d is not the section's, with its counter", id)
	}
	if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(placed[0]))); err == nil {
		t.Errorf("%s is still there", placed[0])
	}
	if g := readFile(t, root, "heuristics/git.md"); !strings.Contains(g, "**Validated**: 2") {
		t.Errorf("the counter did not reach the section:\n%s", g)
	}
	if d, err := Check(context.Background(), root, 0); err != nil || !d.InSync() {
		t.Errorf("check = %+v, %v; want in sync", d, err)
	}
	if res := scan(t, ix); res.Added+res.Updated+res.Removed != 0 {
		t.Errorf("scan after = %+v, want a no-op", res)
	}
}

// HasChanges skips its query while the index files are unchanged; a
// foreign commit must still be seen by the very next call, every time,
// however soon it follows the last answer.
func TestHasChangesSeesEveryForeignCommit(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"heuristics/h.md": heuristicNote})
	ix := openQuickGrace(t, root)
	scan(t, ix)
	db := rw(t, root)
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		for j := 0; j < 3; j++ { // answered from the files after the first
			if has, err := ix.HasChanges(ctx); err != nil || has {
				t.Fatalf("round %d: HasChanges = %v, %v before any foreign write", i, has, err)
			}
		}
		exec1(t, db, `UPDATE heuristics SET times_validated = times_validated + 1`)
		if has, err := ix.HasChangesNow(ctx); err != nil || !has {
			t.Fatalf("round %d: HasChangesNow = %v, %v right after a foreign commit, want true", i, has, err)
		}
		if has, err := ix.HasChanges(ctx); err != nil || !has {
			t.Fatalf("round %d: HasChanges = %v, %v right after a foreign commit, want true", i, has, err)
		}
		writeBack(t, ix)
	}
}
