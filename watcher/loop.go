package watcher

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/emergent-learning/elfsync/layout"
	"github.com/fsnotify/fsnotify"
	"github.com/rs/zerolog"
)

// closedChan is always ready to receive. The loop selects on it while it has
// directories to walk, so walking one directory is one step of the loop and
// events keep being read in between (a burst into a new tree must not stall
// fsnotify's reader), with select's random choice sharing the time fairly.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// errorLogEvery rate-limits Warn logs for repeated fsnotify errors such as
// overflows during a storm; the rest go to Debug.
const errorLogEvery = time.Minute

// walkItem is a directory still to be watched and listed.
type walkItem struct {
	rel string
	// mark says whether the directory and everything found under it are
	// reported dirty. It is false for the initial walk and for retries,
	// which are followed by the caller's full scan anyway.
	mark bool
}

// dirtyTimes records when a dirty path first and last had an event.
type dirtyTimes struct {
	first, last time.Time
}

// loop holds all state of one Run. Only the goroutine running loop.run
// touches it.
type loop struct {
	w      *Watcher
	log    zerolog.Logger
	dir    string // absolute memory folder
	prefix string // dir + separator, to cut event names down to rel paths
	out    chan<- Batch

	fw     *fsnotify.Watcher // nil while no watcher could be created
	events <-chan fsnotify.Event
	errs   <-chan error

	watched map[string]struct{} // directories with a watch, by rel path ("" is the root)
	missing map[string]struct{} // directories refused a watch by an OS limit
	walkq   []walkItem          // directories to watch, then list (a stack)

	started  bool // the initial walk finished and Ready is closed
	retrying bool // a retry's walk is in progress

	dirty    map[string]dirtyTimes
	settle   *time.Timer
	settleAt time.Time // when settle fires; zero when it is stopped

	retry      *time.Timer
	retryArmed bool

	outq   []Batch             // batches the consumer has not taken yet
	queued map[string]struct{} // paths in outq, so a path is queued once
	rescan string              // reason of a Rescan to queue once the walk is done

	lastErrLog time.Time
}

func newLoop(w *Watcher, dir string, out chan<- Batch) *loop {
	l := &loop{
		w:       w,
		log:     w.log,
		dir:     dir,
		prefix:  dir + string(filepath.Separator),
		out:     out,
		watched: make(map[string]struct{}),
		missing: make(map[string]struct{}),
		dirty:   make(map[string]dirtyTimes),
		queued:  make(map[string]struct{}),
		settle:  time.NewTimer(time.Hour),
		retry:   time.NewTimer(time.Hour),
	}
	// Since Go 1.23 a stopped timer delivers nothing stale, so both timers
	// can simply be Reset later.
	l.settle.Stop()
	l.retry.Stop()
	return l
}

func (l *loop) setNotify(fw *fsnotify.Watcher) {
	l.fw = fw
	l.events = fw.Events
	l.errs = fw.Errors
}

func (l *loop) close() {
	l.settle.Stop()
	l.retry.Stop()
	if l.fw != nil {
		if err := l.fw.Close(); err != nil {
			l.log.Debug().Err(err).Msg("close fsnotify watcher")
		}
	}
}

// run is the loop: one select over everything that can happen. It never
// blocks on anything but that select, so ctx always ends it promptly.
func (l *loop) run(ctx context.Context) error {
	if len(l.walkq) == 0 {
		l.walkDone() // nothing to walk (no watcher could be created)
	}
	for {
		// The consumer is offered the oldest batch while there is one; the
		// loop keeps reading events meanwhile, so a slow consumer makes
		// batches bigger rather than stalling fsnotify.
		var sendC chan<- Batch
		var head Batch
		if len(l.outq) > 0 {
			sendC, head = l.out, l.outq[0]
		}
		var walkC <-chan struct{}
		if len(l.walkq) > 0 {
			walkC = closedChan
		}

		var err error
		select {
		case <-ctx.Done():
			l.drain()
			return nil
		case ev, ok := <-l.events:
			if !ok {
				return l.closedErr(ctx)
			}
			err = l.handleEvent(ev)
		case e, ok := <-l.errs:
			if !ok {
				return l.closedErr(ctx)
			}
			l.handleError(e)
		case e := <-l.w.injectErr:
			l.handleError(e)
		case <-walkC:
			err = l.walkOne()
		case <-l.settle.C:
			l.settleAt = time.Time{}
			l.flushSettled(time.Now())
		case <-l.retry.C:
			l.retryArmed = false
			l.startRetry()
		case sendC <- head:
			l.sent()
		}
		if err != nil {
			return err
		}
		if len(l.walkq) == 0 {
			l.walkDone()
		}
		if l.w.onWake != nil {
			l.w.onWake(l.stats())
		}
	}
}

func (l *loop) closedErr(ctx context.Context) error {
	if ctx.Err() != nil {
		return nil
	}
	return ErrWatcherClosed
}

// loopStats is a snapshot of the loop's state for tests.
type loopStats struct {
	dirty  int  // paths waiting to settle
	queued int  // batches waiting for the consumer
	paths  int  // paths in those batches
	walk   int  // directories waiting to be walked
	idle   bool // nothing pending and no timer armed: the loop sleeps until an event
}

func (l *loop) stats() loopStats {
	return loopStats{
		dirty:  len(l.dirty),
		queued: len(l.outq),
		paths:  len(l.queued),
		walk:   len(l.walkq),
		idle: len(l.dirty) == 0 && len(l.outq) == 0 && len(l.walkq) == 0 &&
			l.settleAt.IsZero() && !l.retryArmed && l.rescan == "",
	}
}

// rel turns an event name into a memory-relative slash path. ok is false
// for names outside the folder.
func (l *loop) rel(name string) (rel string, ok bool) {
	if name == l.dir {
		return "", true
	}
	r, ok := strings.CutPrefix(name, l.prefix)
	if !ok {
		return "", false
	}
	return filepath.ToSlash(r), true
}

func (l *loop) abs(rel string) string {
	if rel == "" {
		return l.dir
	}
	return filepath.Join(l.dir, filepath.FromSlash(rel))
}

func (l *loop) handleEvent(ev fsnotify.Event) error {
	// On Linux a delete sends Chmod first, and editors chmod constantly;
	// a permission change alone changes nothing elfsync stores.
	if ev.Op == 0 || ev.Op == fsnotify.Chmod {
		return nil
	}
	rel, ok := l.rel(ev.Name)
	if !ok {
		return nil
	}
	if rel == "" {
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			return fmt.Errorf("watch %s: %w", l.dir, ErrRootGone)
		}
		return nil
	}
	if layout.Ignored(rel) {
		if l.w.cfg.IndexWritten != nil && (rel == layout.IndexFile || rel == layout.IndexFile+"-wal") &&
			(ev.Has(fsnotify.Write) || ev.Has(fsnotify.Create)) {
			l.w.cfg.IndexWritten()
		}
		return nil
	}
	if l.log.GetLevel() <= zerolog.TraceLevel {
		l.log.Trace().Str("op", ev.Op.String()).Str("path", rel).Msg("event")
	}
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		l.vanished(rel)
	}
	if ev.Has(fsnotify.Create) {
		l.created(rel)
	} else if ev.Has(fsnotify.Write) {
		l.markDirty(rel)
	}
	return nil
}

// vanished handles a Remove or Rename of rel. The path is reported (the
// consumer sees from the disk whether it is gone), and if it was a watched
// directory its subtree's watches are dropped. fsnotify cannot follow a
// directory rename (the new name arrives as a separate Create that is
// walked afresh), and leaving the old watches would report later events
// under stale paths, or, if the Create is handled first, let fsnotify's own
// cleanup of the moved watch remove the new one.
func (l *loop) vanished(rel string) {
	l.markDirty(rel)
	_, w := l.watched[rel]
	_, m := l.missing[rel]
	if !w && !m {
		return
	}
	sub := rel + "/"
	for p := range l.watched {
		if p == rel || strings.HasPrefix(p, sub) {
			delete(l.watched, p)
			if l.fw != nil {
				// ErrNonExistentWatch is expected: the kernel drops the
				// watch of a deleted directory by itself.
				_ = l.fw.Remove(l.abs(p))
			}
		}
	}
	for p := range l.missing {
		if p == rel || strings.HasPrefix(p, sub) {
			delete(l.missing, p)
		}
	}
	l.log.Debug().Str("dir", rel).Msg("directory gone; watches dropped")
}

// created handles a Create of rel: a directory is queued to be watched and
// walked, anything else is dirty. Symlinks are never followed.
func (l *loop) created(rel string) {
	fi, err := os.Lstat(l.abs(rel))
	if err == nil && fi.IsDir() {
		l.push(walkItem{rel: rel, mark: true})
		return
	}
	l.markDirty(rel)
}

func (l *loop) push(it walkItem) { l.walkq = append(l.walkq, it) }

// walkOne takes one directory off the walk stack, adds its watch, and only
// then lists it: a file created before the watch existed is found by the
// listing, one created after produces an event.
func (l *loop) walkOne() error {
	it := l.walkq[len(l.walkq)-1]
	l.walkq = l.walkq[:len(l.walkq)-1]
	abs := l.abs(it.rel)

	fi, err := os.Lstat(abs)
	if err != nil || !fi.IsDir() {
		if it.rel == "" {
			if err == nil {
				err = errors.New("not a directory")
			}
			return fmt.Errorf("watch %s: %w: %w", abs, ErrRootGone, err)
		}
		if it.mark {
			l.markDirty(it.rel)
		}
		return nil
	}
	if it.mark {
		l.markDirty(it.rel)
	}
	if _, ok := l.watched[it.rel]; !ok && l.fw != nil {
		if err := l.w.addWatch(l.fw, abs); err != nil {
			if !l.addFailed(it.rel, err) {
				return nil
			}
		} else {
			l.watched[it.rel] = struct{}{}
			delete(l.missing, it.rel)
		}
	}

	entries, err := os.ReadDir(abs)
	if err != nil {
		if it.rel == "" && !l.started {
			return fmt.Errorf("read %s: %w", abs, err)
		}
		// The directory vanished or cannot be read; its parent's event or
		// the next scan covers it. ReadDir may still return some entries.
		l.log.Debug().Err(err).Str("dir", it.rel).Msg("list directory")
	}
	for _, e := range entries {
		name := e.Name()
		if layout.Ignored(name) {
			continue
		}
		rel := name
		if it.rel != "" {
			rel = it.rel + "/" + name
		}
		switch {
		case e.IsDir(): // a symlink to a directory is not IsDir: not followed
			l.push(walkItem{rel: rel, mark: it.mark})
		case it.mark:
			l.markDirty(rel)
		}
	}
	return nil
}

// addFailed classifies a failure to watch rel and reports whether the
// directory should still be listed.
func (l *loop) addFailed(rel string, err error) bool {
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		// Gone (or replaced) since it was seen; its parent's event reports it.
		return false
	case isWatchLimit(err):
		l.missing[rel] = struct{}{}
		l.enterDegraded(watchLimitMsg, err)
		return true
	default:
		l.log.Warn().Err(err).Str("dir", rel).
			Msg("cannot watch directory; changes in it are seen by the next full scan")
		l.requestRescan("watch error: " + err.Error())
		return true
	}
}

// enterDegraded starts a degraded episode: one Warn with the fix, one
// Rescan once the current walk is done, then retries every RetryEvery.
func (l *loop) enterDegraded(msg string, err error) {
	if l.w.degraded.Swap(true) {
		return
	}
	l.log.Warn().Err(err).Str("retry_every", l.w.cfg.RetryEvery.String()).Msg(msg)
	l.requestRescan("watch limit")
}

// startRetry tries again to create the watcher and to watch the directories
// that were refused. The outcome is judged in walkDone, once the retry's
// walk is finished.
func (l *loop) startRetry() {
	l.retrying = true
	if l.fw == nil {
		fw, err := l.w.newNotify()
		if err != nil {
			l.log.Debug().Err(err).Msg("retry: create watcher")
			return
		}
		l.setNotify(fw)
		l.push(walkItem{rel: ""})
		return
	}
	for rel := range l.missing {
		l.push(walkItem{rel: rel})
	}
	clear(l.missing)
}

// walkDone runs whenever the walk stack is empty: it closes Ready after the
// initial walk, concludes a retry, arms the retry timer while degraded, and
// queues a pending Rescan now that the watches it depends on are in place.
func (l *loop) walkDone() {
	if !l.started {
		l.started = true
		close(l.w.ready)
		l.log.Info().Int("dirs", len(l.watched)).Bool("degraded", l.w.Degraded()).Msg("watching")
	}
	if l.retrying {
		l.retrying = false
		if l.fw != nil && len(l.missing) == 0 {
			l.w.degraded.Store(false)
			l.log.Info().Int("dirs", len(l.watched)).Msg("limit no longer hit: all directories are watched again")
		}
		// Either way events may have been missed since the last scan.
		l.requestRescan("retry")
	}
	if l.w.degraded.Load() && !l.retryArmed {
		l.retryArmed = true
		l.retry.Reset(l.w.cfg.RetryEvery)
	}
	if l.rescan != "" {
		l.queueRescan(l.rescan)
		l.rescan = ""
	}
}

func (l *loop) handleError(err error) {
	reason := "overflow"
	if !errors.Is(err, fsnotify.ErrEventOverflow) {
		reason = "watch error: " + err.Error()
	}
	now := time.Now()
	if now.Sub(l.lastErrLog) >= errorLogEvery {
		l.lastErrLog = now
		l.log.Warn().Err(err).Msg("events may have been lost; requesting a full scan")
	} else {
		l.log.Debug().Err(err).Msg("events may have been lost; requesting a full scan")
	}
	l.requestRescan(reason)
}

// requestRescan asks for a Rescan batch. It is queued when no directory
// walk is pending, so the consumer's scan starts after the watches exist.
func (l *loop) requestRescan(reason string) {
	if l.rescan == "" {
		l.rescan = reason
	}
}

// markDirty records an event for rel and makes sure the settle timer fires
// no later than rel's deadline. A path already dirty keeps its earlier
// timer: its deadline only moves later, and an early firing just re-arms.
func (l *loop) markDirty(rel string) {
	now := time.Now()
	if d, ok := l.dirty[rel]; ok {
		d.last = now
		l.dirty[rel] = d
		return
	}
	l.dirty[rel] = dirtyTimes{first: now, last: now}
	if len(l.dirty)+len(l.queued) > l.w.cfg.MaxTracked {
		l.collapse()
		return
	}
	l.armSettle(now.Add(l.w.cfg.Settle))
}

// collapse forgets every tracked path and asks for a full scan instead,
// once more than MaxTracked paths are dirty or queued: past that point a
// scan is cheaper than the paths one by one, and the watcher's memory stays
// bounded however large the burst (Syncthing caps its tracked paths the
// same way). The Rescan is queued once the current walk is done; the
// consumer's scan, run after it takes the batch, covers every change made
// before.
func (l *loop) collapse() {
	n := len(l.dirty) + len(l.queued)
	clear(l.dirty)
	clear(l.queued)
	l.settle.Stop()
	l.settleAt = time.Time{}
	kept := l.outq[:0]
	for _, b := range l.outq {
		if b.Rescan {
			kept = append(kept, b)
		}
	}
	clear(l.outq[len(kept):])
	l.outq = kept
	if len(l.outq) == 0 {
		l.outq = nil
	}
	l.log.Info().Int("paths", n).Int("max_tracked", l.w.cfg.MaxTracked).
		Msg("too many changed paths to track one by one; a full scan covers them")
	l.requestRescan("too many changes")
}

func (l *loop) armSettle(at time.Time) {
	if !l.settleAt.IsZero() && !at.Before(l.settleAt) {
		return
	}
	l.settleAt = at
	l.settle.Reset(time.Until(at))
}

// flushSettled moves every path that is due (quiet for Settle, or dirty for
// MaxDelay) to the outgoing queue and re-arms the timer for the next one.
// When nothing is left dirty the timer stays stopped: idle means idle.
func (l *loop) flushSettled(now time.Time) {
	var ready []string
	var next time.Time
	for p, d := range l.dirty {
		due := d.last.Add(l.w.cfg.Settle)
		if m := d.first.Add(l.w.cfg.MaxDelay); m.Before(due) {
			due = m
		}
		if !due.After(now) {
			ready = append(ready, p)
			delete(l.dirty, p)
		} else if next.IsZero() || due.Before(next) {
			next = due
		}
	}
	if !next.IsZero() {
		l.armSettle(next)
	}
	if len(ready) == 0 {
		return
	}
	slices.Sort(ready)
	l.queuePaths(ready)
}

// queuePaths appends paths to the outgoing queue, filling the newest batch
// up to MaxBatch. A path already waiting in the queue is skipped: the
// consumer reads the disk when it takes the batch, so it sees the newer
// state anyway.
func (l *loop) queuePaths(paths []string) {
	max := l.w.cfg.MaxBatch
	// The newest batch may already hold paths of an earlier flush: keep it
	// sorted once this one is added (batches started here are filled from
	// the sorted paths, so they are sorted already).
	open := len(l.outq) - 1
	if open >= 0 {
		defer func() { slices.Sort(l.outq[open].Paths) }()
	}
	for _, p := range paths {
		if _, ok := l.queued[p]; ok {
			continue
		}
		l.queued[p] = struct{}{}
		n := len(l.outq)
		if n == 0 || l.outq[n-1].Rescan || len(l.outq[n-1].Paths) >= max {
			l.outq = append(l.outq, Batch{Paths: make([]string, 0, min(max, len(paths)))})
			n++
		}
		l.outq[n-1].Paths = append(l.outq[n-1].Paths, p)
	}
}

// queueRescan queues a Rescan batch unless one is already waiting: the
// consumer's scan happens after it takes the batch, which covers every
// request made before.
func (l *loop) queueRescan(reason string) {
	for _, b := range l.outq {
		if b.Rescan {
			return
		}
	}
	l.log.Debug().Str("reason", reason).Msg("rescan requested")
	l.outq = append(l.outq, Batch{Rescan: true, Reason: reason})
}

// sent drops the batch the consumer just took.
func (l *loop) sent() {
	for _, p := range l.outq[0].Paths {
		delete(l.queued, p)
	}
	l.outq[0] = Batch{}
	l.outq = l.outq[1:]
	if len(l.outq) == 0 {
		l.outq = nil
	}
}

// drain runs when Run is stopped: it takes the events fsnotify has already
// read, without waiting for more, so that remaining (Watcher.Rest) holds
// them with the queued batches, the paths not yet settled and the
// directories not yet walked. The consumer indexes them as its last batch, so a note written
// just before a stop signal is not left for the next start (PITFALLS.md: "a
// signal right after a write").
func (l *loop) drain() {
	for n := 0; n < eventBuffer; n++ {
		select {
		case ev, ok := <-l.events:
			if !ok {
				n = eventBuffer
				break
			}
			if err := l.handleEvent(ev); err != nil {
				l.requestRescan("stopped: " + err.Error())
			}
			continue
		default:
		}
		break
	}
}

// remaining returns what the loop holds as one Batch: every queued or dirty
// path and every directory still to walk, sorted; Rescan when a full scan
// was asked for or the initial walk never finished.
func (l *loop) remaining() Batch {
	rest := Batch{Rescan: l.rescan != "" || !l.started}
	seen := make(map[string]struct{}, len(l.queued)+len(l.dirty)+len(l.walkq))
	add := func(p string) {
		if _, ok := seen[p]; !ok && p != "" {
			seen[p] = struct{}{}
			rest.Paths = append(rest.Paths, p)
		}
	}
	for _, b := range l.outq {
		if b.Rescan {
			rest.Rescan = true
			rest.Reason = b.Reason
		}
		for _, p := range b.Paths {
			add(p)
		}
	}
	for p := range l.dirty {
		add(p)
	}
	for _, it := range l.walkq {
		if it.mark {
			add(it.rel) // a directory stands for its subtree
		}
	}
	slices.Sort(rest.Paths)
	if rest.Rescan && rest.Reason == "" {
		rest.Reason = "stopped before the watch was complete"
		if l.rescan != "" {
			rest.Reason = l.rescan
		}
	}
	return rest
}
