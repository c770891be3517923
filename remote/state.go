package remote

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// stateName is the sync state file in memory/.elfsync/ (never committed,
// never sent anywhere): what `elfsync status` shows of the remote.
const stateName = "remote.json"

// state is the content of the state file.
type state struct {
	Name          string     `json:"name"`
	URL           string     `json:"url"` // credentials redacted
	Branch        string     `json:"branch"`
	Tracking      string     `json:"tracking"`
	Local         string     `json:"local"`
	LastSync      *time.Time `json:"last_sync"`
	LastAttempt   time.Time  `json:"last_attempt"`
	LastError     string     `json:"last_error,omitempty"`
	LastErrorTime *time.Time `json:"last_error_time,omitempty"`
	// Settled is a remote tip that holds our branch and only changes
	// elfsync refused: not counted as behind.
	Settled string `json:"settled,omitempty"`
}

// Status is the remote's part of `elfsync status --json`.
type Status struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	Branch string `json:"branch"`
	// Ahead counts local commits the remote lacks, Behind remote commits
	// not merged here (as of the last fetch).
	Ahead     int        `json:"ahead"`
	Behind    int        `json:"behind"`
	LastSync  *time.Time `json:"last_sync"`
	LastError string     `json:"last_error"`
}

func statePath(memDir string) string { return filepath.Join(memDir, ".elfsync", stateName) }

func readState(memDir string) (state, bool) {
	var st state
	b, err := os.ReadFile(statePath(memDir))
	if err != nil {
		return st, false
	}
	if json.Unmarshal(b, &st) != nil {
		return st, false
	}
	return st, true
}

// record persists a round's outcome. A round that ends in step clears the
// error.
func (s *Syncer) record(ctx context.Context, res Result, err error) {
	st, _ := readState(s.memDir)
	now := time.Now().UTC()
	st.Name, st.URL, st.Branch, st.Tracking, st.Local = s.cfg.Remote, s.url, s.branch, s.tracking, s.local
	st.LastAttempt = now
	st.Settled = s.settled
	if err == nil {
		st.LastSync = &now
		if st.LastError != "" {
			s.log.Info().Msg("remote reachable again; in step")
		}
		st.LastError, st.LastErrorTime = "", nil
	} else if ctx.Err() == nil {
		msg := Redact(err.Error())
		if msg != st.LastError {
			st.LastErrorTime = &now
			s.log.Warn().Str("error", msg).Msg("sync failed: committing locally, retrying with backoff")
		}
		st.LastError = msg
	}
	b, jerr := json.MarshalIndent(st, "", "  ")
	if jerr == nil {
		if werr := writeFileAtomic(statePath(s.memDir), append(b, '\n')); werr != nil {
			s.log.Warn().Err(werr).Msg("save sync state")
		}
	}
}

// ReadStatus returns the remote's state for `elfsync status`, or nil when
// memory/ has never been synced. It changes nothing and takes no lock.
func ReadStatus(ctx context.Context, root string) (*Status, error) {
	memDir := filepath.Join(root, "memory")
	st, ok := readState(memDir)
	if !ok {
		if _, err := os.Stat(statePath(memDir)); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return &Status{LastError: "unreadable sync state"}, nil
	}
	rs := &Status{Name: st.Name, URL: st.URL, Branch: st.Branch, LastSync: st.LastSync, LastError: st.LastError}
	g := newGit(memDir, "GIT_OPTIONAL_LOCKS=0")
	out, err := g.Out(ctx, "rev-list", "--left-right", "--count", st.Local+"..."+st.Tracking, "--")
	if err == nil {
		f := strings.Fields(out)
		if len(f) == 2 {
			rs.Ahead, _ = strconv.Atoi(f[0])
			rs.Behind, _ = strconv.Atoi(f[1])
		}
		if rs.Behind > 0 && st.Settled != "" {
			// The remote's commits we lack hold only refused changes.
			if tip, _ := g.Out(ctx, "rev-parse", "-q", "--verify", st.Tracking+"^{commit}"); tip == st.Settled {
				rs.Behind = 0
			}
		}
	} else if head, herr := g.Out(ctx, "rev-list", "--count", st.Local, "--"); herr == nil {
		// Nothing fetched yet: everything local is ahead.
		rs.Ahead, _ = strconv.Atoi(head)
	}
	return rs, nil
}

// Run syncs every Interval, and soon after Kick, until ctx is done. A
// failed round (remote unreachable, authentication refused, a race lost
// too often) is retried with exponential backoff; local commits go on
// meanwhile. When ctx is done it pushes once more (bounded by
// FinalPushTimeout, merging nothing: nobody would index what a merge
// brought), so a watcher that stops after its last commit leaves the
// remote in step when it can; then it returns nil. It is an agent
// follower: it runs until the committer's final commit is made.
func (s *Syncer) Run(ctx context.Context) error {
	defer func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), FinalPushTimeout)
		defer cancel()
		_ = s.Push(fctx)
	}()
	return s.loop(ctx)
}

// FinalPushTimeout bounds the push Run makes when it stops.
const FinalPushTimeout = 10 * time.Second

func (s *Syncer) loop(ctx context.Context) error {
	s.log.Info().Str("url", s.url).Str("branch", s.branch).Dur("interval", s.cfg.Interval).Msg("syncing with the remote")
	fails := 0
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		var kick <-chan struct{}
		if fails == 0 {
			kick = s.kick
		}
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-kick:
			timer.Stop()
		}
		_, err := s.Round(ctx)
		if ctx.Err() != nil {
			return nil
		}
		d := s.cfg.Interval
		if err != nil {
			fails++
			d = backoff(s.cfg.Interval, fails)
		} else {
			fails = 0
		}
		timer.Reset(d)
	}
}

// backoff is the wait after the n-th failed round in a row: the interval
// doubling, capped at four intervals (at least 5 s, at most 5 minutes).
func backoff(interval time.Duration, n int) time.Duration {
	limit := min(max(4*interval, 5*time.Second), 5*time.Minute)
	d := interval
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}
