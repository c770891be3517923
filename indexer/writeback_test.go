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
// database gets frontmatter holding its fields and the change; the text
// stays.
func TestWriteBackIntoBoldFieldFile(t *testing.T) {
	root := t.TempDir()
	bold := "# Push rejected\n\n**Domain**: git\n**Severity**: 3\n**Tags**: git, remote\n**Date**: 2026-11-29\n\n## Summary\n\nThe remote moved.\n"
	writeTree(t, root, map[string]string{"failures/20261129_push-rejected.md": bold})
	ix := openQuickGrace(t, root)
	scan(t, ix)
	db := rw(t, root)
	exec1(t, db, `UPDATE learnings SET severity = 5 WHERE filepath = 'memory/failures/20261129_push-rejected.md'`)
	if res := writeBack(t, ix); res.Refused != 0 {
		t.Fatalf("write-back = %+v", res)
	}
	got := readFile(t, root, "failures/20261129_push-rejected.md")
	if !strings.HasSuffix(got, bold) || !strings.Contains(got, "severity: 5") {
		t.Errorf("file:\n%s", got)
	}
	r := reader(t, root)
	if n := count(t, r, `SELECT count(*) FROM learnings WHERE severity = 5 AND domain = 'git' AND tags = 'git,remote' AND title = 'Push rejected' AND summary = 'The remote moved.'`); n != 1 {
		t.Error("the row lost a field")
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
	if d, _ := Check(context.Background(), root, 0); len(d.StaleRows) != 1 {
		t.Errorf("check = %+v, want the refused row stale", d)
	}
	writeTree(t, root, map[string]string{"failures/a.md": strings.Replace(failureNote, "held", "held again", 1)})
	if _, err := ix.Sync(context.Background(), []string{"failures/a.md"}); err != nil {
		t.Fatal(err)
	}
	if d, _ := Check(context.Background(), root, 0); !d.InSync() {
		t.Errorf("check after the file was rewritten = %+v, want in sync", d)
	}
}
