package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/committer"
	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/indexer"
	"github.com/emergent-learning/elfsync/remote"
	"github.com/emergent-learning/elfsync/watcher"
)

func cmdWatch(ctx context.Context, e *cmdEnv, args []string) error {
	fs, rootFlag := e.newFlagSet("watch", "[flags]", `
Run the background service for one root: a full scan, then watch memory/
and index every change within a fraction of a second, committing to git in
debounced batches. A full scan runs again on a jittered timer, when events
were lost (inotify overflow, a watch error, the watch limit) and on SIGHUP.
SIGINT or SIGTERM flushes pending work and exits 0; a second one exits at
once. One instance per root: a second one exits with an error naming the
running pid.`)
	var lf logFlags
	lf.register(fs)
	var gf gitFlags
	gf.register(fs, true)
	interval := fs.Duration("scan-interval", 10*time.Minute, "full rescan every this long (±10% jitter); 0 turns the timer off")
	settle := fs.Duration("settle", 25*time.Millisecond, "a path is indexed once it saw no event for this long")
	maxSize := fs.Int64("max-size", frontmatter.DefaultMaxSize, "largest record file indexed, in bytes; larger ones are tracked as invalid")
	var rf remoteFlags
	rf.register(fs, true)
	root, err := e.parseRoot(fs, args, rootFlag)
	if err != nil {
		return err
	}
	log, err := lf.logger(e.stderr)
	if err != nil {
		return err
	}
	lock, err := acquireInstance(root)
	if err != nil {
		return err
	}
	defer lock.release()

	ctx, hup, stop := signalContext(ctx, e.stderr)
	defer stop()

	ix, err := indexer.Open(ctx, indexer.Options{Root: root, MaxSize: *maxSize, Logger: log})
	if err != nil {
		return err
	}
	defer ix.Close()
	var cm *committer.Committer
	var rs *remote.Syncer
	if rf.name != "" {
		if gf.noGit {
			return &exitError{Code: 2, Err: fmt.Errorf("--remote needs git; drop --no-git")}
		}
		// Push soon after each batch commit. rs is set before the
		// committer's loop starts, which is the only caller.
		gf.onCommit = func() { rs.Kick() }
	}
	if !gf.noGit {
		cm, err = gf.committer(root, log, func(p string) string { return ix.Title(context.Background(), p) })
		if err != nil {
			return err
		}
	}
	if rf.name != "" {
		if rs, err = rf.open(ctx, root, *maxSize, cm, log); err != nil {
			return err
		}
	}
	s := &service{
		log:      log.With().Str("component", "service").Logger(),
		ix:       ix,
		cm:       cm,
		interval: *interval,
		watcher: watcher.New(watcher.Config{
			Dir:    ix.MemoryDir(),
			Settle: *settle,
			Logger: log,
		}),
	}
	s.log.Info().Str("root", root).Int("pid", os.Getpid()).Bool("git", cm != nil).Msg("elfsync watch starting")
	stopSync := startSync(ctx, rs)
	err = s.run(ctx, hup)
	stopSync()
	if err != nil {
		return err
	}
	s.log.Info().Msg("stopped cleanly")
	return nil
}

// startSync runs the remote sync loop (nil rs: none) beside the service,
// under ctx. The returned func stops it and, after the service's final
// commit, pushes once more (bounded, and merging nothing: nothing would
// index what a merge brought), so a clean stop leaves the remote in step
// when it can.
func startSync(ctx context.Context, rs *remote.Syncer) func() {
	if rs == nil {
		return func() {}
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = rs.Run(sctx)
	}()
	return func() {
		cancel()
		<-done
		fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer fcancel()
		_ = rs.Push(fctx)
	}
}

// service ties the watcher, the indexer and the committer together. Its
// run loop is the one goroutine that calls the indexer.
type service struct {
	log      zerolog.Logger
	ix       *indexer.Index
	cm       *committer.Committer // nil with --no-git
	watcher  *watcher.Watcher
	interval time.Duration
}

// retryScan is how soon a failed index update is retried with a full scan.
const retryScan = 5 * time.Second

func (s *service) run(ctx context.Context, hup <-chan os.Signal) error {
	batches := make(chan watcher.Batch, 16)
	werr := make(chan error, 1)
	go func() { werr <- s.watcher.Run(ctx, batches) }()
	// Watches first, then the scan: whatever lands in between is seen by
	// one or the other.
	select {
	case <-s.watcher.Ready():
	case err := <-werr:
		if err == nil {
			return nil
		}
		return fmt.Errorf("watch %s: %w", s.ix.MemoryDir(), err)
	case <-ctx.Done():
		return nil
	}
	cdone := make(chan error, 1)
	if s.cm != nil {
		go func() { cdone <- s.cm.Run(ctx) }()
		// Commit whatever a crash or a stopped watcher left uncommitted.
		s.cm.Notify([]string{indexer.MemoryDir + "/"})
	} else {
		close(cdone)
	}

	timer := time.NewTimer(s.nextScan())
	defer timer.Stop()
	s.fullScan(ctx, "startup", timer)
	for {
		select {
		case <-ctx.Done():
			return s.shutdown(cdone)
		case b := <-batches:
			if b.Rescan {
				s.fullScan(ctx, b.Reason, timer)
				continue
			}
			s.sync(ctx, b.Paths, timer)
		case <-timer.C:
			s.fullScan(ctx, "timer", timer)
		case <-hup:
			s.fullScan(ctx, "SIGHUP", timer)
		case err := <-werr:
			if ctx.Err() != nil {
				return s.shutdown(cdone)
			}
			s.log.Error().Err(err).Msg("watcher stopped")
			// Flush what we have, then report the failure.
			_ = s.shutdown(cdone)
			return fmt.Errorf("watch %s: %w", s.ix.MemoryDir(), err)
		}
	}
}

// nextScan returns the time to the next timed full scan, jittered by ±10%
// so many watchers started together do not scan together.
func (s *service) nextScan() time.Duration {
	if s.interval <= 0 {
		return time.Duration(1<<63 - 1)
	}
	j := time.Duration(rand.Int64N(int64(s.interval)/5+1)) - s.interval/10
	return s.interval + j
}

func (s *service) sync(ctx context.Context, paths []string, timer *time.Timer) {
	res, err := s.ix.Sync(ctx, paths)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		s.log.Error().Err(err).Int("paths", len(paths)).Msg("index update failed; retrying with a full scan")
		resetTimer(timer, retryScan)
		return
	}
	s.logResult("sync", res, len(paths))
	if s.cm != nil {
		rel := make([]string, len(paths))
		for i, p := range paths {
			rel[i] = indexer.MemoryDir + "/" + p
		}
		s.cm.Notify(rel)
	}
}

func (s *service) fullScan(ctx context.Context, reason string, timer *time.Timer) {
	start := time.Now()
	res, err := s.ix.Scan(ctx, nil)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		s.log.Error().Err(err).Str("reason", reason).Msg("full scan failed; retrying")
		resetTimer(timer, retryScan)
		return
	}
	resetTimer(timer, s.nextScan())
	s.log.Info().Str("reason", reason).Int("added", res.Added).Int("updated", res.Updated).
		Int("removed", res.Removed).Int("unchanged", res.Unchanged).Int("invalid", len(res.Errors)).
		Bool("rebuilt", res.Rebuilt).Dur("took", time.Since(start)).Msg("full scan")
	for _, fe := range res.Errors {
		s.log.Warn().Str("path", fe.Path).Str("error", fe.Error).Msg("invalid file: tracked and committed, not indexed")
	}
	if s.cm != nil && (res.Added+res.Updated+res.Removed+res.Invalid > 0 || res.Rebuilt) {
		s.cm.Notify([]string{indexer.MemoryDir + "/"})
	}
}

func (s *service) logResult(what string, res indexer.Result, n int) {
	ev := s.log.Debug()
	if res.Rebuilt {
		ev = s.log.Warn()
	}
	ev.Str("op", what).Int("paths", n).Int("added", res.Added).Int("updated", res.Updated).
		Int("removed", res.Removed).Int("invalid", res.Invalid).Bool("rebuilt", res.Rebuilt).Msg("indexed")
	for _, fe := range res.Errors {
		s.log.Warn().Str("path", fe.Path).Str("error", fe.Error).Msg("invalid file: tracked and committed, not indexed")
	}
}

// shutdown runs a last full scan, so paths the watcher had not settled yet
// are indexed, then waits for the committer's final flush.
func (s *service) shutdown(cdone <-chan error) error {
	s.log.Info().Msg("stopping: flushing pending work")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if res, err := s.ix.Scan(ctx, nil); err != nil {
		s.log.Error().Err(err).Msg("final scan failed; the next start repairs it")
	} else {
		s.logResult("final scan", res, 0)
	}
	if err := <-cdone; err != nil {
		s.log.Error().Err(err).Msg("final commit failed; the next start commits what is left")
	}
	return nil
}

func resetTimer(t *time.Timer, d time.Duration) {
	t.Stop()
	t.Reset(d)
}
