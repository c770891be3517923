package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// binPath is the elfsync binary the end-to-end tests run, built once in
// TestMain without -race: the scenarios drive it the way a user would, and
// modernc's SQLite under the race detector is ~30x slower.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "elfsync-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "elfsync")
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build elfsync:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// gitEnv isolates git from the machine's configuration: no identity, so
// elfsync's fallback author is exercised, and no system hooks.
func gitEnv(t *testing.T) []string {
	home := t.TempDir()
	env := []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "GIT_CONFIG_NOSYSTEM=1"}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k == "HOME" || k == "XDG_CONFIG_HOME" || k == "ELF_HOME" || k == "ELF_BASE_PATH" || strings.HasPrefix(k, "GIT_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// result is a finished elfsync run.
type result struct {
	code           int
	stdout, stderr string
}

// elfsync runs the binary to completion (see runElfsync) and fails the
// test if it could not be started.
func elfsync(t *testing.T, env []string, args ...string) result {
	t.Helper()
	r := runElfsync(env, args...)
	if r.code == -1 {
		t.Fatalf("elfsync %v: %s", args, r.stderr)
	}
	return r
}

// watchProc is a running `elfsync watch`.
type watchProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	done chan struct{}
	err  error

	mu    sync.Mutex
	lines []map[string]any
	raw   bytes.Buffer
}

// startWatch starts `elfsync watch` with JSON logs and waits until its
// startup scan is done.
func startWatch(t *testing.T, env []string, root string, args ...string) *watchProc {
	t.Helper()
	args = append([]string{"watch", "--root", root, "--log-format", "json", "--log-level", "debug", "--quiet", "200ms"}, args...)
	cmd := exec.Command(binPath, args...)
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &watchProc{t: t, cmd: cmd, done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			w.mu.Lock()
			w.raw.Write(sc.Bytes())
			w.raw.WriteByte('\n')
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				w.lines = append(w.lines, m)
			}
			w.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, stderr)
		w.err = cmd.Wait()
		close(w.done)
	}()
	t.Cleanup(func() {
		select {
		case <-w.done:
		default:
			cmd.Process.Kill()
			<-w.done
		}
		if t.Failed() {
			t.Logf("watch log:\n%s", w.log())
		}
	})
	w.waitLog("full scan", "startup")
	return w
}

func (w *watchProc) log() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.raw.String()
}

// waitLog waits for a log line with message msg whose fields contain want
// among their values (any field), or fails.
func (w *watchProc) waitLog(msg, want string) {
	w.t.Helper()
	waitFor(w.t, 60*time.Second, "log "+msg+" "+want, func() bool {
		select {
		case <-w.done:
			w.t.Fatalf("watch exited early: %v\n%s", w.err, w.log())
		default:
		}
		return w.hasLog(msg, want)
	})
}

func (w *watchProc) hasLog(msg, want string) bool { return w.countLog(msg, want) > 0 }

// countLog counts the log lines with message msg whose fields contain
// want among their values (any line of msg when want is "").
func (w *watchProc) countLog(msg, want string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, l := range w.lines {
		if l["message"] != msg {
			continue
		}
		if want == "" {
			n++
			continue
		}
		for _, v := range l {
			if fmt.Sprint(v) == want {
				n++
				break
			}
		}
	}
	return n
}

// stop sends SIGTERM and waits for the exit code.
func (w *watchProc) stop() int {
	w.t.Helper()
	w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.done:
	case <-time.After(2 * time.Minute):
		w.t.Fatal("watch did not stop within 2 minutes of SIGTERM")
	}
	return w.cmd.ProcessState.ExitCode()
}

// kill sends SIGKILL and waits.
func (w *watchProc) kill() {
	w.cmd.Process.Kill()
	<-w.done
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll(timeout, time.Millisecond, 100*time.Millisecond, nil, cond) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// poll calls cond until it reports true, and then returns true; false
// once timeout has passed. It is the one place the end-to-end tests look
// at another process's state (files, rows, commits, status), which has
// no event to wait on. Between looks it waits first, doubling up to most,
// or until wake is closed (the watched process ended), so that cond
// sees it at once.
func poll(timeout, first, most time.Duration, wake <-chan struct{}, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	timer := time.NewTimer(first)
	defer timer.Stop()
	for delay := first; ; delay = min(delay*2, most) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		timer.Reset(delay)
		select {
		case <-timer.C:
		case <-wake:
			wake = nil // closed: it wakes once, cond sees the rest
		}
	}
}

// openDB opens root's index read-only, as another process would.
func openDB(t *testing.T, root string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(root, "memory", "index.db")+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rowTitle returns the title (learnings) or rule (heuristics) of a row.
func rowTitle(db *sql.DB, fp string) (string, bool) {
	var s string
	err := db.QueryRow(`SELECT title FROM learnings WHERE filepath = ?1 UNION ALL SELECT rule FROM heuristics WHERE filepath = ?1`, fp).Scan(&s)
	return s, err == nil
}

func countRows(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM learnings) + (SELECT count(*) FROM heuristics)`).Scan(&n); err != nil {
		return -1
	}
	return n
}

// git runs git in dir and returns its trimmed output.
func git(t *testing.T, env []string, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// copyTree copies a fixture folder.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// writeFile writes a file under root/memory, creating directories.
func writeFile(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, "memory", filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func note(title string) string {
	return fmt.Sprintf("---\ntitle: %q\ndomain: test\n---\n\nBody of %s.\n", title, title)
}
