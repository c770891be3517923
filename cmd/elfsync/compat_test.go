package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The framework's tools write the shared database directly. These tests
// replay, from other processes with the system's Python (its sqlite3
// module links the system SQLite, 3.40 on Debian 12), the statements its
// MCP server, learning-loop hooks and dashboard issue against learnings
// and heuristics (written from reading its sources), with `elfsync watch`
// running, and check the file, the row, the commit and a rebuild.

// pySQL runs statements in one Python sqlite3 connection, the way the
// framework's tools do (timeout 5 s, commit at the end), and prints each
// statement's lastrowid as JSON.
const pySQL = `
import json, sqlite3, sys
db, stmts = sys.argv[1], json.loads(sys.argv[2])
c = sqlite3.connect(db, timeout=5.0)
ids = []
for s in stmts:
    cur = c.execute(s[0], s[1:])
    ids.append(cur.lastrowid)
    if len(sys.argv) > 3:
        c.commit()  # one transaction per statement, as each hook run is
c.commit()
c.close()
print(json.dumps(ids))
`

// stmt is one SQL statement and its parameters.
type stmt []any

func python(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	return py
}

// runPy runs statements in a Python process and returns their row ids.
func runPy(t *testing.T, py, root string, stmts ...stmt) []int64 {
	t.Helper()
	return runPyArgs(t, py, root, nil, stmts)
}

func runPyArgs(t *testing.T, py, root string, extra []string, stmts []stmt) []int64 {
	t.Helper()
	ids, err := pyExec(py, root, extra, stmts)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// pyExec is runPyArgs for goroutines: it reports instead of failing.
func pyExec(py, root string, extra []string, stmts []stmt) ([]int64, error) {
	arg, err := json.Marshal(stmts)
	if err != nil {
		return nil, err
	}
	args := append([]string{"-c", pySQL, filepath.Join(root, "memory", "index.db"), string(arg)}, extra...)
	out, err := exec.Command(py, args...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("python: %v\n%s", err, out)
	}
	var ids []int64
	if err := json.Unmarshal(out, &ids); err != nil {
		return nil, fmt.Errorf("python output %q: %v", out, err)
	}
	return ids, nil
}

func fileHas(root, rel string, want ...string) bool {
	data, err := os.ReadFile(filepath.Join(root, "memory", filepath.FromSlash(rel)))
	if err != nil {
		return false
	}
	for _, w := range want {
		if !strings.Contains(string(data), w) {
			return false
		}
	}
	return true
}

func one(t *testing.T, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		return -1
	}
	return n
}

func committed(t *testing.T, env []string, root, rel, want string) bool {
	t.Helper()
	cmd := exec.Command("git", "-C", filepath.Join(root, "memory"), "show", "HEAD:"+rel)
	cmd.Env = env
	out, err := cmd.Output()
	if want == "" {
		return err != nil // gone from HEAD
	}
	return err == nil && strings.Contains(string(out), want)
}

func TestFrameworkCompatibility(t *testing.T) {
	py := python(t)
	env := gitEnv(t)
	root := t.TempDir()
	writeFile(t, root, "heuristics/git.md", "# Heuristics: git\n\nGenerated from failures, successes, and observations in the **git** domain.\n\n---\n\n")
	writeFile(t, root, "golden-rules.md", "# Golden Rules\n\n1. Query before acting.\n")
	w := startWatch(t, env, root)
	db := openDB(t, root)
	now := time.Now().UTC().Format("2006-01-02 15:04:05")
	within := func(what string, cond func() bool) {
		t.Helper()
		start := time.Now()
		waitFor(t, 10*time.Second, what, cond)
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s took %v, over a second", what, d)
		}
	}

	// MCP elf_record_heuristic: INSERT (no filepath), then append the
	// "## H-<id>" section to the domain file.
	hid := runPy(t, py, root, stmt{`INSERT INTO heuristics (domain, rule, explanation, source_type, confidence, times_validated, times_violated, is_golden, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, "git", "Rebase before you push", "Keeps history linear.", "observation", 0.7, 0, 0, 0, now, now})[0]
	f, err := os.OpenFile(filepath.Join(root, "memory", "heuristics", "git.md"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("## H-" + itoa(int(hid)) + ": Rebase before you push\n\n**Confidence**: 0.7\n**Source**: observation\n**Created**: 2026-11-29\n\nKeeps history linear.\n\n---\n\n")
	f.Close()
	within("the section claims the MCP's row", func() bool {
		return one(t, db, `SELECT count(*) FROM heuristics WHERE id = ? AND elf_key IS NOT NULL`, hid) == 1
	})

	// MCP elf_record_failure: write the bold-field file, then INSERT.
	writeFile(t, root, "failures/20261129_push-rejected.md", "# Push rejected\n\n**Domain**: git\n**Severity**: 3\n**Tags**: git\n**Date**: 2026-11-29\n\n## Summary\n\nThe remote moved.\n")
	fid := runPy(t, py, root, stmt{`INSERT INTO learnings (type, filepath, title, summary, tags, domain, severity, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, "failure", "memory/failures/20261129_push-rejected.md", "Push rejected", "The remote moved.", "git", "git", 3, now, now})[0]
	within("one row for the failure, the framework's id", func() bool {
		return one(t, db, `SELECT count(*) FROM learnings WHERE filepath = 'memory/failures/20261129_push-rejected.md'`) == 1 &&
			one(t, db, `SELECT count(*) FROM learnings WHERE id = ? AND elf_key IS NOT NULL`, fid) == 1
	})

	// Learning-loop hook: validate consulted heuristics, then promote.
	runPy(t, py, root, stmt{`UPDATE heuristics SET times_validated = times_validated + 1, confidence = MIN(1.0, confidence + 0.01), updated_at = ?
		WHERE id IN (?)`, now, hid},
		stmt{`INSERT INTO metrics (metric_type, metric_name, metric_value, tags, context) VALUES ('heuristic_validated', 'validation', 1, ?, ?)`, "heuristic_id:" + itoa(int(hid)), "success"})
	within("the validation reaches the domain file", func() bool {
		return fileHas(root, "heuristics/git.md", "**Validated**: 1", "**Confidence**: 0.71")
	})
	runPy(t, py, root, stmt{`UPDATE heuristics SET is_golden = 1, updated_at = ? WHERE id = ?`, now, hid})
	within("the promotion reaches the file", func() bool { return fileHas(root, "heuristics/git.md", "**Golden**: true") })

	// Hook: an auto-captured failure outside memory/ (the framework's own)
	// and an auto-extracted heuristic without a file (gets one).
	ids := runPy(t, py, root,
		stmt{`INSERT INTO learnings (type, filepath, title, summary, domain, severity, created_at) VALUES ('failure', ?, ?, ?, ?, 3, ?)`,
			"auto-failures/failure_20261129_120000.md", "Auto-captured: build", "Reason: Error detected", "general", now},
		stmt{`INSERT INTO heuristics (domain, rule, explanation, confidence, source_type, created_at) VALUES (?, ?, 'Auto-extracted from task output', 0.5, 'auto', ?)`,
			"general", "Always run the tests before pushing", now})
	auto := ids[1]
	waitFor(t, 10*time.Second, "a file for the heuristic inserted without one", func() bool {
		return one(t, db, `SELECT count(*) FROM heuristics WHERE id = ? AND elf_key IS NOT NULL`, auto) == 1
	})

	// Dashboard: edit a rule, delete a heuristic.
	runPy(t, py, root, stmt{`UPDATE heuristics SET rule = ?, updated_at = CURRENT_TIMESTAMP WHERE id = ?`, "Rebase, then push", hid})
	within("the dashboard's rule edit reaches the file", func() bool {
		return fileHas(root, "heuristics/git.md", "## H-"+itoa(int(hid))+": Rebase, then push")
	})
	var autoPath string
	db.QueryRow(`SELECT substr(filepath, 8) FROM heuristics WHERE id = ?`, auto).Scan(&autoPath)
	runPy(t, py, root, stmt{`DELETE FROM heuristics WHERE id = ?`, auto})
	within("the dashboard's delete removes the file", func() bool {
		_, err := os.Stat(filepath.Join(root, "memory", filepath.FromSlash(autoPath)))
		return autoPath != "" && os.IsNotExist(err)
	})

	// Hostile writes: text that would break a file, paths out of memory/.
	// Refused or written safely; nothing else is held up.
	writeFile(t, root, "failures/target.md", note("Target"))
	writeFile(t, root, "failures/tricky.md", note("Tricky"))
	var tid, kid int64
	waitFor(t, 10*time.Second, "target.md and tricky.md indexed", func() bool {
		tid = one(t, db, `SELECT id FROM learnings WHERE filepath = 'memory/failures/target.md'`)
		kid = one(t, db, `SELECT id FROM learnings WHERE filepath = 'memory/failures/tricky.md'`)
		return tid > 0 && kid > 0
	})
	runPy(t, py, root,
		stmt{`UPDATE learnings SET title = ? WHERE id = ?`, "Target\n---\ntype: heuristic", tid},
		stmt{`UPDATE learnings SET summary = ? WHERE id = ?`, "&anchor *alias {a: b} --- # not a comment", kid},
		stmt{`INSERT INTO learnings (type, filepath, title) VALUES ('failure', ?, 'escape')`, "memory/../../escape.md"},
		stmt{`INSERT INTO learnings (type, filepath, title) VALUES ('failure', ?, 'index')`, "memory/index.db"})
	within("a safe edit among hostile ones reaches the file", func() bool {
		return fileHas(root, "failures/tricky.md", "&anchor *alias {a: b} --- # not a comment")
	})
	if !fileHas(root, "failures/target.md", `title: "Target"`) || fileHas(root, "failures/target.md", "type: heuristic") {
		t.Error("a title with a newline and --- was written into the file")
	}
	if _, err := os.Stat(filepath.Join(root, "escape.md")); err == nil {
		t.Error("a row wrote a file outside memory/")
	}
	waitFor(t, 10*time.Second, "status flags the refused rows", func() bool {
		rep, _, _ := statusJSON(t, env, root)
		if len(rep.Refused) != 3 || len(rep.StaleRows) != 0 {
			return false
		}
		for _, r := range rep.Refused {
			if r.Table != "learnings" || r.Reason == "" {
				t.Errorf("refused row without its table or reason: %+v", r)
			}
		}
		return true
	})
	// Repaired in the database: no longer refused.
	runPy(t, py, root, stmt{`UPDATE learnings SET title = 'Target' WHERE id = ?`, tid},
		stmt{`DELETE FROM learnings WHERE title IN ('escape', 'index')`})

	// 100 counter increments from 10 concurrent processes, each its own
	// transaction.
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ten []stmt
			for range 10 {
				ten = append(ten, stmt{`UPDATE heuristics SET times_validated = times_validated + 1 WHERE id = ?`, hid})
			}
			if _, err := pyExec(py, root, []string{"each"}, ten); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	waitFor(t, 10*time.Second, "+100 in the row and the file", func() bool {
		return one(t, db, `SELECT times_validated FROM heuristics WHERE id = ?`, hid) == 101 &&
			fileHas(root, "heuristics/git.md", "**Validated**: 101")
	})

	// Committed, and status in sync (golden-rules.md not invalid).
	waitFor(t, 20*time.Second, "the commits", func() bool {
		return committed(t, env, root, "heuristics/git.md", "**Validated**: 101") &&
			committed(t, env, root, autoPath, "") && committed(t, env, root, "golden-rules.md", "Golden")
	})
	// The domain file's commits say which heuristic changed, not the
	// file's first rule whatever changed.
	logCmd := exec.Command("git", "-C", filepath.Join(root, "memory"), "log", "--format=%b", "--", "heuristics/git.md")
	logCmd.Env = env
	if out, err := logCmd.Output(); err != nil || !strings.Contains(string(out), "heuristics/git.md — H-"+itoa(int(hid))+" validated") {
		t.Errorf("no commit of git.md names H-%d validated: %v\n%s", hid, err, out)
	}
	rep, out, ok := statusJSON(t, env, root)
	if !ok || !rep.InSync || len(rep.Invalid) != 0 || rep.ForeignRows != 1 {
		t.Errorf("status (want in sync, 1 foreign row: the auto-captured failure): %+v\n%s", rep, out.stdout)
	}
	if code := w.stop(); code != 0 {
		t.Errorf("watch exit %d", code)
	}

	// Rebuilt from the files: the framework's id, counters, golden flag.
	os.Remove(filepath.Join(root, "memory", "index.db"))
	os.Remove(filepath.Join(root, "memory", "index.db-wal"))
	os.Remove(filepath.Join(root, "memory", "index.db-shm"))
	if r := elfsync(t, env, "scan", "--root", root); r.code != 0 {
		t.Fatalf("scan: %s", r.stderr)
	}
	db2, err := sql.Open("sqlite", "file:"+filepath.Join(root, "memory", "index.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if n := one(t, db2, `SELECT count(*) FROM heuristics WHERE id = ? AND times_validated = 101 AND is_golden = 1 AND rule = 'Rebase, then push'`, hid); n != 1 {
		t.Errorf("rebuilt: heuristic %d lost its values", hid)
	}
	// The failure the MCP server wrote and INSERTed keeps the framework's
	// id (written into its file as a bold "**ID**:" line).
	if n := one(t, db2, `SELECT count(*) FROM learnings WHERE id = ? AND filepath = 'memory/failures/20261129_push-rejected.md'`, fid); n != 1 {
		t.Errorf("rebuilt: failure %d lost the framework's id", fid)
	}
	if fileHas(root, "failures/20261129_push-rejected.md", "---") {
		t.Error("the framework's bold-field failure got frontmatter")
	}
}

// TestStressFrameworkWriter runs record-failure.sh writers and, at the
// same time, a framework-style writer in other processes: the learning-loop
// hook's statements (counter bumps of a heuristic, metrics rows, an
// auto-captured failure outside memory/). The invariants hold, the
// framework's rows are all there, and the counter is exact in the row and
// the file.
func TestStressFrameworkWriter(t *testing.T) {
	py := python(t)
	env := gitEnv(t)
	root := t.TempDir()
	writeFile(t, root, "heuristics/bump.md", "---\ndomain: stress\nrule: Bump me\nconfidence: 0.5\n---\n")
	w := startWatch(t, env, root)
	db := openDB(t, root)
	var hid int64
	waitFor(t, 10*time.Second, "bump.md indexed", func() bool {
		hid = one(t, db, `SELECT id FROM heuristics WHERE filepath = 'memory/heuristics/bump.md'`)
		return hid > 0
	})
	const writers, hooks, bumps = 20, 5, 10
	specs := make([]writerSpec, writers)
	for i := range specs {
		specs[i] = failureSpec(t, root, "stress framework", i)
	}
	var wg sync.WaitGroup
	for i := range hooks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var st []stmt
			for j := range bumps {
				st = append(st,
					stmt{`UPDATE heuristics SET times_validated = times_validated + 1, confidence = MIN(1.0, confidence + 0.01), updated_at = ? WHERE id IN (?)`, "2026-11-29T12:00:00", hid},
					stmt{`INSERT INTO metrics (metric_type, metric_name, metric_value, tags, context) VALUES ('heuristic_validated', 'validation', 1, ?, 'success')`, fmt.Sprintf("heuristic_id:%d", hid)})
				if j == 0 {
					st = append(st, stmt{`INSERT INTO learnings (type, filepath, title, summary, domain, severity, created_at) VALUES ('failure', ?, ?, 'r', 'general', 3, ?)`,
						fmt.Sprintf("auto-failures/failure_hook%d.md", i), fmt.Sprintf("Auto-captured: hook %d", i), "2026-11-29T12:00:00"})
				}
			}
			if _, err := pyExec(py, root, []string{"each"}, st); err != nil {
				t.Error(err)
			}
		}()
	}
	res := runWriters(t, env, concurrent(specs))
	wg.Wait()
	written := checkWriters(t, root, "failures", res)
	waitFor(t, 30*time.Second, "the counter in the file", func() bool {
		return fileHas(root, "heuristics/bump.md", fmt.Sprintf("times_validated: %d\n", hooks*bumps))
	})
	waitConverged(t, env, root, w, 60*time.Second)
	ids := newIDHistory()
	ids.frameworkWriter = true
	c := assertInvariants(t, env, root, ids)
	if written != writers || c.Rows != writers+1 {
		t.Errorf("%d writers wrote, %d rows; want %d and %d", written, c.Rows, writers, writers+1)
	}
	if n := one(t, db, `SELECT times_validated FROM heuristics WHERE id = ?`, hid); n != hooks*bumps {
		t.Errorf("row: times_validated %d, want %d", n, hooks*bumps)
	}
	if n := one(t, db, `SELECT count(*) FROM metrics WHERE metric_type = 'heuristic_validated'`); n != hooks*bumps {
		t.Errorf("metrics: %d rows, want %d (the framework's table must be untouched)", n, hooks*bumps)
	}
	if n := one(t, db, `SELECT count(*) FROM learnings WHERE filepath LIKE 'auto-failures/%' AND elf_key IS NULL`); n != hooks {
		t.Errorf("%d auto-captured rows kept as the framework's, want %d", n, hooks)
	}
	if code := w.stop(); code != 0 {
		t.Errorf("watch exit %d after SIGTERM", code)
	}
}

// The framework's own root variable, ELF_BASE_PATH, is honoured after
// ELF_HOME.
func TestFrameworkRootVariable(t *testing.T) {
	env := gitEnv(t)
	root := t.TempDir()
	writeFile(t, root, "failures/a.md", note("A"))
	r := elfsync(t, append(env, "ELF_BASE_PATH="+root), "scan", "--no-git")
	if r.code != 0 {
		t.Fatalf("scan with ELF_BASE_PATH: exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(root, "memory", "index.db")); err != nil {
		t.Errorf("ELF_BASE_PATH was not used as the root: %v", err)
	}
	other := t.TempDir()
	os.MkdirAll(filepath.Join(other, "memory"), 0o755)
	r = elfsync(t, append(env, "ELF_BASE_PATH="+root, "ELF_HOME="+other), "scan", "--no-git")
	if r.code != 0 {
		t.Fatalf("scan: exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(other, "memory", "index.db")); err != nil {
		t.Errorf("ELF_HOME did not win over ELF_BASE_PATH: %v", err)
	}
}
