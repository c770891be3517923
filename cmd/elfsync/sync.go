package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/agent"
	"github.com/emergent-learning/elfsync/committer"
	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/indexer"
	"github.com/emergent-learning/elfsync/instance"
	"github.com/emergent-learning/elfsync/remote"
)

// remoteFlags are the sharing settings of sync and watch.
type remoteFlags struct {
	name     string
	branch   string
	interval time.Duration
}

func (r *remoteFlags) register(fs interface {
	StringVar(*string, string, string, string)
	DurationVar(*time.Duration, string, time.Duration, string)
}, loop bool) {
	fs.StringVar(&r.name, "remote", "", "share memory/ through the git remote `NAME` of memory/'s repository (added with: git -C ROOT/memory remote add NAME URL)")
	fs.StringVar(&r.branch, "branch", "", "with --remote: the remote branch (default: the local branch's name; elfsync/memory when memory/ is inside a project repository)")
	if loop {
		fs.DurationVar(&r.interval, "sync-interval", remote.DefaultInterval, "with --remote: fetch, merge and push this often, and soon after each commit")
	}
}

// open opens the syncer for root with the committer cm holding commits off
// while a merge lands.
func (r *remoteFlags) open(ctx context.Context, root string, maxSize int64, cm *committer.Committer, log zerolog.Logger) (*remote.Syncer, error) {
	exe, err := os.Executable()
	if err != nil {
		exe = ""
	}
	return remote.Open(ctx, remote.Config{
		Root: root, Remote: r.name, Branch: r.branch, Interval: r.interval,
		MaxSize: maxSize, Hold: cm, DriverCommand: exe, Logger: log,
	})
}

func cmdSync(ctx context.Context, e *cmdEnv, args []string) error {
	fs, rootFlag := e.newFlagSet("sync", "--remote NAME [flags]")
	var rf remoteFlags
	rf.register(fs, false)
	asJSON := fs.Bool("json", false, "print the outcome as JSON")
	maxSize := fs.Int64("max-size", frontmatter.DefaultMaxSize, "largest record file indexed and merged as text, in bytes")
	gitWait := fs.Duration("git-wait", time.Minute, "how long to wait for another git process's lock")
	root, log, err := e.parseService(fs, args, rootFlag)
	if err != nil {
		return err
	}
	if rf.name == "" {
		return usagef("sync needs --remote NAME")
	}
	lock, err := instance.Acquire(root)
	if err != nil {
		return fmt.Errorf("%w: it syncs by itself when started with --remote", err)
	}
	defer lock.Release()

	ix, err := indexer.Open(ctx, indexer.Options{Root: root, MaxSize: *maxSize, Logger: log})
	if err != nil {
		return err
	}
	defer ix.Close()
	gf := gitFlags{ownsLock: true}
	cm, err := gf.open(ctx, root, log, ix)
	if err != nil {
		return err
	}
	rs, err := rf.open(ctx, root, *maxSize, cm, log)
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	sum, syncErr := agent.SyncOnce(ctx, ix, cm, rs, *gitWait)
	if err := e.print(*asJSON, sum); err != nil {
		return err
	}
	if syncErr != nil {
		return fmt.Errorf("sync %s: %s", sum.Remote, sum.Error)
	}
	return nil
}
