package main

import (
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emergent-learning/elfsync/agent"
	"github.com/emergent-learning/elfsync/status"
)

func TestScanSampleThenStatus(t *testing.T) {
	env := gitEnv(t)
	root := t.TempDir()
	copyTree(t, "../../testdata/sample", root)
	r := elfsync(t, env, "scan", "--root", root, "--json")
	if r.code != 0 {
		t.Fatalf("scan exit %d: %s", r.code, r.stderr)
	}
	var sum agent.Summary
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
		t.Fatalf("scan --json: %v\n%s", err, r.stdout)
	}
	if sum.Added != 6 || len(sum.Invalid) != 0 || sum.Committed == nil || sum.Committed.Commit == "" {
		t.Errorf("scan summary = %+v, want 6 added, none invalid, a commit", sum)
	}
	// Another process, the sqlite3 command where it exists, reads the index.
	if _, err := exec.LookPath("sqlite3"); err == nil {
		out, err := exec.Command("sqlite3", filepath.Join(root, "memory", "index.db"),
			"SELECT title FROM learnings WHERE filepath = 'memory/failures/20261121_id-zero-rows.md'").Output()
		if err != nil || strings.TrimSpace(string(out)) != "Rows with id 0 after concurrent inserts" {
			t.Errorf("sqlite3 read %q, %v", out, err)
		}
	}
	st := elfsync(t, env, "status", "--root", root, "--json")
	var rep status.Report
	if err := json.Unmarshal([]byte(st.stdout), &rep); err != nil {
		t.Fatalf("status --json: %v\n%s", err, st.stdout)
	}
	if st.code != 0 || !rep.InSync || rep.Files != 6 || rep.Rows != 6 || rep.LastCommit == nil || rep.Watcher.Running {
		t.Errorf("status exit %d, report %+v; want in sync, 6/6, a commit, no watcher", st.code, rep)
	}
	if got := git(t, env, filepath.Join(root, "memory"), "status", "--porcelain"); got != "" {
		t.Errorf("git status after scan:\n%s", got)
	}

	// Drift: a new file, an edited one, a deleted one.
	writeFile(t, root, "failures/new.md", note("new"))
	os.Remove(filepath.Join(root, "memory", "decisions", "20261125_use-wal.md"))
	st = elfsync(t, env, "status", "--root", root, "--json")
	rep = status.Report{}
	decodeJSON(t, st.stdout, &rep)
	if st.code != 1 || rep.InSync || len(rep.MissingRows) != 1 || len(rep.OrphanRows) != 1 || len(rep.Uncommitted) != 2 {
		t.Errorf("status after drift: exit %d %+v", st.code, rep)
	}
	if r := elfsync(t, env, "scan", "--root", root); r.code != 0 || !strings.Contains(r.stdout, "added 1, updated 0, removed 1") {
		t.Errorf("second scan exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if st := elfsync(t, env, "status", "--root", root); st.code != 0 {
		t.Errorf("status after rescan: exit %d\n%s", st.code, st.stdout)
	}
}

func TestScanReportsInvalidFilesAndCommitsThem(t *testing.T) {
	env := gitEnv(t)
	root := t.TempDir()
	writeFile(t, root, "failures/good.md", note("good"))
	writeFile(t, root, "failures/bad.md", "---\ntitle: [unclosed\n---\n")
	r := elfsync(t, env, "scan", "--root", root)
	if r.code != 0 || !strings.Contains(r.stdout, "invalid: memory/failures/bad.md:") {
		t.Fatalf("scan exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := git(t, env, filepath.Join(root, "memory"), "ls-files", "failures"); got != "failures/bad.md\nfailures/good.md" {
		t.Errorf("committed files:\n%s", got)
	}
	st := elfsync(t, env, "status", "--root", root)
	if st.code != 0 || !strings.Contains(st.stdout, "memory/failures/bad.md") {
		t.Errorf("status exit %d (invalid files are not drift):\n%s", st.code, st.stdout)
	}
}

func TestHelpAndUsageErrors(t *testing.T) {
	env := gitEnv(t)
	for _, c := range []string{"watch", "scan", "status", "record", "import", "doctor"} {
		r := elfsync(t, env, c, "--help")
		if r.code != 0 || !strings.Contains(r.stdout, "Usage: elfsync "+c) {
			t.Errorf("%s --help: exit %d\n%s%s", c, r.code, r.stdout, r.stderr)
		}
	}
	if r := elfsync(t, env, "frobnicate"); r.code != 2 || !strings.Contains(r.stderr, "unknown command") {
		t.Errorf("unknown command: exit %d %s", r.code, r.stderr)
	}
	if r := elfsync(t, env, "scan", "--bogus"); r.code != 2 {
		t.Errorf("bad flag: exit %d", r.code)
	}
}

func TestWatchIndexesEverySavePattern(t *testing.T) {
	env := gitEnv(t)
	root := t.TempDir()
	writeFile(t, root, "failures/existing.md", note("existing v1"))
	w := startWatch(t, env, root)
	db := openDB(t, root)
	mem := filepath.Join(root, "memory")
	expect := func(fp, title string) {
		t.Helper()
		waitFor(t, 20*time.Second, fp+" = "+title, func() bool {
			got, ok := rowTitle(db, "memory/"+fp)
			return ok && got == title
		})
	}
	gone := func(fp string) {
		t.Helper()
		waitFor(t, 20*time.Second, fp+" removed", func() bool {
			_, ok := rowTitle(db, "memory/"+fp)
			return !ok
		})
	}
	expect("failures/existing.md", "existing v1")

	// A plain create.
	writeFile(t, root, "failures/plain.md", note("plain"))
	expect("failures/plain.md", "plain")

	// Temp file + rename, as VS Code, JetBrains and sed -i save.
	tmp := filepath.Join(mem, "failures", ".existing.md.tmp")
	os.WriteFile(tmp, []byte(note("existing v2")), 0o644)
	os.Rename(tmp, filepath.Join(mem, "failures", "existing.md"))
	expect("failures/existing.md", "existing v2")

	// vim with backup: rename to note.md~, write a new note.md, remove the backup.
	p := filepath.Join(mem, "failures", "plain.md")
	os.WriteFile(filepath.Join(mem, "failures", "4913"), nil, 0o644)
	os.Remove(filepath.Join(mem, "failures", "4913"))
	os.Rename(p, p+"~")
	os.WriteFile(p, []byte(note("plain v2")), 0o644)
	os.Remove(p + "~")
	expect("failures/plain.md", "plain v2")

	// In-place rewrite in chunks with pauses: the final state wins.
	f, _ := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
	content := note("plain v3 written in chunks")
	for i := 0; i < len(content); i += len(content)/3 + 1 {
		f.WriteString(content[i:min(i+len(content)/3+1, len(content))])
		f.Sync()
		time.Sleep(250 * time.Millisecond) // pacing the writer, like a slow editor
	}
	f.Close()
	expect("failures/plain.md", "plain v3 written in chunks")

	// Truncate, then write.
	os.Truncate(p, 0)
	os.WriteFile(p, []byte(note("plain v4")), 0o644)
	expect("failures/plain.md", "plain v4")

	// Rename of a file, and a delete.
	os.Rename(p, filepath.Join(mem, "failures", "renamed.md"))
	expect("failures/renamed.md", "plain v4")
	gone("failures/plain.md")
	os.Remove(filepath.Join(mem, "failures", "renamed.md"))
	gone("failures/renamed.md")

	// A new directory tree written at once, then renamed, then removed.
	for i := 0; i < 50; i++ {
		writeFile(t, root, filepath.ToSlash(filepath.Join("observations", "batch", "deep", "n"+string(rune('a'+i%26))+strings.Repeat("x", i/26)+".md")), note("batch"))
	}
	expect("observations/batch/deep/nz.md", "batch")
	os.Rename(filepath.Join(mem, "observations", "batch"), filepath.Join(mem, "observations", "moved"))
	expect("observations/moved/deep/nz.md", "batch")
	gone("observations/batch/deep/nz.md")
	os.RemoveAll(filepath.Join(mem, "observations", "moved"))
	gone("observations/moved/deep/na.md")

	if code := w.stop(); code != 0 {
		t.Errorf("watch exit %d after SIGTERM, want 0", code)
	}
	// Stopped cleanly: everything indexed and committed.
	if st := elfsync(t, env, "status", "--root", root); st.code != 0 {
		t.Errorf("status after stop: exit %d\n%s", st.code, st.stdout)
	}
}

func TestWatchSecondInstanceRefused(t *testing.T) {
	env := gitEnv(t)
	root := t.TempDir()
	w := startWatch(t, env, root, "--no-git")
	r := elfsync(t, env, "watch", "--root", root, "--no-git")
	want := "pid " + itoa(w.cmd.Process.Pid)
	if r.code == 0 || !strings.Contains(r.stderr, "another elfsync watch is running") || !strings.Contains(r.stderr, want) {
		t.Errorf("second watch: exit %d, stderr %q; want an error naming %s", r.code, r.stderr, want)
	}
	st := elfsync(t, env, "status", "--root", root, "--json", "--no-git")
	var rep status.Report
	decodeJSON(t, st.stdout, &rep)
	checkShape(t, "status.shape.json", st.stdout)
	if !rep.Watcher.Running || rep.Watcher.PID != w.cmd.Process.Pid || rep.Watcher.LastScan == nil {
		t.Errorf("status watcher = %+v, want running pid %d with a last scan", rep.Watcher, w.cmd.Process.Pid)
	}
	w.stop()
}

func TestWatchSurvivesSIGKILLMidBurst(t *testing.T) {
	env := gitEnv(t)
	root := t.TempDir()
	w := startWatch(t, env, root)
	const n = 600
	for i := 0; i < n; i++ {
		writeFile(t, root, "failures/k"+itoa(i)+".md", note("k"+itoa(i)))
		if i == n/2 {
			w.cmd.Process.Signal(syscall.SIGKILL)
		}
	}
	w.kill()
	w2 := startWatch(t, env, root)
	db := openDB(t, root)
	waitFor(t, 60*time.Second, "all rows", func() bool { return countRows(t, db) == n })
	if code := w2.stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
	if got := git(t, env, filepath.Join(root, "memory"), "status", "--porcelain"); got != "" {
		t.Errorf("uncommitted after restart and stop:\n%s", got)
	}
	if got := git(t, env, filepath.Join(root, "memory"), "ls-files", "failures"); strings.Count(got, "\n")+1 != n {
		t.Errorf("HEAD holds %d files, want %d", strings.Count(got, "\n")+1, n)
	}
}

// TestWatchFullScanRepairsWhatEventsMissed drifts the index behind the
// watcher's back (rows deleted by another process, which no file event
// reports), then triggers a full scan with SIGHUP: nothing stays lost.
func TestWatchFullScanRepairsWhatEventsMissed(t *testing.T) {
	env := gitEnv(t)
	root := t.TempDir()
	for i := 0; i < 20; i++ {
		writeFile(t, root, "failures/f"+itoa(i)+".md", note("f"+itoa(i)))
	}
	w := startWatch(t, env, root, "--no-git")
	db := openDB(t, root)
	waitFor(t, 30*time.Second, "20 rows", func() bool { return countRows(t, db) == 20 })
	rw, err := sql.Open("sqlite", "file:"+filepath.Join(root, "memory", "index.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	if _, err := rw.Exec(`DELETE FROM learnings WHERE filepath LIKE 'memory/failures/f1%'`); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db); n == 20 {
		t.Fatal("rows were not deleted")
	}
	w.cmd.Process.Signal(syscall.SIGHUP)
	w.waitLog("full scan", "SIGHUP")
	waitFor(t, 30*time.Second, "rows restored", func() bool { return countRows(t, db) == 20 })
	if code := w.stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
