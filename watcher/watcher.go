package watcher

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/rs/zerolog"
)

// Defaults for the zero values of Config.
const (
	DefaultSettle     = 25 * time.Millisecond
	DefaultMaxDelay   = 500 * time.Millisecond
	DefaultMaxBatch   = 2000
	DefaultRetryEvery = 30 * time.Second
	DefaultMaxTracked = 50000
)

// eventBuffer is the capacity of fsnotify's Events channel. With the default
// (unbuffered) watcher a burst of 20,000 creates lost events to overflow;
// a large buffer lets the kernel queue drain while the loop is busy. 65536
// events cost about 3 MB.
const eventBuffer = 65536

// ErrRootGone is returned by Run when the memory folder itself was removed or
// renamed: there is nothing left to watch.
var ErrRootGone = errors.New("memory folder removed or renamed")

// ErrWatcherClosed is returned by Run when fsnotify closed its channels
// while the context was still live, which only happens on an unrecoverable
// error in the event reader.
var ErrWatcherClosed = errors.New("fsnotify watcher closed unexpectedly")

// Config configures a Watcher. Zero durations and sizes take the defaults
// above.
type Config struct {
	// Dir is the absolute path of the memory folder.
	Dir string
	// Settle is the per-path quiet time before a path is handed on.
	Settle time.Duration
	// MaxDelay bounds how long a path that keeps changing is held back: it is
	// handed on at least this often. The final state still wins, because the
	// next event dirties the path again.
	MaxDelay time.Duration
	// MaxBatch is the largest number of paths in one Batch.
	MaxBatch int
	// RetryEvery is how often, while degraded (a watch limit was hit), the
	// missing watches are retried and a Rescan is sent.
	RetryEvery time.Duration
	// MaxTracked bounds the paths the watcher holds (dirty or queued for
	// the consumer). Past it they are dropped for one Rescan batch, so a
	// burst of any size costs bounded memory.
	MaxTracked int
	// IndexWritten, if set, is called when the index file or its WAL is
	// written or created, by any process (write-back wakes on it instead of
	// polling fast). It runs on the watcher's goroutine and must not block.
	IndexWritten func()
	// Logger receives the watcher's logs, narrowed to component=watcher.
	Logger zerolog.Logger
}

// Batch is one hand-over to the consumer.
type Batch struct {
	// Paths are memory-relative slash paths of files or directories that may
	// have changed, appeared or vanished. The consumer Lstat's each; a
	// vanished directory means its whole subtree is gone. Paths are sorted
	// within a batch (also when several settle rounds filled it) and no path
	// is repeated in batches not yet received.
	Paths []string
	// Rescan means events may have been lost: the consumer must run a full
	// scan. A Rescan batch carries no paths.
	Rescan bool
	// Reason says why Rescan is set: "overflow", "watch error: ...",
	// "watch limit", "retry" or "too many changes".
	Reason string
}

// Watcher watches one memory folder. Create it with New and start it with
// Run; Ready and Degraded may be called from any goroutine.
type Watcher struct {
	cfg      Config
	log      zerolog.Logger
	ready    chan struct{}
	degraded atomic.Bool
	running  atomic.Bool
	rest     Batch // set by Run before it returns

	// Seams for tests; production values are set by New. Only the loop
	// goroutine calls them.
	newNotify func() (*fsnotify.Watcher, error)
	addWatch  func(fw *fsnotify.Watcher, name string) error
	// onWake, if set, is called after every wakeup of the loop with a
	// snapshot of its state, so tests can count wakeups and wait for a
	// state instead of sleeping.
	onWake func(loopStats)
	// injectErr, if non-nil, feeds errors into the loop as if fsnotify had
	// sent them on its Errors channel.
	injectErr chan error
}

// New returns a Watcher for cfg with defaults filled in. It starts nothing.
func New(cfg Config) *Watcher {
	if cfg.Settle <= 0 {
		cfg.Settle = DefaultSettle
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = DefaultMaxDelay
	}
	if cfg.MaxDelay < cfg.Settle {
		cfg.MaxDelay = cfg.Settle
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.RetryEvery <= 0 {
		cfg.RetryEvery = DefaultRetryEvery
	}
	if cfg.MaxTracked <= 0 {
		cfg.MaxTracked = DefaultMaxTracked
	}
	return &Watcher{
		cfg:   cfg,
		log:   cfg.Logger.With().Str("component", "watcher").Logger(),
		ready: make(chan struct{}),
		newNotify: func() (*fsnotify.Watcher, error) {
			return fsnotify.NewBufferedWatcher(eventBuffer)
		},
		addWatch: func(fw *fsnotify.Watcher, name string) error {
			return fw.Add(name)
		},
	}
}

// Ready returns a channel that is closed once the initial recursive watches
// are in place (or, in degraded mode, once as many as possible are). A
// caller that runs its startup full scan after Ready loses no change. If Run
// fails at startup, Ready is never closed: wait on Run's result as well.
func (w *Watcher) Ready() <-chan struct{} { return w.ready }

// Degraded reports whether some directories are not watched because an OS
// limit on watches was reached. While degraded, Run sends a Rescan batch
// every Config.RetryEvery.
func (w *Watcher) Degraded() bool { return w.degraded.Load() }

// Rest returns what the watcher still held when Run returned: the paths it
// had queued or not yet settled, with the events fsnotify had already read
// when ctx was cancelled, in one sorted Batch (Rescan set if a full scan
// was pending). A consumer that stops indexes Rest as its last batch, so no
// change that reached the watcher is left behind. Call it only after Run
// has returned.
func (w *Watcher) Rest() Batch { return w.rest }

// Run watches the folder and sends batches on out until ctx is done, then
// returns nil; what it had not sent yet is kept for Rest. It returns an error at startup if the folder cannot be
// watched at all, and later if the folder itself is removed or renamed
// (ErrRootGone) or fsnotify fails for good. Sends on out never outlive ctx.
// Run may be called once per Watcher.
func (w *Watcher) Run(ctx context.Context, out chan<- Batch) error {
	if !w.running.CompareAndSwap(false, true) {
		return errors.New("watcher: Run called twice")
	}
	dir, err := filepath.Abs(w.cfg.Dir)
	if err != nil {
		return fmt.Errorf("watch %s: %w", w.cfg.Dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("watch %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("watch %s: not a directory", dir)
	}

	l := newLoop(w, dir, out)
	defer l.close()
	defer func() { w.rest = l.remaining() }()
	fw, err := w.newNotify()
	switch {
	case err == nil:
		l.setNotify(fw)
		l.push(walkItem{rel: ""})
	case isInstanceLimit(err):
		// No watcher at all: keep going on periodic scans and retry.
		l.enterDegraded(instanceLimitMsg, err)
	default:
		return fmt.Errorf("create watcher: %w", err)
	}
	return l.run(ctx)
}
