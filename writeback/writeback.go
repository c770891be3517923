package writeback

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/indexer"
)

// Index is what the loop needs of the index.
type Index interface {
	HasChanges(ctx context.Context) (bool, error)
	HasChangesNow(ctx context.Context) (bool, error)
	WriteBack(ctx context.Context, host string) (indexer.WriteBackResult, error)
	HostID() (string, error)
}

// DefaultInterval is how often the change log is polled when nothing
// calls Kick.
const DefaultInterval = 50 * time.Millisecond

// Loop polls an index's change log and writes changes back into the files.
type Loop struct {
	ix       Index
	notify   func(paths []string)
	log      zerolog.Logger
	interval time.Duration
	kick     chan struct{}
}

// New returns a loop over ix; notify (nil for none) receives the
// root-relative paths each write-back changed, for the committer. It
// starts nothing: call Run.
func New(ix Index, notify func(paths []string), log zerolog.Logger, interval time.Duration) *Loop {
	if interval <= 0 {
		interval = DefaultInterval
	}
	if notify == nil {
		notify = func([]string) {}
	}
	return &Loop{ix: ix, notify: notify, log: log.With().Str("component", "writeback").Logger(), interval: interval,
		kick: make(chan struct{}, 1)}
}

// Kick asks the loop to look at the change log now rather than at its next
// poll (watch calls it when the index's WAL is written). It never blocks;
// kicks while one is waiting are one kick, and while write-back is failing
// the loop keeps to its backoff.
func (l *Loop) Kick() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// followUpDelay is how soon after a kicked look write-back looks once
// more, asking the database.
const followUpDelay = 50 * time.Millisecond

// maxBackoff caps the wait after repeated failures.
const maxBackoff = 10 * time.Second

// Run polls until ctx is done, then writes back what is left once more
// (under a fresh deadline) and returns nil. Errors are logged and retried
// with a capped exponential backoff; the loop never dies of one.
func (l *Loop) Run(ctx context.Context) error {
	wait := l.interval
	failing := false
	// fresh is set for a look that must ask the database: after a kick,
	// and once more followUp later (a kick can come from the first frames
	// of a commit that is not visible yet).
	fresh, followUp := false, false
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			l.once(fctx, true)
			cancel()
			return nil
		case <-t.C:
			fresh, followUp = followUp, false
		case <-l.kick:
			if failing {
				continue // the timer still runs: keep to the backoff
			}
			t.Stop() // reset below (Go 1.23 timers: no stale tick to drain)
			fresh, followUp = true, true
		}
		err := l.once(ctx, fresh)
		switch {
		case err != nil && ctx.Err() == nil:
			if !failing {
				l.log.Error().Err(err).Msg("write-back failed; retrying")
			}
			failing = true
			wait = min(wait*2, maxBackoff)
		case err == nil && failing:
			l.log.Info().Msg("write-back recovered")
			failing, wait = false, l.interval
		}
		if followUp && !failing {
			t.Reset(min(followUpDelay, wait))
		} else {
			t.Reset(wait)
		}
	}
}

// once writes back pending changes, if any. The host id is read (and
// created, on first use) only when there is something to write.
func (l *Loop) once(ctx context.Context, fresh bool) error {
	check := l.ix.HasChanges
	if fresh {
		check = l.ix.HasChangesNow
	}
	has, err := check(ctx)
	if err != nil || !has {
		return err
	}
	host, err := l.ix.HostID()
	if err != nil {
		return err
	}
	res, err := l.ix.WriteBack(ctx, host)
	if len(res.Changed) > 0 {
		l.log.Debug().Strs("paths", res.Changed).Int("refused", res.Refused).Int("pending", res.Pending).Msg("wrote database changes into the files")
		l.notify(res.Changed)
	}
	return err
}
