package committer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// ErrBusy means the repository cannot take a commit now: another process
// holds index.lock, or a merge, rebase, cherry-pick, revert or bisect is in
// progress. Paths stay pending; the commit is retried. Errors wrapping it
// say which.
var ErrBusy = errors.New("git repository busy")

// operation names the multi-step git operation in progress in gitDir, or "".
// elfsync must not commit in the middle of one: a commit during a merge
// would drop MERGE_HEAD's parent, one during a rebase would be replayed.
func operation(gitDir string) string {
	for _, o := range []struct{ file, name string }{
		{"MERGE_HEAD", "merge"},
		{"rebase-merge", "rebase"},
		{"rebase-apply", "rebase"},
		{"CHERRY_PICK_HEAD", "cherry-pick"},
		{"REVERT_HEAD", "revert"},
		{"BISECT_LOG", "bisect"},
	} {
		if _, err := os.Lstat(filepath.Join(gitDir, o.file)); err == nil {
			return o.name
		}
	}
	return ""
}

// indexLocked reports whether index.lock exists in gitDir.
func indexLocked(gitDir string) bool {
	_, err := os.Lstat(filepath.Join(gitDir, "index.lock"))
	return err == nil
}

// busy returns an ErrBusy error when a commit cannot be made now.
func (c *Committer) busy() error {
	if op := operation(c.repo.gitDir); op != "" {
		return fmt.Errorf("%w: %s in progress", ErrBusy, op)
	}
	if indexLocked(c.repo.gitDir) {
		// A lock that a dead elfsync left behind is cleared here too, not
		// only on start: a `scan` killed while it held the lock must not
		// stall a running watcher for good.
		cleanStaleLocks(c.repo.gitDir, false, c.log)
		if indexLocked(c.repo.gitDir) {
			return fmt.Errorf("%w: index.lock held by another process", ErrBusy)
		}
	}
	return nil
}

// ownerMarker records that elfsync process PID is running a git command
// that takes the named lock files, so that after a crash (SIGKILL of the
// whole process group) a restart can tell its own stale lock from a
// person's live one.
type ownerMarker struct {
	PID   int       `json:"pid"`
	Host  string    `json:"host"`
	Time  time.Time `json:"time"`
	Locks []string  `json:"locks"` // absolute paths
}

const markerPrefix = "elfsync-lock-owner-"

// Stale-lock rules. A lock is accounted for by a marker when its mtime lies
// between a little before the marker was written (coarse file-system
// clocks) and a little after (git writes the lock's content when it is done,
// which for a reset of a large index takes a while). A lock outside that
// window was made by someone else, e.g. a person's `git commit -a` that
// started after the crash.
const (
	staleSlackBefore = 2 * time.Second
	staleSlackAfter  = 2 * time.Minute
	// A marker this old is stale even if its pid is alive: no git command
	// of elfsync's runs for an hour, so the pid has been reused.
	markerMaxAge = time.Hour
	// staleMinAge: a lock touched more recently may still be in use by the
	// git child of the dead process (killing elfsync alone does not kill
	// it), which removes the lock itself when done. Such a lock is left for
	// a later look (busy checks again on every retry).
	staleMinAge = 5 * time.Second
)

// withOwnedLocks runs fn, which runs a git command that takes the lock files
// locks, with an ownership marker in place.
func (c *Committer) withOwnedLocks(locks []string, fn func() error) error {
	host, _ := os.Hostname()
	m := ownerMarker{PID: os.Getpid(), Host: host, Time: time.Now(), Locks: locks}
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	p := filepath.Join(c.repo.gitDir, markerPrefix+strconv.Itoa(m.PID)+".json")
	if err := writeFileAtomic(p, data); err != nil {
		return fmt.Errorf("write lock owner marker: %w", err)
	}
	defer os.Remove(p)
	return fn()
}

// refLocks returns the lock files that `git update-ref HEAD` may create:
// HEAD.lock and, when HEAD names a branch, that branch's lock file.
func (c *Committer) refLocks() []string {
	locks := []string{filepath.Join(c.repo.gitDir, "HEAD.lock")}
	b, err := os.ReadFile(filepath.Join(c.repo.gitDir, "HEAD"))
	if err != nil {
		return locks
	}
	ref, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "ref: ")
	if !ok || !strings.HasPrefix(ref, "refs/") || strings.Contains(ref, "..") {
		return locks
	}
	return append(locks, filepath.Join(c.repo.commonDir, filepath.FromSlash(ref)+".lock"))
}

// cleanStaleLocks removes lock files that a dead elfsync process left behind
// in gitDir, as its ownership markers account for them, and then the
// markers. atStart also treats markers of this process's own pid as dead
// (in a container elfsync may get the same pid every start). A lock that no
// marker accounts for is never touched.
func cleanStaleLocks(gitDir string, atStart bool, log zerolog.Logger) {
	self := os.Getpid()
	host, _ := os.Hostname()
	markers, _ := filepath.Glob(filepath.Join(gitDir, markerPrefix+"*.json"))
	for _, mp := range markers {
		data, err := os.ReadFile(mp)
		if err != nil {
			continue
		}
		var m ownerMarker
		if err := json.Unmarshal(data, &m); err != nil {
			// Markers are written atomically, so this is not ours to judge.
			log.Warn().Str("marker", mp).Err(err).Msg("unreadable lock owner marker left in place")
			continue
		}
		if m.Host != host {
			continue // another machine on a shared file system
		}
		old := time.Since(m.Time) > markerMaxAge
		if !old && (m.PID == self && !atStart || m.PID != self && pidAlive(m.PID)) {
			continue
		}
		keep := false
		for _, lock := range m.Locks {
			fi, err := os.Lstat(lock)
			if err != nil {
				continue
			}
			mt := fi.ModTime()
			if time.Since(mt) < staleMinAge {
				keep = true
				continue
			}
			if mt.Before(m.Time.Add(-staleSlackBefore)) || mt.After(m.Time.Add(staleSlackAfter)) {
				log.Info().Str("lock", lock).Int("dead_pid", m.PID).
					Msg("lock file is not the one a crashed elfsync left; leaving it")
				continue
			}
			if err := os.Remove(lock); err != nil {
				log.Warn().Err(err).Str("lock", lock).Msg("remove stale lock")
				continue
			}
			log.Warn().Str("lock", lock).Int("dead_pid", m.PID).Time("since", m.Time).
				Msg("removed a stale git lock left by a crashed elfsync")
		}
		if !keep {
			os.Remove(mp)
		}
	}
	if !atStart {
		return
	}
	// Private index files of dead processes (elfsync-index-<pid>-<n>).
	tmps, _ := filepath.Glob(filepath.Join(gitDir, privateIndexPrefix+"*"))
	for _, p := range tmps {
		rest := strings.TrimPrefix(filepath.Base(p), privateIndexPrefix)
		pidStr, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil {
			continue
		}
		if pid == self || !pidAlive(pid) {
			os.Remove(p)
		}
	}
}
