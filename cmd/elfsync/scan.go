package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/committer"
	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/indexer"
	"github.com/emergent-learning/elfsync/remote"
)

// scanSummary is what `elfsync scan --json` prints.
type scanSummary struct {
	Added     int                 `json:"added"`
	Updated   int                 `json:"updated"`
	Removed   int                 `json:"removed"`
	Unchanged int                 `json:"unchanged"`
	Invalid   []indexer.FileError `json:"invalid"`
	Rebuilt   bool                `json:"rebuilt"`
	Committed *commitSummary      `json:"committed"` // nil with --no-git
	Seconds   float64             `json:"seconds"`
}

type commitSummary struct {
	Commit string `json:"commit"` // "" when there was nothing to commit
	Paths  int    `json:"paths"`
}

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

func (g *gitFlags) committer(root string, log zerolog.Logger, describe func(string) string) (*committer.Committer, error) {
	cm, err := committer.New(committer.Config{
		Root:     root,
		Quiet:    g.quiet,
		MaxWait:  g.maxWait,
		MaxBatch: g.maxBatch,
		Logger:   log,
		Describe: describe,
		OnCommit: g.onCommit,
	})
	if err != nil {
		return nil, err
	}
	// A merge from a remote that a crash left half-landed is finished
	// before anything commits the work tree, which would undo it.
	if err := remote.FinishInterrupted(context.Background(), root, log); err != nil {
		return nil, err
	}
	return cm, nil
}

func cmdScan(ctx context.Context, e *cmdEnv, args []string) error {
	fs, rootFlag := e.newFlagSet("scan", "[flags]", `
Reconcile once: walk memory/, index every new or changed record file, drop
the rows of vanished files, then commit whatever under memory/ differs from
git's HEAD. Invalid files are tracked and reported with their errors; they
do not make the scan fail.

Exit status: 0 done; 1 if the index or git could not be brought in line
(for example another process held git's lock for longer than --git-wait).`)
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
	ix, err := indexer.Open(ctx, indexer.Options{Root: root, MaxSize: *maxSize, Logger: log})
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
	res, err := ix.Scan(ctx, progress)
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	sum := scanSummary{
		Added: res.Added, Updated: res.Updated, Removed: res.Removed, Unchanged: res.Unchanged,
		Invalid: res.Errors, Rebuilt: res.Rebuilt,
	}
	if sum.Invalid == nil {
		sum.Invalid = []indexer.FileError{}
	}
	var gitErr error
	if !gf.noGit {
		sum.Committed, gitErr = commitAll(ctx, root, log, ix, gf.gitWait)
	}
	sum.Seconds = time.Since(start).Seconds()
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sum); err != nil {
			return err
		}
	} else {
		printScan(e, sum)
	}
	if gitErr != nil {
		return &exitError{Code: 1, Err: fmt.Errorf("git not brought in line: %w", gitErr)}
	}
	return nil
}

// commitAll commits everything pending under memory/, waiting at most wait
// for another git process's lock.
func commitAll(ctx context.Context, root string, log zerolog.Logger, ix *indexer.Index, wait time.Duration) (*commitSummary, error) {
	cm, err := (&gitFlags{}).committer(root, log, func(p string) string { return ix.Title(ctx, p) })
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	r, err := cm.CommitAll(wctx)
	if err != nil {
		return nil, err
	}
	return &commitSummary{Commit: r.Commit, Paths: len(r.Paths)}, nil
}

func printScan(e *cmdEnv, s scanSummary) {
	if s.Rebuilt {
		fmt.Fprintln(e.stdout, "index was unusable: set aside and rebuilt from the files")
	}
	fmt.Fprintf(e.stdout, "added %d, updated %d, removed %d, unchanged %d, invalid %d (%.2fs)\n",
		s.Added, s.Updated, s.Removed, s.Unchanged, len(s.Invalid), s.Seconds)
	for _, fe := range s.Invalid {
		fmt.Fprintf(e.stdout, "invalid: %s: %s\n", fe.Path, fe.Error)
	}
	switch {
	case s.Committed == nil:
		fmt.Fprintln(e.stdout, "git: off (--no-git)")
	case s.Committed.Commit == "":
		fmt.Fprintln(e.stdout, "committed: nothing to commit")
	default:
		fmt.Fprintf(e.stdout, "committed %d paths in %s\n", s.Committed.Paths, shortHash(s.Committed.Commit))
	}
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
