package agent

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/indexer"
	"github.com/emergent-learning/elfsync/layout"
	"github.com/emergent-learning/elfsync/watcher"
)

// Index is what the agent needs of the index (*indexer.Index). Only the
// agent's loop goroutine calls it.
type Index interface {
	// Scan reconciles the whole memory folder.
	Scan(ctx context.Context, progress indexer.Progress) (indexer.Result, error)
	// Sync reconciles the given memory-relative paths.
	Sync(ctx context.Context, paths []string) (indexer.Result, error)
	// Upkeep does one bounded step of the work writes leave for later
	// (merging the full-text index, rewriting a stale ledger snapshot)
	// and reports whether there may be more to do.
	Upkeep(ctx context.Context) (more bool, err error)
}

// Committer is what the agent needs of the committer
// (*committer.Committer).
type Committer interface {
	// Notify records root-relative paths that changed; it never blocks.
	Notify(paths []string)
	// Hold(true) says more changes are coming at once (the index is
	// behind): quiet paths wait for Hold(false) before they are
	// committed, within the committer's maximum wait and batch. It never
	// blocks.
	Hold(held bool)
	// Run commits in debounced batches until its context is cancelled,
	// then makes a final commit of what is pending and returns.
	Run(ctx context.Context) error
}

// Watcher is what the agent needs of the watcher (*watcher.Watcher).
type Watcher interface {
	Run(ctx context.Context, out chan<- watcher.Batch) error
	Ready() <-chan struct{}
	// Rest returns what Run still held when it returned.
	Rest() watcher.Batch
}

// Runner is another component run beside the pipeline. Run returns when
// ctx is cancelled (nil) or when the component fails (an error that stops
// the agent).
type Runner interface {
	Run(ctx context.Context) error
}

// RunnerFunc adapts a function to Runner.
type RunnerFunc func(ctx context.Context) error

// Run calls f(ctx).
func (f RunnerFunc) Run(ctx context.Context) error { return f(ctx) }

// Defaults for Config's zero values.
const (
	DefaultFlushTimeout = time.Minute
	DefaultUpkeepIdle   = 2 * time.Second
	// retryScan is how soon a failed index update is retried with a full
	// scan.
	retryScan = 5 * time.Second
	// upkeepPause separates two upkeep steps: a step holds the database's
	// write lock, and another process waiting for it gets it in between.
	upkeepPause = 25 * time.Millisecond
)

// Config configures an Agent.
type Config struct {
	Index   Index   // required
	Watcher Watcher // required
	// Committer, if nil, turns git off: the agent only indexes.
	Committer Committer
	// ScanInterval is the period of timed full scans, jittered by ±10% so
	// many agents started together do not scan together; 0 turns the timer
	// off.
	ScanInterval time.Duration
	// Rescan, if set, asks for a full scan on every receive (SIGHUP).
	Rescan <-chan struct{}
	// Producers run from after the startup scan until the shutdown begins;
	// they are stopped first, so the files they wrote are indexed and
	// committed before Run returns.
	Producers []Runner
	// Followers run from after the startup scan until the committer's
	// final commit is made; they are stopped last (a push after the last
	// commit).
	Followers []Runner
	// OnScan, if set, is called with true before each full scan and with
	// false after it, from the loop goroutine: while a scan runs, drift
	// that `elfsync status` sees may be work in progress.
	OnScan func(scanning bool)
	// FlushTimeout bounds the shutdown's final index and commit (default
	// one minute).
	FlushTimeout time.Duration
	// UpkeepIdle is how long the loop must have had nothing to index
	// before it does the index's upkeep, a step at a time (default 2 s,
	// the committer's default quiet period: a steady trickle of writes
	// does not pay for a snapshot each).
	UpkeepIdle time.Duration
	// Logger receives the agent's log, narrowed to component=agent.
	Logger zerolog.Logger
}

// Agent runs one root's pipeline. Create it with New and start it with Run.
type Agent struct {
	cfg Config
	log zerolog.Logger
	// timer is the full-scan timer; only the loop touches it.
	timer *time.Timer
	// upkeep fires when the loop has been idle for UpkeepIdle after the
	// startup scan, a sync or a full scan that changed something (it is
	// armed again at each, so the upkeep waits until the writes pause), or
	// upkeepPause after an upkeep step that had more to do. Only the loop
	// touches it.
	upkeep *time.Timer
}

// New checks cfg and returns an Agent. It starts nothing.
func New(cfg Config) (*Agent, error) {
	if cfg.Index == nil || cfg.Watcher == nil {
		return nil, errors.New("agent: Index and Watcher are required")
	}
	if cfg.FlushTimeout <= 0 {
		cfg.FlushTimeout = DefaultFlushTimeout
	}
	if cfg.UpkeepIdle <= 0 {
		cfg.UpkeepIdle = DefaultUpkeepIdle
	}
	return &Agent{cfg: cfg, log: cfg.Logger.With().Str("component", "agent").Logger()}, nil
}

// group runs components, each under a context of its own, and reports the
// first failure.
type group struct {
	wg     sync.WaitGroup
	cancel []context.CancelFunc
	failed chan error // the first error of a component that failed early
}

func (g *group) start(ctx context.Context, rs []Runner) {
	for _, r := range rs {
		rctx, cancel := context.WithCancel(ctx)
		g.cancel = append(g.cancel, cancel)
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			if err := r.Run(rctx); err != nil && rctx.Err() == nil {
				select {
				case g.failed <- err:
				default:
				}
			}
		}()
	}
}

// stop cancels every component of g and waits for them.
func (g *group) stop() {
	for _, c := range g.cancel {
		c()
	}
	g.wg.Wait()
}

// Run runs the pipeline until ctx is cancelled, then stops it in order (see
// the package documentation) and returns nil; or returns the error of a
// component that failed, after the same shutdown.
func (a *Agent) Run(ctx context.Context) error {
	// The components run under contexts detached from ctx: Run cancels
	// each in turn during the shutdown.
	base := context.WithoutCancel(ctx)
	failed := make(chan error, 1)

	// Unbuffered: while the loop is busy indexing, the watcher keeps what
	// settles in its own queue, where it joins the newest batch (up to
	// MaxBatch paths). A buffer here would freeze the small batches of a
	// burst's first milliseconds and have them indexed one transaction
	// each: a 10,000-note burst arrived in ~100 batches, most of a few
	// paths, and every transaction also flushes a full-text segment that
	// later merges cost again.
	batches := make(chan watcher.Batch)
	wctx, stopWatcher := context.WithCancel(base)
	defer stopWatcher()
	werr := make(chan error, 1)
	go func() { werr <- a.cfg.Watcher.Run(wctx, batches) }()
	// Watches first, then the scan: whatever lands in between is seen by
	// one or the other.
	select {
	case <-a.cfg.Watcher.Ready():
	case err := <-werr:
		return err
	case <-ctx.Done():
		stopWatcher()
		<-werr
		return nil
	}

	committer := &group{failed: failed}
	if a.cfg.Committer != nil {
		committer.start(base, []Runner{a.cfg.Committer})
		// Commit whatever a crash or a stopped watcher left uncommitted.
		a.cfg.Committer.Notify([]string{layout.MemoryDir + "/"})
	}
	defer committer.stop()

	a.timer = time.NewTimer(a.nextScan())
	defer a.timer.Stop()
	a.upkeep = time.NewTimer(0)
	a.upkeep.Stop()
	defer a.upkeep.Stop()
	a.fullScan(ctx, "startup")
	// What the last run (or a `scan`) left for later, even if nothing
	// changed since.
	a.upkeep.Reset(a.cfg.UpkeepIdle)

	followers := &group{failed: failed}
	followers.start(base, a.cfg.Followers)
	defer followers.stop()
	producers := &group{failed: failed}
	producers.start(base, a.cfg.Producers)
	defer producers.stop()

	var runErr error
	watcherDone := false
	held := false
loop:
	for {
		// A batch that is ready the moment the last one is indexed means
		// the index is behind the writers (a burst): commits are held
		// until the loop waits again, so git does not take the CPU the
		// index needs, and commits the burst in one go after it.
		if ctx.Err() == nil {
			select {
			case b := <-batches:
				if !held {
					held = true
					a.holdCommits(true)
				}
				a.handle(ctx, b)
				continue
			default:
			}
		}
		if held {
			held = false
			a.holdCommits(false)
		}
		select {
		case <-ctx.Done():
			break loop
		case b := <-batches:
			a.handle(ctx, b)
		case <-a.timer.C:
			a.fullScan(ctx, "timer")
		case <-a.upkeep.C:
			a.upkeepStep(ctx)
		case <-a.cfg.Rescan:
			a.fullScan(ctx, "SIGHUP")
		case err := <-werr:
			watcherDone = true
			if err == nil {
				err = watcher.ErrWatcherClosed
			}
			runErr = err
			break loop
		case err := <-failed:
			runErr = err
			break loop
		}
	}
	// A failure is not logged here: Run returns it, and the caller
	// reports it once.
	a.log.Info().Msg("stopping: flushing pending work")

	// 1. Producers first: what they wrote must still be indexed.
	producers.stop()
	// 2. The watcher; then its rest and a final scan.
	stopWatcher()
	if !watcherDone {
		if err := <-werr; err != nil && runErr == nil {
			runErr = err
		}
	}
	fctx, cancel := context.WithTimeout(base, a.cfg.FlushTimeout)
	defer cancel()
	if errors.Is(runErr, watcher.ErrRootGone) {
		a.log.Debug().Msg("memory folder gone: no final index")
	} else {
		a.final(fctx)
	}
	// 3. The committer's final commit, then 4. the followers.
	committer.stop()
	followers.stop()
	return runErr
}

// final indexes what the watcher still held (Rest; the batch channel is
// unbuffered, so a batch is either taken by the loop or in Rest), then runs
// a full scan for writes whose events never reached it, and tells the
// committer.
func (a *Agent) final(ctx context.Context) {
	rest := a.cfg.Watcher.Rest()
	if len(rest.Paths) > 0 && !rest.Rescan {
		a.sync(ctx, rest.Paths)
	}
	res, err := a.cfg.Index.Scan(ctx, nil)
	if err != nil {
		a.log.Error().Err(err).Msg("final scan failed; the next start repairs it")
		if a.cfg.Committer != nil {
			a.cfg.Committer.Notify([]string{layout.MemoryDir + "/"})
		}
		return
	}
	a.logResult("final scan", res, 0, 0)
	if a.cfg.Committer != nil && changed(res) {
		a.cfg.Committer.Notify([]string{layout.MemoryDir + "/"})
	}
}

func changed(res indexer.Result) bool {
	return res.Added+res.Updated+res.Removed+res.Invalid > 0 || res.Rebuilt
}

// nextScan returns the time to the next timed full scan, jittered by ±10%.
func (a *Agent) nextScan() time.Duration {
	iv := a.cfg.ScanInterval
	if iv <= 0 {
		return time.Duration(1<<63 - 1)
	}
	j := time.Duration(rand.Int64N(int64(iv)/5+1)) - iv/10
	return iv + j
}

// resetTimer arms the full-scan timer to fire after d. (Since Go 1.23 a
// Reset stops the timer and empties its channel first: no stale fire.)
func (a *Agent) resetTimer(d time.Duration) { a.timer.Reset(d) }

// handle indexes one batch of the watcher.
func (a *Agent) handle(ctx context.Context, b watcher.Batch) {
	if b.Rescan {
		a.fullScan(ctx, b.Reason)
		return
	}
	a.sync(ctx, b.Paths)
}

// upkeepStep does one step of the work a large build or many small writes
// leave for later (Index.Upkeep), and arms the next if there is more. A
// batch ready when a step ends goes before the next step: the loop takes
// a ready batch before it waits on the timers.
func (a *Agent) upkeepStep(ctx context.Context) {
	start := time.Now()
	more, err := a.cfg.Index.Upkeep(ctx)
	if err != nil {
		if ctx.Err() == nil {
			// Searches work unmerged and scans without a snapshot, so
			// no step is retried until the next write; a full scan
			// repairs what failed (an index file replaced or corrupt is
			// rebuilt by it).
			a.log.Warn().Err(err).Msg("index upkeep failed; retrying with a full scan")
			a.resetTimer(retryScan)
		}
		return
	}
	a.log.Debug().Bool("more", more).
		Float64("took_ms", float64(time.Since(start).Microseconds())/1000).Msg("index upkeep step")
	if more {
		a.upkeep.Reset(upkeepPause)
	}
}

func (a *Agent) holdCommits(held bool) {
	if a.cfg.Committer != nil {
		a.cfg.Committer.Hold(held)
	}
}

// sync indexes the paths of one batch and tells the committer about them.
func (a *Agent) sync(ctx context.Context, paths []string) {
	start := time.Now()
	res, err := a.cfg.Index.Sync(ctx, paths)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		a.log.Error().Err(err).Int("paths", len(paths)).Msg("index update failed; retrying with a full scan")
		a.resetTimer(retryScan)
		return
	}
	a.logResult("sync", res, len(paths), time.Since(start))
	// Also after a sync that changed no record: a touched file's new
	// mtime changes the ledger, and so its snapshot.
	a.upkeep.Reset(a.cfg.UpkeepIdle)
	if a.cfg.Committer != nil {
		rel := make([]string, len(paths))
		for i, p := range paths {
			rel[i] = layout.RootRel(p)
		}
		a.cfg.Committer.Notify(rel)
	}
}

func (a *Agent) fullScan(ctx context.Context, reason string) {
	if a.cfg.OnScan != nil {
		a.cfg.OnScan(true)
		defer a.cfg.OnScan(false)
	}
	start := time.Now()
	res, err := a.cfg.Index.Scan(ctx, nil)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		a.log.Error().Err(err).Str("reason", reason).Msg("full scan failed; retrying")
		a.resetTimer(retryScan)
		return
	}
	a.resetTimer(a.nextScan())
	if changed(res) {
		a.upkeep.Reset(a.cfg.UpkeepIdle)
	}
	a.log.Info().Str("reason", reason).Int("added", res.Added).Int("updated", res.Updated).
		Int("removed", res.Removed).Int("unchanged", res.Unchanged).Int("invalid", len(res.Errors)).
		Bool("rebuilt", res.Rebuilt).Float64("took_ms", float64(time.Since(start).Microseconds())/1000).Msg("full scan")
	a.logInvalid(res)
	if a.cfg.Committer != nil && changed(res) {
		a.cfg.Committer.Notify([]string{layout.MemoryDir + "/"})
	}
}

func (a *Agent) logResult(what string, res indexer.Result, n int, took time.Duration) {
	ev := a.log.Debug()
	if res.Rebuilt {
		ev = a.log.Warn()
	}
	if took > 0 {
		ev = ev.Float64("took_ms", float64(took.Microseconds())/1000)
	}
	ev.Str("op", what).Int("paths", n).Int("added", res.Added).Int("updated", res.Updated).
		Int("removed", res.Removed).Int("invalid", res.Invalid).Bool("rebuilt", res.Rebuilt).Msg("indexed")
	a.logInvalid(res)
}

func (a *Agent) logInvalid(res indexer.Result) {
	for _, fe := range res.Errors {
		a.log.Warn().Str("path", fe.Path).Str("error", fe.Error).Msg("invalid file: tracked and committed, not indexed")
	}
}
