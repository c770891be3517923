package watcher

import (
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// TestWatchLimit simulates inotify's ENOSPC for some directories: the
// watcher must report itself degraded, ask for rescans, and recover once
// watches can be added again.
func TestWatchLimit(t *testing.T) {
	var refuse atomic.Bool
	refuse.Store(true)
	var refused atomic.Int64
	h := startNoWait(t, Config{RetryEvery: 30 * time.Millisecond}, func(w *Watcher) {
		w.addWatch = func(fw *fsnotify.Watcher, name string) error {
			if refuse.Load() && strings.Contains(name, "limited") {
				refused.Add(1)
				return fmt.Errorf("add %s: %w", name, syscall.ENOSPC)
			}
			return fw.Add(name)
		}
	})
	h.mkdir("limited/sub")
	h.mkdir("free")
	<-h.w.Ready()

	// A directory appearing now is refused its watch.
	h.mkdir("x/limited")
	h.waitSeen("x/limited")
	if !h.w.Degraded() {
		t.Fatal("Degraded() = false after ENOSPC")
	}
	h.poll(func() bool {
		r := h.rescanReasons()
		return len(r) >= 2 && r[0] == "watch limit" && r[1] == "retry"
	}, func() string { return fmt.Sprintf("rescans %q, want watch limit then retries", h.rescanReasons()) })

	// Directories that could be watched still report.
	h.write("free/a.md", "x")
	h.waitSeen("free/a.md")

	refuse.Store(false)
	h.poll(func() bool { return !h.w.Degraded() }, func() string { return "never recovered" })
	n := len(h.rescanReasons())
	if n == 0 || h.rescanReasons()[n-1] != "retry" {
		t.Errorf("rescans %q, want a final retry", h.rescanReasons())
	}

	// Now the once-refused directories report their changes.
	t0 := time.Now()
	h.write("limited/sub/b.md", "x")
	h.write("x/limited/c.md", "x")
	h.waitSeenAfter(t0, "limited/sub/b.md", "x/limited/c.md")
	if refused.Load() == 0 {
		t.Error("the injected Add was never called")
	}
}

// TestInstanceLimit simulates EMFILE from creating the inotify watcher.
func TestInstanceLimit(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	h := startNoWait(t, Config{RetryEvery: 30 * time.Millisecond}, func(w *Watcher) {
		real := w.newNotify
		w.newNotify = func() (*fsnotify.Watcher, error) {
			if fail.Load() {
				return nil, fmt.Errorf("inotify_init1: %w", syscall.EMFILE)
			}
			return real()
		}
	})
	select {
	case <-h.w.Ready():
	case <-time.After(waitFor):
		t.Fatal("Ready not closed while degraded")
	}
	if !h.w.Degraded() {
		t.Fatal("Degraded() = false without a watcher")
	}
	h.poll(func() bool { return len(h.rescanReasons()) >= 2 },
		func() string { return fmt.Sprintf("rescans %q, want periodic ones", h.rescanReasons()) })

	fail.Store(false)
	h.poll(func() bool { return !h.w.Degraded() }, func() string { return "never recovered" })
	h.mkdir("d")
	h.sync()
	t0 := time.Now()
	h.write("d/a.md", "x")
	h.waitSeenAfter(t0, "d/a.md")
}
