package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestWatchStopsWhenMemoryMovedAway: the memory folder moved away while
// watch runs ends the process, non-zero, within 2 s, with one message.
func TestWatchStopsWhenMemoryMovedAway(t *testing.T) {
	env := gitEnv(t)
	root := t.TempDir()
	writeFile(t, root, "failures/a.md", note("a"))
	w := startWatch(t, env, root)
	moved := time.Now()
	if err := os.Rename(filepath.Join(root, "memory"), filepath.Join(root, "moved")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.done:
	case <-time.After(2 * time.Second):
		t.Fatal("watch still running 2 s after memory/ was moved away")
	}
	took := time.Since(moved)
	if code := w.cmd.ProcessState.ExitCode(); code == 0 {
		t.Errorf("exit code 0 after memory/ was moved away, want non-zero")
	}
	log := w.log()
	want := "elfsync: watch " + filepath.Join(root, "memory") + ": memory folder removed or renamed"
	lines := strings.Split(strings.TrimSpace(log), "\n")
	if last := lines[len(lines)-1]; last != want {
		t.Errorf("last line %q, want %q", last, want)
	}
	if n := strings.Count(log, "memory folder removed or renamed"); n != 1 {
		t.Errorf("the reason appears %d times, want once:\n%s", n, log)
	}
	t.Logf("exited %v after the move", took.Round(time.Millisecond))
}

// TestWatchSignalRightAfterWrite: SIGINT or SIGTERM sent at once after a
// write still indexes and commits the note before exit (PITFALLS.md, "a
// signal right after a write").
func TestWatchSignalRightAfterWrite(t *testing.T) {
	env := gitEnv(t)
	root := t.TempDir()
	const tries = 20 // about 3 s in all
	for i := range tries {
		w := startWatch(t, env, root)
		rel := fmt.Sprintf("failures/late-%02d.md", i)
		p := filepath.Join(root, "memory", filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		sig := syscall.SIGINT
		if i%2 == 1 {
			sig = syscall.SIGTERM
		}
		if err := os.WriteFile(p, []byte(note(fmt.Sprintf("late %d", i))), 0o644); err != nil {
			t.Fatal(err)
		}
		w.cmd.Process.Signal(sig)
		select {
		case <-w.done:
		case <-time.After(time.Minute):
			t.Fatalf("try %d: watch did not stop", i)
		}
		if code := w.cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("try %d: exit %d after %v\n%s", i, code, sig, w.log())
		}
		db := openDB(t, root)
		if title, ok := rowTitle(db, "memory/"+rel); !ok || title != fmt.Sprintf("late %d", i) {
			t.Errorf("try %d (%v): row %q, %v; want the note indexed", i, sig, title, ok)
		}
		db.Close()
		mem := filepath.Join(root, "memory")
		if got := git(t, env, mem, "ls-tree", "--name-only", "HEAD", "--", rel); got != rel {
			t.Errorf("try %d (%v): HEAD lacks %s", i, sig, rel)
		}
		if got := git(t, env, mem, "status", "--porcelain"); got != "" {
			t.Errorf("try %d (%v): uncommitted after a clean stop:\n%s", i, sig, got)
		}
	}
}

// TestReloadAndStop: reload and stop reach the root's own watcher by the
// pid its lock records.
func TestReloadAndStop(t *testing.T) {
	env := gitEnv(t)
	root := t.TempDir()
	w := startWatch(t, env, root)
	r := elfsync(t, env, "reload", "--root", root)
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprint(w.cmd.Process.Pid)) {
		t.Fatalf("reload: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	w.waitLog("full scan", "SIGHUP")
	r = elfsync(t, env, "stop", "--root", root)
	if r.code != 0 || !strings.Contains(r.stdout, "stopped the watcher") {
		t.Fatalf("stop: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	select {
	case <-w.done:
	case <-time.After(time.Minute):
		t.Fatal("watch still running after stop returned")
	}
	if code := w.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("watch exit %d after stop, want 0", code)
	}
	if r := elfsync(t, env, "reload", "--root", root); r.code != 1 || r.stderr != "elfsync: reload: no elfsync watch is running for "+root+"\n" {
		t.Errorf("reload with no watcher: exit %d %q", r.code, r.stderr)
	}
}
