package agent

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/indexer"
	"github.com/emergent-learning/elfsync/watcher"
)

const waitFor = 10 * time.Second

// trace records what the fakes saw, in order. Waiters are woken by each
// new event (changed is closed and replaced), so no test sleeps.
type trace struct {
	mu      sync.Mutex
	events  []string
	changed chan struct{}
}

func (tr *trace) add(format string, args ...any) {
	tr.mu.Lock()
	tr.events = append(tr.events, fmt.Sprintf(format, args...))
	if tr.changed != nil {
		close(tr.changed)
		tr.changed = nil
	}
	tr.mu.Unlock()
}

func (tr *trace) list() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return slices.Clone(tr.events)
}

// index of the first event that starts with prefix, or -1.
func (tr *trace) index(prefix string) int {
	for i, e := range tr.list() {
		if strings.HasPrefix(e, prefix) {
			return i
		}
	}
	return -1
}

// until blocks until cond holds for the events so far, failing the test
// with what after waitFor. It wakes on every new event.
func (tr *trace) until(t *testing.T, what string, cond func(events []string) bool) {
	t.Helper()
	deadline := time.NewTimer(waitFor)
	defer deadline.Stop()
	for {
		tr.mu.Lock()
		ok := cond(tr.events)
		if tr.changed == nil {
			tr.changed = make(chan struct{})
		}
		changed := tr.changed
		tr.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("%s; saw %q", what, tr.list())
		}
	}
}

func (tr *trace) wait(t *testing.T, prefix string) {
	t.Helper()
	tr.until(t, fmt.Sprintf("never saw %q", prefix), func(events []string) bool {
		return slices.IndexFunc(events, func(e string) bool { return strings.HasPrefix(e, prefix) }) >= 0
	})
}

type fakeIndex struct {
	tr      *trace
	scanErr error
	// gate, if set, holds a Sync of "slow.md" until it is closed.
	gate chan struct{}
	// Upkeep steps are traced (as "merge") only if traceMerges is set:
	// the first mergeMore of them report more work, a step fails with
	// mergeErr.
	traceMerges bool
	mu          sync.Mutex
	mergeMore   int
	mergeErr    error
}

func (f *fakeIndex) Upkeep(ctx context.Context) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.traceMerges {
		return false, nil
	}
	if f.mergeErr != nil {
		f.tr.add("merge failed")
		return f.mergeMore > 0, f.mergeErr
	}
	f.tr.add("merge")
	if f.mergeMore > 0 {
		f.mergeMore--
		return true, nil
	}
	return false, nil
}

func (f *fakeIndex) Scan(ctx context.Context, _ indexer.Progress) (indexer.Result, error) {
	f.tr.add("scan")
	return indexer.Result{Added: 1}, f.scanErr
}

func (f *fakeIndex) Sync(ctx context.Context, paths []string) (indexer.Result, error) {
	f.tr.add("sync %s", strings.Join(paths, ","))
	if f.gate != nil && slices.Equal(paths, []string{"slow.md"}) {
		<-f.gate
	}
	if slices.Equal(paths, []string{"touched.md"}) {
		// Only its mtime changed: no record did, the ledger did.
		return indexer.Result{Unchanged: 1}, nil
	}
	return indexer.Result{Updated: len(paths)}, nil
}

type fakeCommitter struct{ tr *trace }

func (f *fakeCommitter) Notify(paths []string) { f.tr.add("notify %s", strings.Join(paths, ",")) }
func (f *fakeCommitter) Hold(held bool)        { f.tr.add("hold %v", held) }

func (f *fakeCommitter) Run(ctx context.Context) error {
	f.tr.add("committer start")
	<-ctx.Done()
	f.tr.add("committer final commit")
	return nil
}

type fakeWatcher struct {
	tr       *trace
	ready    chan struct{}
	out      chan<- watcher.Batch // the agent's channel, set before ready is closed
	batches  chan watcher.Batch   // forwarded to the agent
	fail     chan error           // makes Run return this error
	startErr error
	rest     watcher.Batch
}

func newFakeWatcher(tr *trace) *fakeWatcher {
	return &fakeWatcher{tr: tr, ready: make(chan struct{}), batches: make(chan watcher.Batch), fail: make(chan error)}
}

func (f *fakeWatcher) Ready() <-chan struct{} { return f.ready }
func (f *fakeWatcher) Rest() watcher.Batch    { return f.rest }

func (f *fakeWatcher) Run(ctx context.Context, out chan<- watcher.Batch) error {
	if f.startErr != nil {
		return f.startErr
	}
	f.out = out
	close(f.ready)
	for {
		select {
		case <-ctx.Done():
			f.tr.add("watcher stopped")
			return nil
		case err := <-f.fail:
			f.tr.add("watcher failed")
			return err
		case b := <-f.batches:
			select {
			case out <- b:
			case <-ctx.Done():
				f.tr.add("watcher stopped")
				return nil
			}
		}
	}
}

func runner(tr *trace, name string, err error) Runner {
	return RunnerFunc(func(ctx context.Context) error {
		tr.add("%s start", name)
		if err != nil {
			return err
		}
		<-ctx.Done()
		tr.add("%s stopped", name)
		return nil
	})
}

type fixture struct {
	tr  *trace
	ix  *fakeIndex
	cm  *fakeCommitter
	w   *fakeWatcher
	cfg Config
}

func newFixture(t *testing.T) *fixture {
	tr := &trace{}
	f := &fixture{tr: tr, ix: &fakeIndex{tr: tr}, cm: &fakeCommitter{tr: tr}, w: newFakeWatcher(tr)}
	f.cfg = Config{Index: f.ix, Committer: f.cm, Watcher: f.w, Logger: zerolog.New(zerolog.NewTestWriter(t))}
	return f
}

// start runs the agent and returns a cancel and Run's result channel.
func (f *fixture) start(t *testing.T) (context.CancelFunc, chan error) {
	t.Helper()
	a, err := New(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(waitFor):
			t.Error("Run did not return")
		}
	})
	return cancel, done
}

func waitDone(t *testing.T, done chan error) error {
	t.Helper()
	select {
	case err := <-done:
		done <- err // for the cleanup
		return err
	case <-time.After(waitFor):
		t.Fatal("Run did not return")
		return nil
	}
}

// assertOrder fails unless the events with these prefixes happened in this
// order.
func assertOrder(t *testing.T, tr *trace, prefixes ...string) {
	t.Helper()
	ev := tr.list()
	from := 0
	for _, p := range prefixes {
		i := slices.IndexFunc(ev[from:], func(e string) bool { return strings.HasPrefix(e, p) })
		if i < 0 {
			t.Fatalf("want %q in this order; got %q", prefixes, ev)
		}
		from += i + 1
	}
}

func TestShutdownOrder(t *testing.T) {
	f := newFixture(t)
	f.w.rest = watcher.Batch{Paths: []string{"failures/late.md"}}
	f.cfg.Producers = []Runner{runner(f.tr, "producer", nil)}
	f.cfg.Followers = []Runner{runner(f.tr, "follower", nil)}
	cancel, done := f.start(t)
	f.tr.wait(t, "producer start")
	f.tr.wait(t, "follower start")
	// The committer's goroutine may be scheduled late on a loaded
	// machine; its start is not what this test orders (CI saw it after
	// the rest's notification once).
	f.tr.wait(t, "committer start")
	cancel()
	if err := waitDone(t, done); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	assertOrder(t, f.tr,
		"scan", // the startup scan
		"producer stopped",
		"watcher stopped",
		"sync failures/late.md",
		"notify memory/failures/late.md",
	)
	// After the rest: the final scan, its notification, the final commit,
	// then the followers.
	ev := f.tr.list()
	i := slices.Index(ev, "notify memory/failures/late.md")
	rest := ev[i+1:]
	want := []string{"scan", "notify memory/", "committer final commit", "follower stopped"}
	if !slices.Equal(rest, want) {
		t.Errorf("after the rest: %q, want %q", rest, want)
	}
}

func TestBatchesAreIndexedAndNotified(t *testing.T) {
	f := newFixture(t)
	_, _ = f.start(t)
	f.tr.wait(t, "scan")
	f.w.batches <- watcher.Batch{Paths: []string{"a.md", "b/c.md"}}
	f.tr.wait(t, "notify memory/a.md,memory/b/c.md")
	assertOrder(t, f.tr, "sync a.md,b/c.md", "notify memory/a.md,memory/b/c.md")
	n := len(f.tr.list())
	f.w.batches <- watcher.Batch{Rescan: true, Reason: "overflow"}
	f.tr.until(t, "no scan after a Rescan batch", func(events []string) bool {
		return slices.Index(events[n:], "scan") >= 0
	})
}

func TestRescanRequest(t *testing.T) {
	f := newFixture(t)
	rescan := make(chan struct{})
	f.cfg.Rescan = rescan
	f.cfg.Committer = nil // index only
	_, _ = f.start(t)
	f.tr.wait(t, "scan")
	rescan <- struct{}{}
	f.tr.until(t, "no second scan", func(events []string) bool {
		n := 0
		for _, e := range events {
			if e == "scan" {
				n++
			}
		}
		return n >= 2
	})
	if f.tr.index("notify") >= 0 {
		t.Errorf("notified a committer that is off: %q", f.tr.list())
	}
}

// TestRootGone is the hang of issue 13: the memory folder vanishes while
// the agent runs. Run must return the watcher's error at once (nothing
// cancels its context), stop the committer, and not scan a folder that is
// not there.
func TestRootGone(t *testing.T) {
	f := newFixture(t)
	_, done := f.start(t)
	f.tr.wait(t, "scan")
	gone := fmt.Errorf("watch /x/memory: %w", watcher.ErrRootGone)
	f.w.fail <- gone
	err := waitDone(t, done)
	if !errors.Is(err, watcher.ErrRootGone) || err.Error() != gone.Error() {
		t.Fatalf("Run = %v, want the watcher's error unchanged", err)
	}
	ev := f.tr.list()
	i := slices.Index(ev, "watcher failed")
	if slices.Contains(ev[i:], "scan") {
		t.Errorf("scanned after the folder was gone: %q", ev)
	}
	assertOrder(t, f.tr, "watcher failed", "committer final commit")
}

func TestComponentFailureStopsTheRun(t *testing.T) {
	f := newFixture(t)
	boom := errors.New("remote sync: boom")
	f.cfg.Followers = []Runner{runner(f.tr, "follower", boom)}
	_, done := f.start(t)
	if err := waitDone(t, done); !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want the follower's error", err)
	}
	assertOrder(t, f.tr, "follower start", "watcher stopped", "scan", "committer final commit")
}

func TestWatcherStartupError(t *testing.T) {
	f := newFixture(t)
	f.w.startErr = errors.New("watch /x: permission denied")
	_, done := f.start(t)
	if err := waitDone(t, done); err == nil || err.Error() != "watch /x: permission denied" {
		t.Fatalf("Run = %v", err)
	}
	if f.tr.index("committer") >= 0 || f.tr.index("scan") >= 0 {
		t.Errorf("started work after the watcher failed: %q", f.tr.list())
	}
}

func TestNewNeedsIndexAndWatcher(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New(Config{}) = nil error")
	}
}

// TestCommitsHeldWhileTheIndexIsBehind: the loop takes a batch only when it
// is free (the channel is unbuffered, so the watcher keeps coalescing
// meanwhile), and holds commits while a batch is ready the moment the last
// one is indexed, until the loop waits again.
func TestCommitsHeldWhileTheIndexIsBehind(t *testing.T) {
	f := newFixture(t)
	f.ix.gate = make(chan struct{})
	_, _ = f.start(t)
	f.tr.wait(t, "scan")
	// Past the startup scan and waiting: a batch sent earlier would be
	// ready the moment the scan ends, and rightly held for.
	waitBlocked(t, "[select", "agent.(*Agent).Run")
	out := f.w.out
	f.w.batches <- watcher.Batch{Paths: []string{"slow.md"}}
	f.tr.wait(t, "sync slow.md")
	select {
	case out <- watcher.Batch{Paths: []string{"early.md"}}:
		t.Fatal("the agent took a batch while indexing one: the watcher cannot coalesce what settles meanwhile")
	default:
	}
	go func() { out <- watcher.Batch{Paths: []string{"b.md"}} }()
	// The batch is ready once that goroutine is blocked sending it.
	waitBlocked(t, "[chan send", "TestCommitsHeldWhileTheIndexIsBehind.func")
	close(f.ix.gate)
	f.tr.wait(t, "hold false")
	assertOrder(t, f.tr, "sync slow.md", "notify memory/slow.md", "hold true", "sync b.md", "notify memory/b.md", "hold false")
	if n := strings.Count(strings.Join(f.tr.list(), "\n"), "hold"); n != 2 {
		t.Errorf("%d hold events, want 2: %q", n, f.tr.list())
	}
}

// waitBlocked waits until a goroutine whose stack names fn is blocked in
// state ("[chan send", "[select"). A goroutine's state raises no event, so
// this polls, on a ticker, with a deadline.
func waitBlocked(t *testing.T, state, fn string) {
	t.Helper()
	tick, deadline := time.NewTicker(time.Millisecond), time.NewTimer(waitFor)
	defer tick.Stop()
	defer deadline.Stop()
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		for _, g := range strings.Split(string(buf[:n]), "\n\n") {
			if strings.Contains(g, state) && strings.Contains(g, fn) {
				return
			}
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("no goroutine of %s blocked in %s", fn, state)
		}
	}
}

// The index's upkeep runs a step at a time once the loop is idle:
// after the startup scan until a step finds nothing more, and again after
// each write. A failed step arms no other: a full scan repairs what
// failed, and merging resumes after it.
func TestUpkeepWhenIdle(t *testing.T) {
	f := newFixture(t)
	f.cfg.UpkeepIdle = 10 * time.Millisecond
	f.ix.traceMerges, f.ix.mergeMore = true, 2
	cancel, done := f.start(t)
	merges := func(events []string) int {
		n := 0
		for _, e := range events {
			if strings.HasPrefix(e, "merge") {
				n++
			}
		}
		return n
	}
	f.tr.until(t, "not 3 upkeep steps after the startup scan", func(ev []string) bool { return merges(ev) >= 3 })

	f.w.batches <- watcher.Batch{Paths: []string{"a.md"}}
	f.tr.until(t, "no upkeep step after the write", func(ev []string) bool {
		i := slices.Index(ev, "sync a.md")
		return i >= 0 && merges(ev[i:]) >= 1
	})
	f.w.batches <- watcher.Batch{Paths: []string{"touched.md"}}
	f.tr.until(t, "no upkeep step after a sync that changed no record", func(ev []string) bool {
		i := slices.Index(ev, "sync touched.md")
		return i >= 0 && merges(ev[i:]) >= 1
	})

	// A failing step says there is more: the agent must not believe it.
	f.ix.mu.Lock()
	f.ix.mergeErr, f.ix.mergeMore = errors.New("disk full"), 1000
	f.ix.mu.Unlock()
	f.w.batches <- watcher.Batch{Paths: []string{"b.md"}}
	f.tr.wait(t, "merge failed")
	f.tr.until(t, "no full scan after the failed upkeep step", func(ev []string) bool {
		i := slices.Index(ev, "merge failed")
		return slices.Index(ev[i:], "scan") >= 0
	})
	cancel()
	if err := waitDone(t, done); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	// Three after the startup scan (more, more, done), one after each
	// sync, then the failure, and nothing until the retry scan (5 s
	// later: a step re-armed 25 ms after the failure would come first).
	ev := f.tr.list()
	assertOrder(t, f.tr, "scan", "merge", "merge", "merge", "sync a.md", "merge", "sync touched.md", "merge", "sync b.md", "merge failed", "scan")
	i := slices.Index(ev, "merge failed")
	j := i + 1 + slices.Index(ev[i+1:], "scan")
	if n := merges(ev[:j]); n != 6 {
		t.Errorf("%d upkeep steps before the retry scan, want 6: %q", n, ev)
	}
}
