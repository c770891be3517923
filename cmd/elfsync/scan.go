package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/agent"
	"github.com/emergent-learning/elfsync/committer"
	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/indexer"
	"github.com/emergent-learning/elfsync/instance"
	"github.com/emergent-learning/elfsync/remote"
)

// gitFlags are the committer settings shared by scan and watch.
type gitFlags struct {
	noGit    bool
	quiet    time.Duration
	maxWait  time.Duration
	maxBatch int
	gitWait  time.Duration
	// onCommit, optional, is called after each commit (watch --remote
	// pushes soon after a batch).
	onCommit func()
	// ownsLock is set by commands that hold the root's instance lock
	// (watch, sync): a sync journal then is a crashed run's, never a
	// running watcher's.
	ownsLock bool
}

func (g *gitFlags) register(fs *flag.FlagSet, long bool) {
	fs.BoolVar(&g.noGit, "no-git", false, "only index; never run git")
	if long {
		fs.DurationVar(&g.quiet, "quiet", 2*time.Second, "commit once no file changed for this long")
		fs.DurationVar(&g.maxWait, "max-wait", 30*time.Second, "commit at the latest this long after the first pending change")
		fs.IntVar(&g.maxBatch, "max-batch", 5000, "commit at once when this many paths are pending")
	} else {
		fs.DurationVar(&g.gitWait, "git-wait", time.Minute, "how long to wait for another git process's lock before giving up")
	}
}

// committer opens the committer the flags ask for; describe names a
// root-relative path in commit messages (the index's title).
func (g *gitFlags) committer(ctx context.Context, root string, log zerolog.Logger, describe func(context.Context, string) string) (*committer.Committer, error) {
	cm, err := committer.Open(ctx, committer.Config{
		Root:     root,
		Quiet:    g.quiet,
		MaxWait:  g.maxWait,
		MaxBatch: g.maxBatch,
		Logger:   log,
		Describe: func(p string) string { return describe(context.Background(), p) },
		OnCommit: g.onCommit,
	})
	if err != nil {
		return nil, err
	}
	// A merge from a remote that a crash left half-landed is finished
	// before anything commits the work tree, which would undo it; beside
	// another process's watcher a journal is its syncer's, mid-merge.
	if g.ownsLock || !instance.Read(root).Running {
		if err := remote.FinishInterrupted(ctx, root, log); err != nil {
			return nil, err
		}
	}
	return cm, nil
}

func cmdScan(ctx context.Context, e *cmdEnv, args []string) error {
	fs, rootFlag := e.newFlagSet("scan", "[flags]")
	var lf logFlags
	lf.register(fs)
	var gf gitFlags
	gf.register(fs, false)
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	maxSize := fs.Int64("max-size", frontmatter.DefaultMaxSize, "largest record file indexed, in bytes; larger ones are tracked as invalid")
	root, err := e.parseRoot(fs, args, rootFlag)
	if err != nil {
		return err
	}
	log, err := lf.logger(e.stderr)
	if err != nil {
		return err
	}
	start := time.Now()
	ix, err := openIndex(ctx, root, *maxSize, log)
	if err != nil {
		return err
	}
	defer ix.Close()

	var progress indexer.Progress
	if !*asJSON && isTerminal(e.stderr) {
		progress = func(done, total int) {
			fmt.Fprintf(e.stderr, "\rindexing %d/%d", done, total)
			if done == total {
				fmt.Fprint(e.stderr, "\r\033[K")
			}
		}
	}
	var git func() (agent.GitOnce, error)
	if !gf.noGit {
		git = func() (agent.GitOnce, error) { return gf.committer(ctx, root, log, ix.Title) }
	}
	sum, err := agent.Once(ctx, ix, git, gf.gitWait, progress)
	if err != nil && !errors.Is(err, agent.ErrGit) {
		return err
	}
	sum.Seconds = time.Since(start).Seconds()
	if *asJSON {
		if err := sum.WriteJSON(e.stdout); err != nil {
			return err
		}
	} else {
		sum.WriteText(e.stdout)
	}
	return err
}

// openIndex opens root's index; when that fails because the memory folder
// cannot be written (SQLite says only "unable to open database file"), the
// error says so.
func openIndex(ctx context.Context, root string, maxSize int64, log zerolog.Logger) (*indexer.Index, error) {
	ix, err := indexer.Open(ctx, indexer.Options{Root: root, MaxSize: maxSize, Logger: log})
	if err != nil {
		return nil, permissionHint(root, err)
	}
	return ix, nil
}
