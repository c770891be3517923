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
	"github.com/emergent-learning/elfsync/doctor"
	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/indexer"
)

// gitFlags are the committer settings shared by scan, init and watch.
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
	// (watch, sync); see agent.OpenCommitter.
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

// open opens the committer the flags ask for; commit messages name a path
// by its title in ix.
func (g *gitFlags) open(ctx context.Context, root string, log zerolog.Logger, ix *indexer.Index) (*committer.Committer, error) {
	return agent.OpenCommitter(ctx, committer.Config{
		Root: root, Quiet: g.quiet, MaxWait: g.maxWait, MaxBatch: g.maxBatch, Logger: log, OnCommit: g.onCommit,
		Describe: func(p string) string { return ix.Title(context.Background(), p) },
	}, g.ownsLock)
}

// once is agent.Once (scan, init) with the committer the flags ask for.
func (g *gitFlags) once(ctx context.Context, root string, log zerolog.Logger, ix *indexer.Index, progress indexer.Progress) (agent.Summary, error) {
	var git func() (agent.GitOnce, error)
	if !g.noGit {
		git = func() (agent.GitOnce, error) { return g.open(ctx, root, log, ix) }
	}
	return agent.Once(ctx, ix, git, g.gitWait, progress)
}

func cmdScan(ctx context.Context, e *cmdEnv, args []string) error {
	fs, rootFlag := e.newFlagSet("scan", "[flags]")
	var gf gitFlags
	gf.register(fs, false)
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	maxSize := fs.Int64("max-size", frontmatter.DefaultMaxSize, "largest record file indexed, in bytes; larger ones are tracked as invalid")
	root, log, err := e.parseService(fs, args, rootFlag)
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
	sum, err := gf.once(ctx, root, log, ix, progress)
	if err != nil && !errors.Is(err, agent.ErrGit) {
		return err
	}
	sum.Seconds = time.Since(start).Seconds()
	if !sum.RowsAt.IsZero() {
		sum.RowsSeconds = sum.RowsAt.Sub(start).Seconds()
	}
	if perr := e.print(*asJSON, sum); perr != nil {
		return perr
	}
	return err
}

// openIndex opens root's index; when that fails because the memory folder
// cannot be written, the error says so (doctor.Explain).
func openIndex(ctx context.Context, root string, maxSize int64, log zerolog.Logger) (*indexer.Index, error) {
	ix, err := indexer.Open(ctx, indexer.Options{Root: root, MaxSize: maxSize, Logger: log})
	if err != nil {
		return nil, doctor.Explain(root, err)
	}
	return ix, nil
}
