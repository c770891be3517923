package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/legacy"
)

// impLegacyFixture is the old framework memory folder the import tests work
// on (always through a temp copy: import must never touch it anyway).
var impLegacyFixture = filepath.Join("..", "..", "testdata", "elf-legacy")

// importOld copies the fixture to a temp OLD_ROOT and returns it with a
// fresh, not yet existing ROOT.
func importOld(t *testing.T) (old, root string) {
	t.Helper()
	dir := t.TempDir()
	old, root = filepath.Join(dir, "old"), filepath.Join(dir, "new")
	copyTree(t, impLegacyFixture, old)
	return old, root
}

// runImport runs `elfsync import args...` and returns its output and exit
// code.
func runImport(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"import"}, args...), strings.NewReader(""), &out, &errb)
	code = exitCode(err, &errb)
	return out.String(), errb.String(), code
}

// importTree returns every file under dir (slash paths relative to dir) with
// its sha256, leaving out the index files when skipIndex is set.
func importTree(t *testing.T, dir string, skipIndex bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return out
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		// The index and elfsync's per-machine state (memory/.elfsync:
		// the write lock of file edits, the host id) are not memories.
		if skipIndex && (strings.HasPrefix(filepath.Base(rel), "index.db") || strings.Contains(rel, "/.elfsync/")) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		out[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func impSortedPaths(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The files a plain import of the fixture gives, relative to ROOT.
var impWantImported = []string{
	"memory/failures/20261127_heredoc-consumed-before-retry.md",
	"memory/failures/20261127_sqlite-busy-under-concurrent-inserts.md",
	"memory/failures/20261127_stale-index-lock-blocked-commits.md",
	"memory/failures/20261127_task-tool-failed-timeout.md",
	"memory/heuristics/20261127_batch-commits-instead-of-one-per-record.md",
	"memory/heuristics/20261127_never-delete-a-lock-file-you-did-not-create.md",
	"memory/heuristics/20261127_set-busy-timeout-and-wal-before-any-concurrent-write.md",
	"memory/successes/20261126_parallel-agents-shared-cache.md",
}

var impCopiedFiles = []string{
	"memory/failures/20261127_heredoc-consumed-before-retry.md",
	"memory/failures/20261127_sqlite-busy-under-concurrent-inserts.md",
	"memory/failures/20261127_stale-index-lock-blocked-commits.md",
	"memory/successes/20261126_parallel-agents-shared-cache.md",
}

func impParseFile(t *testing.T, root, rel string) frontmatter.Record {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := frontmatter.Parse(frontmatter.Input{Path: strings.TrimPrefix(rel, "memory/"), Data: data})
	if err != nil {
		t.Fatalf("parse %s: %v", rel, err)
	}
	return rec
}

// impHeurRow is a heuristics row of the new index.
type impHeurRow struct {
	id                  int64
	domain, rule        string
	confidence          float64
	validated, violated int
	golden              bool
}

// impReadIndex reads the new index read-only: heuristics by filepath and
// learnings titles by filepath.
func impReadIndex(t *testing.T, root string) (map[string]impHeurRow, map[string]string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(filepath.Join(root, "memory", "index.db"))+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	heurs := map[string]impHeurRow{}
	rows, err := db.Query(`SELECT id, filepath, domain, rule, confidence, times_validated, times_violated, is_golden FROM heuristics`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var h impHeurRow
		var fp string
		if err := rows.Scan(&h.id, &fp, &h.domain, &h.rule, &h.confidence, &h.validated, &h.violated, &h.golden); err != nil {
			t.Fatal(err)
		}
		heurs[fp] = h
	}
	rows.Close()
	learn := map[string]string{}
	rows, err = db.Query(`SELECT filepath, title FROM learnings`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var fp, title string
		if err := rows.Scan(&fp, &title); err != nil {
			t.Fatal(err)
		}
		learn[fp] = title
	}
	rows.Close()
	return heurs, learn
}

func TestImportLegacy(t *testing.T) {
	old, root := importOld(t)
	before := importTree(t, old, false)

	out, errOut, code := runImport(t, "--root", root, "--from", old)
	if code != 0 {
		t.Fatalf("import: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	t.Logf("stdout:\n%s", out)

	files := importTree(t, root, true)
	if got := impSortedPaths(files); !reflect.DeepEqual(got, impWantImported) {
		t.Fatalf("files:\n got %q\nwant %q", got, impWantImported)
	}
	// Bold-field files are copied byte for byte.
	for _, rel := range impCopiedFiles {
		if files[rel] != before[rel] {
			t.Errorf("%s: not an identical copy", rel)
		}
	}

	// One file per heuristic; the old database's confidence and is_golden
	// win over the file's text.
	h1 := impParseFile(t, root, "memory/heuristics/20261127_never-delete-a-lock-file-you-did-not-create.md")
	if h1.Type != "heuristic" || h1.Domain != "git" || h1.Rule != "Never delete a lock file you did not create" ||
		h1.Explanation != "Another process may still be writing; deleting its lock corrupts the index." ||
		h1.SourceType != "observation" || h1.Confidence == nil || *h1.Confidence != 0.93 ||
		h1.IsGolden == nil || !*h1.IsGolden || h1.Extra != `{"legacy_id":1}` ||
		!h1.Created.Equal(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("H-1 file: got %+v", h1)
	}
	h3 := impParseFile(t, root, "memory/heuristics/20261127_set-busy-timeout-and-wal-before-any-concurrent-write.md")
	if h3.Domain != "sqlite" || h3.Confidence == nil || *h3.Confidence != 0.7 || h3.IsGolden != nil || h3.Extra != `{"legacy_id":3}` {
		t.Errorf("H-3 file: got %+v", h3)
	}

	// The file-less learnings row became a file.
	row := impParseFile(t, root, "memory/failures/20261127_task-tool-failed-timeout.md")
	wantRow := frontmatter.Record{
		Type: "failure", Title: "Task tool failed: timeout", Summary: "Subagent timed out after 600s",
		Domain: "coordination", Tags: []string{"auto", "timeout"}, Severity: 3,
		Created: time.Date(2026, 11, 27, 16, 46, 6, 0, time.UTC),
		Extra:   `{"legacy_path":"auto-failures/failure_20251203_101500.md"}`,
	}
	if row.Type != wantRow.Type || row.Title != wantRow.Title || row.Summary != wantRow.Summary ||
		row.Domain != wantRow.Domain || row.TagString() != wantRow.TagString() || row.Severity != wantRow.Severity ||
		!row.Created.Equal(wantRow.Created) || row.Extra != wantRow.Extra {
		t.Errorf("row file:\n got %+v\nwant %+v", row, wantRow)
	}

	// The new index has the rows, with the old counters.
	heurs, learn := impReadIndex(t, root)
	if len(heurs) != 3 || len(learn) != 5 {
		t.Errorf("index: %d heuristics rows, %d learnings rows; want 3 and 5", len(heurs), len(learn))
	}
	r1 := heurs["memory/heuristics/20261127_never-delete-a-lock-file-you-did-not-create.md"]
	if r1.validated != 12 || r1.violated != 1 || r1.confidence != 0.93 || !r1.golden || r1.domain != "git" {
		t.Errorf("H-1 row: got %+v, want validated 12, violated 1, confidence 0.93, golden", r1)
	}
	r2 := heurs["memory/heuristics/20261127_batch-commits-instead-of-one-per-record.md"]
	if r2.validated != 3 || r2.violated != 0 || r2.confidence != 0.85 || r2.golden {
		t.Errorf("H-2 row: got %+v, want validated 3", r2)
	}
	impCheckSuccessTitle(t, old, learn)
	if got := learn["memory/failures/20261127_task-tool-failed-timeout.md"]; got != "Task tool failed: timeout" {
		t.Errorf("row file title: got %q", got)
	}

	for _, want := range []string{
		"created          memory/heuristics/20261127_never-delete-a-lock-file-you-did-not-create.md (from memory/heuristics/git.md H-1)",
		"copied           memory/successes/20261126_parallel-agents-shared-cache.md",
		"counters-set     memory/heuristics/20261127_never-delete-a-lock-file-you-did-not-create.md",
		"created 4, copied 4, rewritten 0, skipped-existing 0, conflict 0, skipped 0, counters-set 2, counters-kept 0, error 0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if after := importTree(t, old, false); !reflect.DeepEqual(after, before) {
		t.Errorf("import changed OLD_ROOT:\nbefore %v\nafter  %v", before, after)
	}

	// A second run recognises everything and changes nothing.
	out2, errOut2, code := runImport(t, "--root", root, "--from", old)
	if code != 0 {
		t.Fatalf("second import: exit %d\n%s\n%s", code, out2, errOut2)
	}
	if !strings.Contains(out2, "created 0, copied 0, rewritten 0, skipped-existing 8, conflict 0, skipped 0, counters-set 0, counters-kept 0, error 0") {
		t.Errorf("second run summary:\n%s", out2)
	}
	if got := importTree(t, root, true); !reflect.DeepEqual(got, files) {
		t.Errorf("second run changed files:\n got %v\nwant %v", got, files)
	}
	heurs2, learn2 := impReadIndex(t, root)
	if !reflect.DeepEqual(heurs2, heurs) || !reflect.DeepEqual(learn2, learn) {
		t.Errorf("second run changed rows:\n got %v %v\nwant %v %v", heurs2, learn2, heurs, learn)
	}
}

// TestImportKeepsNewCounters checks that a re-run does not put back the old
// figures once the new index counts on its own.
func TestImportKeepsNewCounters(t *testing.T) {
	old, root := importOld(t)
	if out, errOut, code := runImport(t, "--root", root, "--from", old); code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	const fp = "memory/heuristics/20261127_never-delete-a-lock-file-you-did-not-create.md"
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(filepath.Join(root, "memory", "index.db"))+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE heuristics SET times_validated = 13 WHERE filepath = ?`, fp); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out, errOut, code := runImport(t, "--root", root, "--from", old)
	if code != 0 {
		t.Fatalf("second import: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "counters-kept    "+fp) {
		t.Errorf("want a counters-kept line for %s:\n%s", fp, out)
	}
	heurs, _ := impReadIndex(t, root)
	if got := heurs[fp]; got.validated != 13 || got.violated != 1 {
		t.Errorf("counters: got %+v, want validated 13 violated 1", got)
	}
}

func TestImportDryRun(t *testing.T) {
	old, root := importOld(t)
	before := importTree(t, old, false)

	out, errOut, code := runImport(t, "--root", root, "--from", old, "--dry-run")
	if code != 0 {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("dry run created %s (stat: %v)", root, err)
	}
	for _, want := range []string{
		"dry run: nothing is written",
		"created          memory/heuristics/20261127_never-delete-a-lock-file-you-did-not-create.md",
		"counters-set     memory/heuristics/20261127_batch-commits-instead-of-one-per-record.md",
		"would import",
		"created 4, copied 4, rewritten 0, skipped-existing 0, conflict 0, skipped 0, counters-set 2, counters-kept 0, error 0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run stdout lacks %q:\n%s", want, out)
		}
	}

	// After a real run, a dry run finds nothing to do and touches nothing.
	if out, errOut, code := runImport(t, "--root", root, "--from", old); code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	mem := filepath.Join(root, "memory")
	was := importTree(t, mem, false)
	out, errOut, code = runImport(t, "--root", root, "--from", old, "--dry-run", "--rewrite")
	if code != 0 {
		t.Fatalf("dry run after import: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "created 0, copied 0, rewritten 0, skipped-existing 8") || !strings.Contains(out, "counters-set 0") {
		t.Errorf("dry run after import:\n%s", out)
	}
	if now := importTree(t, mem, false); !reflect.DeepEqual(now, was) {
		t.Errorf("dry run changed ROOT/memory:\nbefore %v\nafter  %v", impSortedPaths(was), impSortedPaths(now))
	}
	if after := importTree(t, old, false); !reflect.DeepEqual(after, before) {
		t.Error("dry run changed OLD_ROOT")
	}
}

func TestImportRewrite(t *testing.T) {
	old, root := importOld(t)
	out, errOut, code := runImport(t, "--root", root, "--from", old, "--rewrite", "--json")
	if code != 0 {
		t.Fatalf("import --rewrite: exit %d\n%s\n%s", code, out, errOut)
	}
	var rep legacy.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if rep.Summary["rewritten"] != 4 || rep.Summary["created"] != 4 || rep.Summary["error"] != 0 {
		t.Errorf("summary: got %v", rep.Summary)
	}
	if got := impSortedPaths(importTree(t, root, true)); !reflect.DeepEqual(got, impWantImported) {
		t.Fatalf("files:\n got %q\nwant %q", got, impWantImported)
	}
	for _, rel := range impCopiedFiles {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		orig, err := os.ReadFile(filepath.Join(old, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, []byte("---\n")) || !bytes.HasSuffix(data, orig) {
			t.Errorf("%s: want frontmatter followed by the original text, got:\n%s", rel, data)
		}
		memRel := strings.TrimPrefix(rel, "memory/")
		want, err := frontmatter.Parse(frontmatter.Input{Path: memRel, Data: orig})
		if err != nil {
			t.Fatal(err)
		}
		got, err := frontmatter.Parse(frontmatter.Input{Path: memRel, Data: data})
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		got.Body = strings.TrimPrefix(got.Body, "\n")
		if d := legacy.RecordDiff(want, got); d != "" {
			t.Errorf("%s: the rewrite changed %s:\n got %+v\nwant %+v", rel, d, got, want)
		}
	}
	_, learn := impReadIndex(t, root)
	impCheckSuccessTitle(t, old, learn)

	// Again, with and without --rewrite: nothing new, no conflict.
	files := importTree(t, root, true)
	for _, args := range [][]string{{"--rewrite"}, {}} {
		out, errOut, code := runImport(t, append([]string{"--root", root, "--from", old}, args...)...)
		if code != 0 || !strings.Contains(out, "skipped-existing 8, conflict 0") {
			t.Errorf("re-run %v: exit %d\n%s\n%s", args, code, out, errOut)
		}
	}
	if got := importTree(t, root, true); !reflect.DeepEqual(got, files) {
		t.Errorf("re-runs changed files")
	}
}

func TestImportConflict(t *testing.T) {
	old, root := importOld(t)
	const rel = "memory/failures/20261127_heredoc-consumed-before-retry.md"
	mine := []byte("---\ntitle: mine\n---\nsomething else\n")
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, mine, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runImport(t, "--root", root, "--from", old)
	if code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "conflict         "+rel) || !strings.Contains(out, "copied 3,") {
		t.Errorf("want a conflict for %s:\n%s", rel, out)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, mine) {
		t.Errorf("import overwrote %s", rel)
	}
}

// TestImportMatching builds an old install like the ones the stress test
// left: "H-0" sections (last_insert_rowid read as 0), a heuristics row no
// file holds, a learnings row whose file exists, and checks ids, counters
// and that a second run duplicates nothing.
func TestImportMatching(t *testing.T) {
	dir := t.TempDir()
	old, root := filepath.Join(dir, "old"), filepath.Join(dir, "new")
	mem := filepath.Join(old, "memory")
	for _, d := range []string{"heuristics", "failures"} {
		if err := os.MkdirAll(filepath.Join(mem, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	heur := "# Heuristics: build\r\n\r\n## H-0: Rule A\r\n\r\n**Confidence**: high\r\n**Source**: failure\r\n**Created**: 2025-12-01\r\n\r\nWhy A.\r\n\r\n**Note**: keep this.\r\n\r\n---\r\n\r\n" +
		"## H-0: Rule B\n\n**Created**: 2025-12-02\n\nWhy B.\n\n---\n\n## H-0: Rule D\n\n**Created**: 2025-12-02\n\n---\n"
	if err := os.WriteFile(filepath.Join(mem, "heuristics", "build-tools.md"), []byte(heur), 0o644); err != nil {
		t.Fatal(err)
	}
	fail := "# Kept\n\n**Domain**: x\n\n## Summary\n\nS.\n"
	if err := os.WriteFile(filepath.Join(mem, "failures", "20251201_kept.md"), []byte(fail), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(filepath.Join(mem, "index.db")))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE learnings (id INTEGER PRIMARY KEY, type TEXT, filepath TEXT, title TEXT, summary TEXT, tags TEXT, domain TEXT, severity INTEGER, created_at DATETIME)`,
		`INSERT INTO learnings VALUES (1, 'failure', 'memory/failures/20251201_kept.md', 'Kept', 'S.', '', 'x', 3, '2025-12-01 10:00:00')`,
		`INSERT INTO learnings VALUES (2, 'success', '/home/someone/.claude/emergent-learning/memory/successes/gone.md', 'Gone', '', 'a, b', '', 9, '2025-12-03 10:00:00')`,
		`INSERT INTO learnings VALUES (3, 'nonsense', 'x.md', 'Odd', '', '', '', 1, '')`,
		`CREATE TABLE heuristics (id INTEGER PRIMARY KEY, domain TEXT, rule TEXT, explanation TEXT, source_type TEXT, confidence REAL, times_validated INTEGER, times_violated INTEGER, is_golden BOOLEAN, created_at DATETIME)`,
		`INSERT INTO heuristics VALUES (5, 'build', 'rule a', 'Why A.', 'failure', 0.8, 7, 2, 0, '2025-12-01 09:00:00')`,
		`INSERT INTO heuristics VALUES (6, 'build', 'Rule C', 'Only in the database.', 'observation', NULL, 1, 0, 1, '2025-12-04 09:00:00')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	out, errOut, code := runImport(t, "--root", root, "--from", old)
	t.Logf("stdout:\n%s\nstderr:\n%s", out, errOut)
	// Row 3 has an unknown type: reported as an error, the rest imported.
	if code != 1 || !strings.Contains(out, `unknown type "nonsense"`) {
		t.Fatalf("import: exit %d, want 1 with an unknown-type error", code)
	}
	want := []string{
		"memory/failures/20251201_kept.md",
		"memory/heuristics/20251201_rule-a.md",
		"memory/heuristics/20251202_rule-b.md",
		"memory/heuristics/20251202_rule-d.md",
		"memory/heuristics/20251204_rule-c.md",
		"memory/successes/20251203_gone.md",
	}
	files := importTree(t, root, true)
	if got := impSortedPaths(files); !reflect.DeepEqual(got, want) {
		t.Fatalf("files:\n got %q\nwant %q", got, want)
	}
	a := impParseFile(t, root, "memory/heuristics/20251201_rule-a.md")
	if a.Extra != `{"legacy_id":5}` || a.Confidence == nil || *a.Confidence != 0.8 || a.SourceType != "failure" ||
		a.Domain != "build" || a.Explanation != "Why A.\n\n**Note**: keep this." {
		t.Errorf("rule A: got %+v", a)
	}
	if b := impParseFile(t, root, "memory/heuristics/20251202_rule-b.md"); b.Extra != `{"legacy_id":0}` || b.Confidence != nil {
		t.Errorf("rule B: got %+v", b)
	}
	c := impParseFile(t, root, "memory/heuristics/20251204_rule-c.md")
	if c.Extra != `{"legacy_id":6}` || c.IsGolden == nil || !*c.IsGolden || c.Explanation != "Only in the database." {
		t.Errorf("rule C: got %+v", c)
	}
	gone := impParseFile(t, root, "memory/successes/20251203_gone.md")
	if gone.TagString() != "a,b" || gone.Severity != 0 || gone.Title != "Gone" ||
		gone.Extra != `{"legacy_path":"/home/someone/.claude/emergent-learning/memory/successes/gone.md"}` {
		t.Errorf("gone: got %+v", gone)
	}
	heurs, _ := impReadIndex(t, root)
	if r := heurs["memory/heuristics/20251201_rule-a.md"]; r.validated != 7 || r.violated != 2 {
		t.Errorf("rule A row: got %+v", r)
	}
	if r := heurs["memory/heuristics/20251204_rule-c.md"]; r.validated != 1 || !r.golden {
		t.Errorf("rule C row: got %+v", r)
	}

	out, _, _ = runImport(t, "--root", root, "--from", old)
	if !strings.Contains(out, "created 0, copied 0, rewritten 0, skipped-existing 6") {
		t.Errorf("second run:\n%s", out)
	}
	if got := importTree(t, root, true); !reflect.DeepEqual(got, files) {
		t.Errorf("second run changed files: %q", impSortedPaths(got))
	}
}

// TestImportWithoutOldIndex imports a folder that has lost its index.db,
// with a non-record file and a symlink: the files come across all the same.
func TestImportWithoutOldIndex(t *testing.T) {
	old, root := importOld(t)
	mem := filepath.Join(old, "memory")
	if err := os.Remove(filepath.Join(mem, "index.db")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mem, "successes", "diagram.png"), []byte("\x89PNG\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(mem, "failures", "link.md")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	out, errOut, code := runImport(t, "--root", root, "--from", old)
	if code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "no old index") || !strings.Contains(out, "skipped          memory/failures/link.md") ||
		!strings.Contains(out, "created 3, copied 5,") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
	h1 := impParseFile(t, root, "memory/heuristics/20261127_never-delete-a-lock-file-you-did-not-create.md")
	if h1.Confidence == nil || *h1.Confidence != 0.85 || h1.IsGolden != nil || h1.Extra != `{"legacy_id":1}` {
		t.Errorf("H-1 without the old index: got %+v", h1)
	}
	heurs, learn := impReadIndex(t, root)
	if len(heurs) != 3 || len(learn) != 4 {
		t.Errorf("index: %d heuristics, %d learnings; want 3 and 4", len(heurs), len(learn))
	}
}

func TestImportUsage(t *testing.T) {
	old, root := importOld(t)
	tests := []struct {
		name string
		args []string
		code int
		want string // in stdout or stderr
	}{
		{"help", []string{"--help"}, 0, "--rewrite"},
		{"no from", []string{"--root", root}, 2, "--from OLD_ROOT is required"},
		{"argument", []string{"--root", root, old}, 2, "did you mean --from"},
		{"bad flag", []string{"--nope"}, 2, "flag provided but not defined"},
		{"same root", []string{"--root", old, "--from", old}, 2, "same or nested"},
		{"missing from", []string{"--root", root, "--from", filepath.Join(old, "nope")}, 1, "no such file"},
		{"not an install", []string{"--root", root, "--from", t.TempDir()}, 1, "no memory/ folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runImport(t, tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit %d (want %d), output lacks %q?\nstdout:\n%s\nstderr:\n%s", code, tt.code, tt.want, out, errOut)
			}
		})
	}
	// --from may name the old memory folder itself.
	out, errOut, code := runImport(t, "--root", root, "--from", filepath.Join(old, "memory"), "--dry-run")
	if code != 0 || !strings.Contains(out, "created 4, copied 4") {
		t.Errorf("--from memory/: exit %d\n%s\n%s", code, out, errOut)
	}
}

// impCheckSuccessTitle checks that the success file, which has no row in the
// old index, is indexed with the title the parser reads from its heading.
func impCheckSuccessTitle(t *testing.T, old string, learn map[string]string) {
	t.Helper()
	const rel = "memory/successes/20261126_parallel-agents-shared-cache.md"
	want := impParseFile(t, old, rel).Title
	if got := learn[rel]; got != want || !strings.Contains(got, "Parallel agents shared one build cache") {
		t.Errorf("success title: got %q, want %q", got, want)
	}
}

// import keeps the old index's ids: a heuristic's through legacy_id, a
// copied file's through its old row's filepath.
func TestImportKeepsLegacyIDs(t *testing.T) {
	old, root := importOld(t)
	if _, errOut, code := runImport(t, "--root", root, "--from", old); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	ids := map[string]map[string]int64{} // database → record → id
	for _, db := range []struct {
		name, path string
	}{{"old", filepath.Join(old, "memory", "index.db")}, {"new", filepath.Join(root, "memory", "index.db")}} {
		conn, err := sql.Open("sqlite", "file:"+db.path+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		rows, err := conn.Query(`SELECT id, 'h:' || rule FROM heuristics UNION ALL SELECT id, 'l:' || filepath FROM learnings WHERE filepath LIKE 'memory/%'`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			var what string
			rows.Scan(&id, &what)
			got[what] = id
		}
		rows.Close()
		conn.Close()
		ids[db.name] = got
	}
	if len(ids["old"]) == 0 {
		t.Fatal("no old rows read")
	}
	for what, id := range ids["old"] {
		if got := ids["new"][what]; got != id {
			t.Errorf("%s: id %d in the old index, %d in the new", what, id, got)
		}
	}
}
