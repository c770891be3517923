package main

import (
	"context"
	"os"
	"time"

	"github.com/emergent-learning/elfsync/agent"
	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/instance"
	"github.com/emergent-learning/elfsync/remote"
	"github.com/emergent-learning/elfsync/watcher"
	"github.com/emergent-learning/elfsync/writeback"
)

// writebackPoll is how often write-back looks for foreign database writes
// when no WAL event woke it (a file system without events): well within
// the contract's second. An idle watcher polling every 50 ms spent 0.6-0.9%
// of a core.
const writebackPoll = 500 * time.Millisecond

func cmdWatch(ctx context.Context, e *cmdEnv, args []string) error {
	fs, rootFlag := e.newFlagSet("watch", "[flags]")
	var gf gitFlags
	gf.register(fs, true)
	interval := fs.Duration("scan-interval", 10*time.Minute, "full rescan every this long (±10% jitter); 0 turns the timer off")
	settle := fs.Duration("settle", 25*time.Millisecond, "a path is indexed once it saw no event for this long")
	maxSize := fs.Int64("max-size", frontmatter.DefaultMaxSize, "largest record file indexed, in bytes; larger ones are tracked as invalid")
	var rf remoteFlags
	rf.register(fs, true)
	root, log, err := e.parseService(fs, args, rootFlag)
	if err != nil {
		return err
	}
	lock, err := instance.Acquire(root)
	if err != nil {
		return err
	}
	defer lock.Release()
	gf.ownsLock = true
	// What `elfsync status` may count as pending rather than drift: a
	// change is indexed within the settle time and the watcher's longest
	// delay, committed within the quiet period or --max-wait; the margins
	// cover the work itself.
	state := instance.State{
		IndexDeadline:  *settle + watcher.DefaultMaxDelay + 2*time.Second,
		CommitDeadline: gf.quiet + gf.maxWait + 5*time.Second,
	}
	publish := func(scanning bool) {
		state.Scanning = scanning
		if err := lock.Publish(state); err != nil {
			log.Warn().Err(err).Msg("publish state for elfsync status")
		}
	}
	publish(true) // starting up counts as a scan

	ctx, rescan, stop := signalContext(ctx, e.stderr)
	defer stop()

	ix, err := openIndex(ctx, root, *maxSize, log)
	if err != nil {
		return err
	}
	defer ix.Close()
	var wb *writeback.Loop // write-back, made below once the committer is known
	cfg := agent.Config{
		Index: ix,
		Watcher: watcher.New(watcher.Config{
			Dir:    ix.MemoryDir(),
			Settle: *settle,
			Logger: log,
			// A write to the index's WAL, by any process, wakes
			// write-back at once; its own poll is only the fallback.
			IndexWritten: func() { wb.Kick() },
		}),
		ScanInterval: *interval,
		Rescan:       rescan,
		OnScan:       publish,
		Logger:       log,
	}
	var rs *remote.Syncer
	if rf.name != "" {
		if gf.noGit {
			return usagef("--remote needs git; drop --no-git")
		}
		// Push soon after each batch commit. rs is set before the
		// committer's loop starts, which is the only caller.
		gf.onCommit = func() { rs.Kick() }
	}
	if !gf.noGit {
		cm, err := gf.open(ctx, root, log, ix)
		if err != nil {
			return err
		}
		cfg.Committer = cm
		if rf.name != "" {
			if rs, err = rf.open(ctx, root, *maxSize, cm, log); err != nil {
				if ctx.Err() != nil {
					return nil // SIGINT or SIGTERM during start-up: a clean stop
				}
				return err
			}
			// A follower: it syncs from the startup scan on, and pushes
			// once more after the committer's final commit.
			cfg.Followers = append(cfg.Followers, rs)
		}
	}
	// Direct database writes of the framework's tools into the files: a
	// producer, stopped first, so what it wrote is indexed and committed.
	var notify func([]string)
	if cfg.Committer != nil {
		notify = cfg.Committer.Notify
	}
	wb = writeback.New(ix, notify, log, writebackPoll)
	cfg.Producers = append(cfg.Producers, wb)
	a, err := agent.New(cfg)
	if err != nil {
		return err
	}
	log.Info().Str("root", root).Int("pid", os.Getpid()).Bool("git", cfg.Committer != nil).Msg("elfsync watch starting")
	if err := a.Run(ctx); err != nil {
		return err
	}
	log.Info().Msg("stopped cleanly")
	return nil
}
