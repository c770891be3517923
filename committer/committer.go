package committer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/layout"
)

// Defaults for Config's zero values.
const (
	DefaultQuiet    = 2 * time.Second
	DefaultMaxWait  = 30 * time.Second
	DefaultMaxBatch = 5000
)

// Backoff while the repository is busy (another process's index.lock, a
// merge in progress) and after other git failures.
const (
	busyBackoffMin  = 100 * time.Millisecond
	busyBackoffMax  = 5 * time.Second
	errorBackoffMax = time.Minute
	// shutdownBudget bounds the final flush when Run stops.
	shutdownBudget = 30 * time.Second
)

// Config configures a Committer.
type Config struct {
	// Root is ROOT, an absolute path; the memory folder is Root/memory.
	Root string
	// Quiet is the quiet period (default 2 s): a pending path is committed
	// once it has not changed for this long, together with everything else
	// pending. A path that keeps changing waits (its intermediate states
	// go in only with other paths' commits); a steady stream of new paths
	// is committed about once per quiet period, not once per path, and no
	// new path waits much longer than the quiet period for its commit.
	Quiet time.Duration
	// MaxWait bounds how long the first pending path waits for a commit
	// while changes keep coming (default 30 s).
	MaxWait time.Duration
	// MaxBatch is the number of pending paths that triggers a commit at
	// once (default 5,000).
	MaxBatch int
	// Logger receives the committer's log; it is narrowed with
	// component=committer.
	Logger zerolog.Logger
	// Describe, optional, returns the title of a root-relative path for
	// commit bodies ("" if unknown). It is called from the committing
	// goroutine.
	Describe func(rootRel string) string
	// OnCommit, optional, is called after each commit this committer
	// makes (not for "nothing to commit"), from the committing goroutine:
	// the remote sync uses it to push soon after a batch. It must not
	// block.
	OnCommit func()
	// ReadOnly makes New only find the repository: it initialises nothing,
	// writes no .gitignore and removes no stale lock, and the commit
	// methods fail with ErrReadOnly. For `elfsync status` beside a running
	// watcher. Without a repository New returns ErrNoRepository.
	ReadOnly bool
}

// Result describes one commit. A zero Commit means there was nothing to
// commit.
type Result struct {
	Commit                            string
	Added, Modified, Deleted, Renamed int
	// Paths are the root-relative paths in the commit; a rename lists its
	// old and new path.
	Paths []string
}

// CommitInfo names a commit.
type CommitInfo struct {
	Hash    string    `json:"hash"`
	Subject string    `json:"subject"`
	Time    time.Time `json:"time"`
}

// Errors returned by New and the commit methods.
var (
	ErrReadOnly     = errors.New("committer is read-only")
	ErrNoRepository = errors.New("memory folder has no git repository")
)

// Committer commits changes under ROOT/memory to git in debounced batches.
// Its methods are safe for concurrent use; commits are serialised.
type Committer struct {
	cfg      Config
	log      zerolog.Logger
	memDir   string
	repo     repo
	git      *Git
	identity []string // fallback author/committer variables, if any

	commitMu    sync.Mutex // one commit (and maintenance) at a time
	seq         atomic.Uint64
	needRefresh atomic.Bool // the real index still needs a reset for memory/

	mu      sync.Mutex           // guards pending, first, last
	pending map[string]time.Time // path → when it was last notified
	first   time.Time            // when the oldest pending path arrived
	last    time.Time            // when the newest notification arrived
	held    bool                 // Hold(true): the caller still has changes to hand over
	kick    chan struct{}

	stateMu sync.Mutex
	lastErr string // last error persisted, to write the state file once per error

	busyMin, busyMax time.Duration
	attempts         atomic.Int64 // commit attempts, for tests to wait on
}

// New is Open with a background context.
//
// Deprecated: use Open, which bounds the git commands of opening with ctx.
func New(cfg Config) (*Committer, error) { return Open(context.Background(), cfg) }

// Open finds the repository for cfg.Root/memory, or initialises one in
// memory/ (branch main) when memory/ is in no work tree that tracks it. It
// writes memory/.gitignore if missing or lacking a pattern and commits it,
// and removes git lock files that a crashed elfsync left (only those). ctx
// bounds the git commands this runs. It starts nothing: call Run.
func Open(ctx context.Context, cfg Config) (*Committer, error) {
	if !filepath.IsAbs(cfg.Root) {
		return nil, fmt.Errorf("committer: root %q is not absolute", cfg.Root)
	}
	if cfg.Quiet <= 0 {
		cfg.Quiet = DefaultQuiet
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if _, err := exec.LookPath("git"); err != nil {
		return nil, fmt.Errorf("committer: %w", err)
	}
	c := &Committer{
		cfg:     cfg,
		log:     cfg.Logger.With().Str("component", "committer").Logger(),
		memDir:  filepath.Join(cfg.Root, layout.MemoryDir),
		pending: map[string]time.Time{},
		kick:    make(chan struct{}, 1),
		busyMin: busyBackoffMin,
		busyMax: busyBackoffMax,
	}
	g := NewGit(c.memDir, GitOptions{})
	if cfg.ReadOnly {
		if _, err := os.Stat(c.memDir); err != nil {
			return nil, fmt.Errorf("committer: %w", err)
		}
	} else if err := os.MkdirAll(c.memDir, 0o755); err != nil {
		return nil, fmt.Errorf("committer: %w", err)
	}
	r, err := discover(ctx, g, c.memDir)
	if errors.Is(err, errNotRepo) {
		if cfg.ReadOnly {
			return nil, ErrNoRepository
		}
		if err := initRepo(ctx, g, c.memDir); err != nil {
			return nil, fmt.Errorf("committer: %w", err)
		}
		c.log.Info().Str("dir", c.memDir).Msg("initialised a git repository for memory/")
		r, err = discover(ctx, g, c.memDir)
	}
	if err != nil {
		return nil, fmt.Errorf("committer: %w", err)
	}
	c.repo = r
	c.git = g.At(r.top)
	if !cfg.ReadOnly {
		// A read-only committer makes no commits: no identity to find.
		c.identity = identityEnv(ctx, c.git)
	}
	c.lastErr = c.readState().LastError
	if cfg.ReadOnly {
		return c, nil
	}
	if len(c.identity) > 0 {
		c.log.Info().Str("author", fallbackName+" <"+fallbackEmail+">").
			Msg("git has no user.name/user.email; committing with a fallback identity")
	}
	cleanStaleLocks(r.gitDir, true, c.log)

	if _, err := ensureGitignore(c.memDir); err != nil {
		return nil, fmt.Errorf("committer: %w", err)
	}
	// Commit .gitignore alone, so that the first real commit does not pick
	// up index.db. A busy repository leaves it for Run or CommitAll.
	c.commitMu.Lock()
	res, subject, err := c.commit(ctx, r.prefix+".gitignore")
	c.commitMu.Unlock()
	switch {
	case err == nil:
		c.recordSuccess(res, subject)
	case errors.Is(err, ErrBusy):
		c.log.Info().Err(err).Msg("memory/.gitignore not committed yet; repository busy")
		c.Notify([]string{"memory/.gitignore"})
	default:
		c.recordError(err)
		c.Notify([]string{"memory/.gitignore"})
		c.log.Warn().Err(err).Msg("commit memory/.gitignore")
	}
	return c, nil
}

// Repo returns the top level of the work tree that holds memory/'s history.
func (c *Committer) Repo() string { return c.repo.top }

// Notify records root-relative slash paths ("memory/failures/x.md") that
// changed. It never blocks. Paths outside memory/ and editor noise are
// dropped; a commit holds everything under memory/ anyway, so the paths only
// trigger and name commits.
func (c *Committer) Notify(paths []string) {
	now := time.Now()
	added := false
	c.mu.Lock()
	for _, p := range paths {
		p = path.Clean(filepath.ToSlash(p))
		// "memory" itself means "something under memory/ changed": a full
		// scan found changes that no event named.
		if p != layout.MemoryDir {
			rel, ok := strings.CutPrefix(p, layout.MemoryDir+"/")
			if !ok || rel == "" || rel == "." {
				continue
			}
			if layout.Ignored(rel) && rel != ".gitignore" {
				continue
			}
		}
		if len(c.pending) == 0 {
			c.first = now
		}
		c.pending[p] = now
		added = true
	}
	if added {
		c.last = now
	}
	c.mu.Unlock()
	if added {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// Hold(true) says the caller still has changes to hand over: the indexer is
// behind a burst, so more notifications are coming. While held, paths that
// went quiet wait, and the commit starts when Hold(false) is called: git
// (about 0.3 ms of CPU per note) then does not compete with the indexer for
// the CPU, and commits the whole burst at once. MaxWait and MaxBatch still
// apply while held, and so does the final commit when Run stops. It never
// blocks.
func (c *Committer) Hold(held bool) {
	c.mu.Lock()
	changed := c.held != held
	c.held = held
	c.mu.Unlock()
	if changed && !held {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// takePending empties the pending set and returns what it held.
func (c *Committer) takePending() (map[string]time.Time, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	snap, first := c.pending, c.first
	c.pending = map[string]time.Time{}
	return snap, first
}

// restorePending puts back paths whose commit failed.
func (c *Committer) restorePending(snap map[string]time.Time, first time.Time) {
	if len(snap) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) == 0 || first.Before(c.first) {
		c.first = first
	}
	for p, t := range snap {
		if cur, ok := c.pending[p]; !ok || t.After(cur) {
			c.pending[p] = t
		}
	}
	if c.last.IsZero() {
		c.last = first
	}
}

// pendingInfo returns the pending count and its timing, and whether
// commits are held (Hold).
func (c *Committer) pendingInfo() (n int, first, last time.Time, held bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending), c.first, c.last, c.held
}

// settledSince returns the earliest last-notification time among pending
// paths: the path that has been quiet longest.
func (c *Committer) settledSince() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var oldest time.Time
	for _, t := range c.pending {
		if oldest.IsZero() || t.Before(oldest) {
			oldest = t
		}
	}
	return oldest
}

// commitPending commits everything under memory/ that differs from HEAD,
// once. Pending paths are cleared on success and kept on failure, and the
// outcome is persisted for Status.
func (c *Committer) commitPending(ctx context.Context) (Result, error) {
	if c.cfg.ReadOnly {
		return Result{}, ErrReadOnly
	}
	snap, first := c.takePending()
	c.commitMu.Lock()
	defer c.attempts.Add(1)
	start := time.Now()
	res, subject, err := c.commit(ctx, c.repo.spec())
	took := time.Since(start)
	if err == nil && c.recordSuccess(res, subject) {
		c.maintain(ctx)
	}
	c.commitMu.Unlock()
	if err != nil {
		c.restorePending(snap, first)
		if ctx.Err() == nil {
			c.recordError(err)
		}
		return Result{}, err
	}
	if res.Commit != "" {
		c.log.Info().Str("commit", ShortHash(res.Commit)).Str("subject", subject).
			Int("paths", len(res.Paths)).Float64("took_ms", ms(took)).Msg("committed")
		if c.cfg.OnCommit != nil {
			c.cfg.OnCommit()
		}
	}
	return res, nil
}

// Exclusive runs fn while no commit can start or is running. The remote
// sync holds it while it moves HEAD to a merge and brings the work tree
// along, so that no commit of a half-updated work tree undoes the merge.
func (c *Committer) Exclusive(fn func() error) error {
	c.commitMu.Lock()
	defer c.commitMu.Unlock()
	return fn()
}

// ShortHash returns the first 12 hex digits of a commit hash, the form
// elfsync prints.
func ShortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// Flush commits whatever differs under memory/ now and returns, without
// waiting for a busy repository (that returns an ErrBusy error). A hook for
// tests and for callers that need a commit point.
func (c *Committer) Flush(ctx context.Context) (Result, error) {
	return c.commitPending(ctx)
}

// CommitAll commits everything under memory/ that differs from HEAD now:
// what a crash left uncommitted, or what `elfsync scan` found. While the
// repository is busy it backs off and retries until ctx is done.
func (c *Committer) CommitAll(ctx context.Context) (Result, error) {
	w := c.newWaiter()
	for {
		res, err := c.commitPending(ctx)
		if err == nil && c.needRefresh.Load() {
			// Committed, but memory/ still looks staged in the index.
			if rerr := c.refreshIndexLocked(ctx); rerr != nil {
				err = rerr
			}
		}
		if err == nil {
			w.ok(c.log)
			return res, nil
		}
		if !errors.Is(err, ErrBusy) || ctx.Err() != nil {
			return Result{}, err
		}
		w.fail(err, c.log)
		t := time.NewTimer(time.Until(w.next))
		select {
		case <-ctx.Done():
			t.Stop()
			return Result{}, fmt.Errorf("%w (gave up: %v)", err, ctx.Err())
		case <-t.C:
		}
	}
}

// refreshIndexLocked runs refreshIndex under commitMu.
func (c *Committer) refreshIndexLocked(ctx context.Context) error {
	c.commitMu.Lock()
	defer c.commitMu.Unlock()
	return c.refreshIndex(ctx)
}

// Run commits pending paths in debounced batches until ctx is done: when
// some pending path has been quiet for Quiet (see Config.Quiet), when
// MaxWait passed since the first pending one, or at once when MaxBatch
// paths are pending. It starts
// with a commit of whatever differs from HEAD (what a crash left). While the
// repository is busy it backs off and keeps the paths pending. When ctx is
// done it makes a last commit (bounded to 30 s, without waiting for a busy
// repository) and returns nil.
func (c *Committer) Run(ctx context.Context) error {
	if c.cfg.ReadOnly {
		return ErrReadOnly
	}
	w := c.newWaiter()
	force := true // commit what differs at start, and after a refresh failed
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		var timerC <-chan time.Time
		if due, ok := c.nextDue(force, w); ok {
			timer.Reset(max(time.Until(due), 0))
			timerC = timer.C
		}
		select {
		case <-ctx.Done():
			c.shutdown(ctx, force)
			return nil
		case <-c.kick:
			timer.Stop()
		case <-timerC:
			_, err := c.commitPending(ctx)
			if err == nil && c.needRefresh.Load() {
				// The commit stands, but the index still needs its refresh;
				// retry on the busy schedule without recording an error.
				err = fmt.Errorf("%w: index refresh waits for index.lock", ErrBusy)
			}
			if err != nil {
				if ctx.Err() != nil {
					continue
				}
				w.fail(err, c.log)
				force = true
				continue
			}
			w.ok(c.log)
			force = false
		}
	}
}

// nextDue returns when the loop should next try to commit, or false when it
// should wait for a notification.
func (c *Committer) nextDue(force bool, w *waiter) (time.Time, bool) {
	if w.waiting() {
		return w.next, true
	}
	n, first, _, held := c.pendingInfo()
	now := time.Now()
	maxWait := first.Add(c.cfg.MaxWait)
	switch {
	case force:
		return now, true
	case n == 0:
		return time.Time{}, false
	case n >= c.cfg.MaxBatch:
		return now, true
	case held:
		// Hold(false) kicks the loop; MaxWait still bounds the wait.
		return maxWait, true
	}
	// Due when some pending path has been quiet for the quiet period.
	due := c.settledSince().Add(c.cfg.Quiet)
	if maxWait.Before(due) {
		due = maxWait
	}
	return due, true
}

// shutdown makes the final commit when Run stops.
func (c *Committer) shutdown(ctx context.Context, force bool) {
	n, _, _, _ := c.pendingInfo()
	if n == 0 && !force && !c.needRefresh.Load() {
		return
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownBudget)
	defer cancel()
	_, err := c.commitPending(fctx)
	switch {
	case err == nil:
	case errors.Is(err, ErrBusy):
		c.log.Warn().Err(err).Int("pending", n).
			Msg("repository busy at shutdown: paths stay uncommitted; the next start commits them")
	default:
		c.log.Error().Err(err).Int("pending", n).
			Msg("final commit failed: paths stay uncommitted; the next start commits them")
	}
}

// waiter is the backoff state of a loop that retries a commit. It logs once
// when a wait starts and once when it ends, not per try.
type waiter struct {
	min, max time.Duration
	backoff  time.Duration
	next     time.Time
	since    time.Time
	lastMsg  string
}

func (c *Committer) newWaiter() *waiter {
	return &waiter{min: c.busyMin, max: c.busyMax}
}

func (w *waiter) waiting() bool { return !w.since.IsZero() }

// fail schedules the next try after err: exponential backoff from min, capped
// at max while the repository is busy and at errorBackoffMax for other
// errors (a broken repository should not spawn git every 5 s).
func (w *waiter) fail(err error, log zerolog.Logger) {
	now := time.Now()
	busy := errors.Is(err, ErrBusy)
	limit := w.max
	if !busy {
		limit = max(errorBackoffMax, w.max)
	}
	if !w.waiting() {
		w.since = now
		w.backoff = w.min
		if busy {
			log.Warn().Err(err).Msg("waiting for git: paths stay pending until the repository is free")
		} else {
			log.Error().Err(err).Msg("commit failed: paths stay pending; retrying")
		}
	} else {
		w.backoff = min(w.backoff*2, limit)
		if !busy && err.Error() != w.lastMsg {
			log.Error().Err(err).Msg("commit failed: paths stay pending; retrying")
		}
	}
	w.lastMsg = err.Error()
	w.next = now.Add(w.backoff)
}

// ok ends a wait after a successful commit.
func (w *waiter) ok(log zerolog.Logger) {
	if w.waiting() {
		log.Info().Float64("waited_ms", ms(time.Since(w.since))).
			Msg("git repository free again; pending paths committed")
	}
	w.since, w.backoff, w.lastMsg = time.Time{}, 0, ""
}

// ms returns d in milliseconds with microsecond precision, for log fields
// whose name carries the unit ("took_ms").
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
