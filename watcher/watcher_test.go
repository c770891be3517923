package watcher

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emergent-learning/elfsync/layout"
	"github.com/fsnotify/fsnotify"
	"github.com/rs/zerolog"
)

// waitFor bounds every poll. It is generous because the race detector and
// two shared cores slow everything down; a passing test never waits it out.
const waitFor = 15 * time.Second

// harness runs a Watcher on a temp folder and records every batch it sends.
type harness struct {
	t      *testing.T
	dir    string
	w      *Watcher
	cancel context.CancelFunc
	done   chan error // Run's result

	mu       sync.Mutex
	first    map[string]time.Time // when each path first arrived
	last     map[string]time.Time // when each path last arrived
	rescans  []string             // reasons of Rescan batches, in order
	maxBatch int                  // most paths seen in one batch
	syncN    int
}

// start runs a Watcher with cfg (Dir defaults to a temp folder) after setup
// has adjusted its test seams, and waits for Ready.
func start(t *testing.T, cfg Config, setup func(*Watcher)) *harness {
	t.Helper()
	h := startNoWait(t, cfg, setup)
	select {
	case <-h.w.Ready():
	case err := <-h.done:
		t.Fatalf("Run returned before Ready: %v", err)
	case <-time.After(waitFor):
		t.Fatal("watcher never became ready")
	}
	return h
}

func startNoWait(t *testing.T, cfg Config, setup func(*Watcher)) *harness {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	cfg.Logger = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	h := &harness{
		t:     t,
		dir:   cfg.Dir,
		w:     New(cfg),
		done:  make(chan error, 1),
		first: make(map[string]time.Time),
		last:  make(map[string]time.Time),
	}
	if setup != nil {
		setup(h.w)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	out := make(chan Batch)
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for {
			select {
			case b := <-out:
				h.record(b)
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { h.done <- h.w.Run(ctx, out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-h.done:
			if err != nil && !errors.Is(err, ErrRootGone) {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(waitFor):
			t.Error("Run did not return after cancel")
		}
		<-collected
	})
	return h
}

func (h *harness) record(b Batch) {
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if b.Rescan {
		h.rescans = append(h.rescans, b.Reason)
	}
	h.maxBatch = max(h.maxBatch, len(b.Paths))
	for _, p := range b.Paths {
		if _, ok := h.first[p]; !ok {
			h.first[p] = now
		}
		h.last[p] = now
	}
}

func (h *harness) path(rel string) string {
	return filepath.Join(h.dir, filepath.FromSlash(rel))
}

func (h *harness) write(rel, content string) {
	h.t.Helper()
	if err := os.WriteFile(h.path(rel), []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) mkdir(rel string) {
	h.t.Helper()
	if err := os.MkdirAll(h.path(rel), 0o755); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) rename(from, to string) {
	h.t.Helper()
	if err := os.Rename(h.path(from), h.path(to)); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) remove(rel string) {
	h.t.Helper()
	if err := os.RemoveAll(h.path(rel)); err != nil {
		h.t.Fatal(err)
	}
}

// poll waits until cond holds, failing the test with what() after waitFor.
func (h *harness) poll(cond func() bool, what func() string) {
	h.t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out: %s", what())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitSeenAfter waits until each path arrived in a batch received after t0.
func (h *harness) waitSeenAfter(t0 time.Time, paths ...string) {
	h.t.Helper()
	var missing []string
	h.poll(func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		missing = missing[:0]
		for _, p := range paths {
			if at, ok := h.last[p]; !ok || !at.After(t0) {
				missing = append(missing, p)
			}
		}
		return len(missing) == 0
	}, func() string {
		if len(missing) > 5 {
			return fmt.Sprintf("%d paths not reported, e.g. %q", len(missing), missing[:5])
		}
		return fmt.Sprintf("paths not reported: %q", missing)
	})
}

func (h *harness) waitSeen(paths ...string) {
	h.t.Helper()
	h.waitSeenAfter(time.Time{}, paths...)
}

// sync writes a fresh sentinel file and waits for it. Events are handled in
// order and every earlier path's settle deadline is no later than the
// sentinel's, so afterwards everything written before has been reported.
func (h *harness) sync() {
	h.t.Helper()
	h.syncN++
	name := fmt.Sprintf("sync-%d.txt", h.syncN)
	h.write(name, "sync")
	h.waitSeen(name)
}

func (h *harness) seen(rel string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.last[rel]
	return ok
}

func (h *harness) rescanReasons() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slicesClone(h.rescans)
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// assertNoNoise fails if any reported path is one layout.Ignored drops.
func (h *harness) assertNoNoise() {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for p := range h.last {
		if layout.Ignored(p) {
			h.t.Errorf("noise path reported: %q", p)
		}
	}
}

func TestSavePatterns(t *testing.T) {
	tests := []struct {
		name string
		// prepare runs before the watcher starts.
		prepare func(h *harness)
		// save performs the writes; it returns the paths that must be
		// reported after it finished.
		save func(h *harness) []string
	}{
		{
			name: "create file",
			save: func(h *harness) []string {
				h.write("a.md", "# A\n")
				return []string{"a.md"}
			},
		},
		{
			name: "non-md file is handed on",
			save: func(h *harness) []string {
				h.write("image.png", "png")
				return []string{"image.png"}
			},
		},
		{
			name: "temp and rename",
			save: func(h *harness) []string {
				h.write(".a.tmp", "# A\n")
				h.rename(".a.tmp", "a.md")
				return []string{"a.md"}
			},
		},
		{
			name:    "temp and rename over an existing file",
			prepare: func(h *harness) { h.write("a.md", "old") },
			save: func(h *harness) []string {
				h.write("a.md.tmp", "new")
				h.rename("a.md.tmp", "a.md")
				return []string{"a.md"}
			},
		},
		{
			name:    "vim save",
			prepare: func(h *harness) { h.write("note.md", "old\n") },
			save: func(h *harness) []string {
				h.write(".note.md.swp", "swap")
				h.write("4913", "")
				h.remove("4913")
				h.rename("note.md", "note.md~")
				h.write("note.md", "new\n")
				h.remove("note.md~")
				h.remove(".note.md.swp")
				return []string{"note.md"}
			},
		},
		{
			name:    "chunked writes with pauses",
			prepare: func(h *harness) { h.write("c.md", "") },
			save: func(h *harness) []string {
				f, err := os.OpenFile(h.path("c.md"), os.O_WRONLY|os.O_TRUNC, 0)
				if err != nil {
					h.t.Fatal(err)
				}
				defer f.Close()
				for i := range 4 {
					if i > 0 {
						time.Sleep(250 * time.Millisecond) // writer pacing
					}
					if _, err := fmt.Fprintf(f, "chunk %d\n", i); err != nil {
						h.t.Fatal(err)
					}
				}
				return []string{"c.md"}
			},
		},
		{
			name:    "truncate then write",
			prepare: func(h *harness) { h.write("t.md", "a long old body\n") },
			save: func(h *harness) []string {
				if err := os.Truncate(h.path("t.md"), 0); err != nil {
					h.t.Fatal(err)
				}
				time.Sleep(50 * time.Millisecond) // writer pacing
				f, err := os.OpenFile(h.path("t.md"), os.O_WRONLY, 0)
				if err != nil {
					h.t.Fatal(err)
				}
				defer f.Close()
				if _, err := f.WriteString("new\n"); err != nil {
					h.t.Fatal(err)
				}
				return []string{"t.md"}
			},
		},
		{
			name:    "delete",
			prepare: func(h *harness) { h.write("d.md", "x") },
			save: func(h *harness) []string {
				h.remove("d.md")
				return []string{"d.md"}
			},
		},
		{
			name:    "rename of a file",
			prepare: func(h *harness) { h.write("old.md", "x") },
			save: func(h *harness) []string {
				h.rename("old.md", "new.md")
				return []string{"old.md", "new.md"}
			},
		},
		{
			name:    "file in a subdirectory present at start",
			prepare: func(h *harness) { h.mkdir("failures/2024") },
			save: func(h *harness) []string {
				h.write("failures/2024/x.md", "x")
				return []string{"failures/2024/x.md"}
			},
		},
		{
			name: "deleting a directory reports it",
			prepare: func(h *harness) {
				h.mkdir("gone/sub")
				h.write("gone/sub/x.md", "x")
			},
			save: func(h *harness) []string {
				h.remove("gone")
				return []string{"gone"}
			},
		},
		{
			name:    "ignored names and dot-directories are never reported",
			prepare: func(h *harness) { h.mkdir(".git/objects") },
			save: func(h *harness) []string {
				h.write(".git/objects/x", "x")
				h.write("index.db", "db")
				h.write("index.db-wal", "wal")
				h.write("#n.md#", "autosave")
				h.write(".#n.md", "lock")
				h.mkdir(".hidden/deep")
				h.write(".hidden/deep/x.md", "x")
				return nil
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			h := &harness{t: t, dir: dir}
			if tc.prepare != nil {
				tc.prepare(h)
			}
			h = start(t, Config{Dir: dir}, nil)
			want := tc.save(h)
			done := time.Now()
			h.waitSeenAfter(done, want...)
			h.sync()
			h.assertNoNoise()
		})
	}
}

func TestMkdirPThenWrites(t *testing.T) {
	const maxBatch = 50
	h := start(t, Config{MaxBatch: maxBatch}, nil)
	h.mkdir("a/b/c")
	var want []string
	for i := range 300 {
		rel := fmt.Sprintf("a/b/c/f%03d.md", i)
		h.write(rel, "x")
		want = append(want, rel)
	}
	h.waitSeen(want...)
	h.waitSeen("a", "a/b", "a/b/c")
	if h.maxBatch > maxBatch {
		t.Errorf("largest batch has %d paths, want at most %d", h.maxBatch, maxBatch)
	}
	// The new directories are watched: a later write is reported.
	t0 := time.Now()
	h.write("a/b/later.md", "x")
	h.waitSeenAfter(t0, "a/b/later.md")
}

// TestMaxDelay checks that a path that never stops changing is still handed
// on while it changes, and once more after the last change.
func TestMaxDelay(t *testing.T) {
	h := start(t, Config{Settle: 50 * time.Millisecond, MaxDelay: 100 * time.Millisecond}, nil)
	var end time.Time
	for i := range 80 {
		h.write("busy.md", fmt.Sprint(i))
		// Taken right after the last write, not after a sleep: on a loaded
		// machine the sleep can outlast Settle, and the final report would
		// come before a later end.
		end = time.Now()
		time.Sleep(5 * time.Millisecond) // writer pacing, faster than Settle
	}
	h.waitSeenAfter(end, "busy.md")
	h.mu.Lock()
	first := h.first["busy.md"]
	h.mu.Unlock()
	if !first.Before(end) {
		t.Errorf("busy.md first reported %v after the writes ended, want during them", first.Sub(end))
	}
}

func TestNewDirectoryIsWatched(t *testing.T) {
	h := start(t, Config{}, nil)
	h.mkdir("n")
	h.waitSeen("n")
	h.sync()
	t0 := time.Now()
	h.write("n/f.md", "x")
	h.waitSeenAfter(t0, "n/f.md")
	h.mkdir("n/m")
	h.sync()
	t0 = time.Now()
	h.write("n/m/g.md", "x")
	h.waitSeenAfter(t0, "n/m/g.md")
}

func TestRenameDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, rel := range []string{"d1/sub/deep", "other"} {
		if err := os.MkdirAll(filepath.Join(dir, rel), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	h := start(t, Config{Dir: dir}, nil)
	h.write("d1/x.md", "x")
	h.write("d1/sub/y.md", "y")
	h.write("d1/sub/deep/z.md", "z")
	h.waitSeen("d1/x.md", "d1/sub/y.md", "d1/sub/deep/z.md")

	t0 := time.Now()
	h.rename("d1", "d2")
	h.waitSeenAfter(t0, "d1", "d2", "d2/x.md", "d2/sub/y.md", "d2/sub/deep/z.md")

	// The renamed subtree is watched under its new name, at every depth.
	t0 = time.Now()
	h.write("d2/new.md", "n")
	h.write("d2/sub/deep/new.md", "n")
	h.waitSeenAfter(t0, "d2/new.md", "d2/sub/deep/new.md")

	// Moving it under another watched directory works the same way.
	t0 = time.Now()
	h.rename("d2", "other/d3")
	h.waitSeenAfter(t0, "d2", "other/d3/sub/deep/z.md")
	t0 = time.Now()
	h.write("other/d3/sub/deep/later.md", "n")
	h.waitSeenAfter(t0, "other/d3/sub/deep/later.md")
	h.sync()
	h.mu.Lock()
	defer h.mu.Unlock()
	for p, at := range h.last {
		if strings.HasPrefix(p, "d2/sub/deep/later") || (strings.HasPrefix(p, "d1/") && at.After(t0)) {
			t.Errorf("stale path reported after the rename: %q", p)
		}
	}
}

func TestDirectoryReplacedByFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "x/y"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := start(t, Config{Dir: dir}, nil)
	t0 := time.Now()
	h.remove("x")
	h.write("x", "now a file")
	h.waitSeenAfter(t0, "x")
	// And back to a directory, which must be watched afresh.
	h.remove("x")
	h.mkdir("x/y")
	h.sync()
	t0 = time.Now()
	h.write("x/y/f.md", "f")
	h.waitSeenAfter(t0, "x/y/f.md")
}

func TestSymlinksAreNotFollowed(t *testing.T) {
	outside := t.TempDir()
	h := start(t, Config{}, nil)
	if err := os.Symlink(outside, h.path("link")); err != nil {
		t.Skipf("symlink: %v", err)
	}
	h.waitSeen("link")
	h.sync()
	if err := os.WriteFile(filepath.Join(outside, "f.md"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	h.sync()
	if h.seen("link/f.md") {
		t.Error("a write behind a symlinked directory was reported")
	}
}

func TestRescanOnError(t *testing.T) {
	inject := make(chan error)
	h := start(t, Config{}, func(w *Watcher) { w.injectErr = inject })
	inject <- fsnotify.ErrEventOverflow
	h.poll(func() bool { return len(h.rescanReasons()) == 1 },
		func() string { return fmt.Sprintf("rescans %q, want one", h.rescanReasons()) })
	inject <- errors.New("boom")
	h.poll(func() bool { return len(h.rescanReasons()) == 2 },
		func() string { return fmt.Sprintf("rescans %q, want two", h.rescanReasons()) })
	if got, want := h.rescanReasons(), []string{"overflow", "watch error: boom"}; !equal(got, want) {
		t.Errorf("rescan reasons = %q, want %q", got, want)
	}
	// Events keep flowing afterwards.
	h.write("after.md", "x")
	h.waitSeen("after.md")
}

func equal(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}

func TestIdleMeansIdle(t *testing.T) {
	var wakes atomic.Int64
	var idle atomic.Bool
	h := start(t, Config{}, func(w *Watcher) {
		w.onWake = func(st loopStats) {
			wakes.Add(1)
			idle.Store(st.idle)
		}
	})
	h.write("a.md", "x")
	h.write("b.md", "x")
	h.waitSeen("a.md", "b.md")
	h.poll(idle.Load, func() string { return "the loop never became idle" })

	before := wakes.Load()
	time.Sleep(300 * time.Millisecond) // the measurement window itself
	if n := wakes.Load() - before; n != 0 {
		t.Errorf("loop woke %d times while idle, want 0", n)
	}
}

func TestRootRemoved(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "memory")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h := start(t, Config{Dir: dir}, nil)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-h.done:
		if !errors.Is(err, ErrRootGone) {
			t.Errorf("Run = %v, want ErrRootGone", err)
		}
		h.done <- nil // for the cleanup
	case <-time.After(waitFor):
		t.Fatal("Run did not return after the folder was removed")
	}
}

func TestRootRenamed(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "memory")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h := start(t, Config{Dir: dir}, nil)
	if err := os.Rename(dir, filepath.Join(parent, "elsewhere")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-h.done:
		if !errors.Is(err, ErrRootGone) {
			t.Errorf("Run = %v, want ErrRootGone", err)
		}
		h.done <- nil
	case <-time.After(waitFor):
		t.Fatal("Run did not return after the folder was renamed")
	}
}

func TestStartupErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Join(t.TempDir(), "absent"), file} {
		w := New(Config{Dir: dir, Logger: zerolog.Nop()})
		if err := w.Run(context.Background(), make(chan Batch)); err == nil {
			t.Errorf("Run(%s) = nil, want an error", dir)
		}
	}
}

// TestShutdownWithoutConsumer checks that Run returns on cancel even while
// batches wait for a consumer that stopped reading.
func TestShutdownWithoutConsumer(t *testing.T) {
	dir := t.TempDir()
	w := New(Config{Dir: dir, Logger: zerolog.Nop()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, make(chan Batch)) }()
	<-w.Ready()
	for i := range 20 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.md", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond) // let batches pile up unread
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(waitFor):
		t.Fatal("Run blocked after cancel")
	}
}

// TestBurst writes 10,000 files from 20 goroutines, each into its own new
// directory, and checks that every one is reported, or that a Rescan told
// the consumer to look for itself.
func TestBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("burst of 10,000 files")
	}
	const writers, perWriter = 20, 500
	h := start(t, Config{}, nil)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := filepath.Join(h.dir, fmt.Sprintf("w%02d", g))
			if err := os.Mkdir(d, 0o755); err != nil {
				errs <- err
				return
			}
			for i := range perWriter {
				if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("n%04d.md", i)), []byte("---\ntitle: x\n---\n"), 0o644); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	written := time.Now()
	want := make([]string, 0, writers*perWriter)
	for g := range writers {
		for i := range perWriter {
			want = append(want, fmt.Sprintf("w%02d/n%04d.md", g, i))
		}
	}
	var missing int
	h.poll(func() bool {
		if len(h.rescanReasons()) > 0 {
			return true
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		missing = 0
		for _, p := range want {
			if _, ok := h.last[p]; !ok {
				missing++
			}
		}
		return missing == 0
	}, func() string { return fmt.Sprintf("%d of %d paths never reported and no rescan", missing, len(want)) })
	if r := h.rescanReasons(); len(r) > 0 {
		t.Logf("rescan requested (%q): events were lost, the consumer scans", r)
	} else {
		t.Logf("all %d paths reported %v after the last write", len(want), time.Since(written).Round(time.Millisecond))
	}
}

// TestQueuedPathsAreNotRepeated checks that while the consumer is not
// reading, a path that keeps changing waits in the queue once.
func TestQueuedPathsAreNotRepeated(t *testing.T) {
	dir := t.TempDir()
	w := New(Config{Dir: dir, Logger: zerolog.Nop(), Settle: time.Millisecond, MaxDelay: 5 * time.Millisecond})
	var settled atomic.Bool
	w.onWake = func(st loopStats) { settled.Store(st.dirty == 0 && st.walk == 0 && st.paths == 2) }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan Batch)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, out) }()
	<-w.Ready()
	for i := range 5 {
		if err := os.WriteFile(filepath.Join(dir, "a.md"), []byte(fmt.Sprint(i)), 0o644); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond) // writer pacing: each write settles on its own
	}
	// Events are handled in order, so once the sentinel z.md is queued and
	// nothing is dirty, every event for a.md has settled into the queue and
	// nothing can be queued anew after the first receive below.
	if err := os.WriteFile(filepath.Join(dir, "z.md"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitFor)
	for !settled.Load() {
		if time.Now().After(deadline) {
			t.Fatal("events never settled")
		}
		time.Sleep(2 * time.Millisecond)
	}
	var got []string
	for len(got) < 2 {
		select {
		case b := <-out:
			got = append(got, b.Paths...)
		case <-time.After(waitFor):
			t.Fatal("no batch")
		}
	}
	// Drain whatever else is queued without waiting for new events.
	for {
		select {
		case b := <-out:
			got = append(got, b.Paths...)
			continue
		default:
		}
		break
	}
	sort.Strings(got)
	if !equal(got, []string{"a.md", "z.md"}) {
		t.Errorf("paths = %q, want a.md and z.md once each", got)
	}
	cancel()
	<-done
}

// runUnread runs a Watcher on a temp folder whose consumer does not read
// until told, recording loop snapshots. It returns the folder, the out
// channel, a cancel that waits for Run, and the latest snapshot.
func runUnread(t *testing.T, cfg Config) (w *Watcher, out chan Batch, stop func() error, snap func() loopStats) {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	cfg.Logger = zerolog.Nop()
	w = New(cfg)
	var mu sync.Mutex
	var last loopStats
	var maxTracked int
	w.onWake = func(st loopStats) {
		mu.Lock()
		last = st
		maxTracked = max(maxTracked, st.dirty+st.paths)
		mu.Unlock()
	}
	ctx, cancel := context.WithCancel(context.Background())
	out = make(chan Batch)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, out) }()
	select {
	case <-w.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(waitFor):
				t.Fatal("Run did not return after cancel")
			}
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	snap = func() loopStats {
		mu.Lock()
		defer mu.Unlock()
		st := last
		st.walk = maxTracked // reused: the most paths ever tracked
		return st
	}
	return w, out, stop, snap
}

func writeAll(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func waitState(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestRestHandsOverUnsettledPaths checks that a stop hands over the paths
// that had not settled yet, and the queued ones, as one sorted batch.
func TestRestHandsOverUnsettledPaths(t *testing.T) {
	dir := t.TempDir()
	w, _, stop, snap := runUnread(t, Config{Dir: dir, Settle: time.Hour, MaxDelay: time.Hour})
	writeAll(t, dir, "b.md", "a.md")
	waitState(t, "two dirty paths", func() bool { return snap().dirty == 2 })
	if err := stop(); err != nil {
		t.Fatalf("Run = %v", err)
	}
	rest := w.Rest()
	if rest.Rescan || !equal(rest.Paths, []string{"a.md", "b.md"}) {
		t.Errorf("Rest = %+v, want a.md and b.md, no rescan", rest)
	}
}

// TestRestTakesEventsAlreadyRead checks that a stop right after a write
// still hands the path over: the events fsnotify has read are drained.
func TestRestTakesEventsAlreadyRead(t *testing.T) {
	for i := range 20 {
		dir := t.TempDir()
		w, _, stop, _ := runUnread(t, Config{Dir: dir})
		name := fmt.Sprintf("n%d.md", i)
		writeAll(t, dir, name)
		if err := stop(); err != nil {
			t.Fatalf("Run = %v", err)
		}
		// The event may still sit in the kernel when the stop comes: then
		// the consumer's final scan finds the file. What was read must
		// not be lost, and nothing else may appear.
		rest := w.Rest()
		if len(rest.Paths) > 1 || (len(rest.Paths) == 1 && rest.Paths[0] != name) {
			t.Fatalf("Rest = %+v, want at most %s", rest, name)
		}
	}
}

// TestMaxTrackedCollapsesToRescan checks that the paths held stay bounded:
// past MaxTracked they are dropped for one Rescan batch.
func TestMaxTrackedCollapsesToRescan(t *testing.T) {
	dir := t.TempDir()
	const limit = 10
	w, out, stop, snap := runUnread(t, Config{Dir: dir, Settle: time.Millisecond, MaxTracked: limit})
	var names []string
	for i := range 3 * limit {
		names = append(names, fmt.Sprintf("f%02d.md", i))
	}
	writeAll(t, dir, names...)
	var b Batch
	select {
	case b = <-out:
	case <-time.After(waitFor):
		t.Fatal("no batch")
	}
	// The first batch may hold a few paths settled before the cap was hit;
	// a Rescan must follow (or be it) before all 30 paths are listed.
	got := len(b.Paths)
	for !b.Rescan {
		select {
		case b = <-out:
			got += len(b.Paths)
		case <-time.After(waitFor):
			t.Fatalf("no Rescan after %d paths", got)
		}
	}
	if b.Reason != "too many changes" || got > limit {
		t.Errorf("Rescan %q after %d paths, want \"too many changes\" after at most %d", b.Reason, got, limit)
	}
	if m := snap().walk; m > limit+1 {
		t.Errorf("watcher tracked %d paths at once, want at most %d", m, limit+1)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	_ = w
}

// TestBatchSortedAcrossFlushes checks that a batch filled by two settle
// rounds while the consumer was busy is still sorted.
func TestBatchSortedAcrossFlushes(t *testing.T) {
	dir := t.TempDir()
	_, out, _, snap := runUnread(t, Config{Dir: dir, Settle: time.Millisecond, MaxDelay: time.Millisecond})
	writeAll(t, dir, "z.md")
	waitState(t, "z.md queued", func() bool { s := snap(); return s.paths == 1 && s.dirty == 0 })
	writeAll(t, dir, "a.md")
	waitState(t, "a.md queued", func() bool { s := snap(); return s.paths == 2 && s.dirty == 0 })
	select {
	case b := <-out:
		if !equal(b.Paths, []string{"a.md", "z.md"}) {
			t.Errorf("batch = %q, want [a.md z.md]", b.Paths)
		}
	case <-time.After(waitFor):
		t.Fatal("no batch")
	}
}

// A write to the index or its WAL (by any process) is reported through
// IndexWritten, and never handed on as a record path; other ignored files
// are not reported.
func TestIndexWrittenReported(t *testing.T) {
	var n atomic.Int64
	h := start(t, Config{IndexWritten: func() { n.Add(1) }}, nil)
	h.write("index.db-shm", "x")
	h.write("note.tmp", "x")
	h.write("a.md", "x")
	h.waitSeen("a.md")
	if got := n.Load(); got != 0 {
		t.Errorf("IndexWritten called %d times for -shm and .tmp writes, want 0", got)
	}
	h.write("index.db-wal", "frames")
	h.poll(func() bool { return n.Load() > 0 }, func() string { return "no IndexWritten after a WAL write" })
	before := n.Load()
	h.write("index.db", "page")
	h.poll(func() bool { return n.Load() > before }, func() string { return "no IndexWritten after an index write" })
}
