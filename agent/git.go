package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/emergent-learning/elfsync/committer"
	"github.com/emergent-learning/elfsync/instance"
	"github.com/emergent-learning/elfsync/remote"
)

// OpenCommitter opens the committer of cfg.Root's pipeline (`watch`,
// `scan`, `init`, `sync`). A merge from a remote that a crash left
// half-landed is finished first, before anything commits the work tree,
// which would undo it, unless the caller does not hold the root's instance
// lock (ownsLock false) and another process's watcher runs: then a sync
// journal is that watcher's syncer's, mid-merge, not a crashed run's.
func OpenCommitter(ctx context.Context, cfg committer.Config, ownsLock bool) (*committer.Committer, error) {
	cm, err := committer.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if ownsLock || !instance.Read(cfg.Root).Running {
		if err := remote.FinishInterrupted(ctx, cfg.Root, cfg.Logger); err != nil {
			return nil, err
		}
	}
	return cm, nil
}

// SyncOnce brings root's memory in step with a remote once, for `elfsync
// sync` (remote.Syncer.Sync): each time the syncer asks, the index scans
// the whole memory folder and the committer commits what differs from
// HEAD, waiting at most gitWait for another git process's lock.
func SyncOnce(ctx context.Context, ix Index, cm *committer.Committer, rs *remote.Syncer, gitWait time.Duration) (remote.Report, error) {
	commit := func() error {
		if _, err := ix.Scan(ctx, nil); err != nil {
			return fmt.Errorf("index: %w", err)
		}
		wctx, cancel := context.WithTimeout(ctx, gitWait)
		defer cancel()
		_, err := cm.CommitAll(wctx)
		return err
	}
	head := func() string {
		st, _ := cm.Status(ctx)
		return st.LastCommit.Hash
	}
	return rs.Sync(ctx, commit, head)
}
