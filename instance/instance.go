package instance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emergent-learning/elfsync/layout"
)

// ErrRunning means another watcher holds the root.
var ErrRunning = errors.New("another elfsync watch is running for this root")

// Lock is a held single-instance lock.
type Lock struct {
	f    *os.File
	mu   sync.Mutex
	info Info // what the file says
}

// Path returns the lock file of root.
func Path(root string) string {
	return filepath.Join(root, layout.MemoryDir, layout.InstanceLockFile)
}

// acquireGrace is how long Acquire retries a lock whose holder has
// written no pid: a probe or a watcher in its first milliseconds.
const acquireGrace = time.Second

// Acquire takes the watch lock of root, or returns an ErrRunning error
// naming the running instance's pid.
func Acquire(root string) (*Lock, error) {
	path := Path(root)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	// Read probes the lock by taking it for a moment (status, record and
	// heuristic do, to tell whether a watcher runs), a watcher that has
	// just taken it has not written its pid yet, and a SIGKILLed watcher's
	// pid stays in the file (and its lock with a git child between fork
	// and exec for a moment): a lock whose holder has no live pid is
	// retried for a short while before it counts as taken.
	deadline := time.Now().Add(acquireGrace)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		err := lockFile(f)
		if err == nil {
			break
		}
		if !errors.Is(err, errLocked) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		info := Read(root)
		if info.PID != 0 && alive(info.PID) {
			f.Close()
			return nil, fmt.Errorf("%w (pid %d, since %s; lock %s)", ErrRunning, info.PID, info.Started.Format(time.RFC3339), path)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("%w (lock %s)", ErrRunning, path)
		}
		time.Sleep(wait)
	}
	l := &Lock{f: f, info: Info{PID: os.Getpid(), Started: time.Now().UTC().Truncate(time.Second)}}
	if err := l.write(); err != nil {
		l.Release()
		return nil, fmt.Errorf("write lock %s: %w", path, err)
	}
	return l, nil
}

// Publish records what the running watcher wants other commands to know
// (its deadlines, whether it is busy with a full scan) in the lock file.
func (l *Lock) Publish(st State) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	st.Published = time.Now().UTC()
	l.info.State = st
	return l.write()
}

// write puts l.info into the file: the whole content first, then the
// length, so a reader sees the old or the new content, or (rarely) a torn
// one that does not parse and is taken for "no state".
func (l *Lock) write() error {
	b, err := json.Marshal(l.info)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if _, err := l.f.WriteAt(b, 0); err != nil {
		return err
	}
	return l.f.Truncate(int64(len(b)))
}

// Release drops the lock. The file stays; its content is ignored unless
// the lock is held.
func (l *Lock) Release() {
	if l == nil || l.f == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.f.Truncate(0)
	_ = unlockFile(l.f)
	_ = l.f.Close()
	l.f = nil
}

// Info says whether a watcher runs for a root, and what it published.
type Info struct {
	Running bool      `json:"-"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	State
}

// State is what a running watcher publishes for `elfsync status`: how long
// it may take to index and to commit a change it has seen, and whether it
// is in a full scan (during which any drift may be work in progress).
type State struct {
	IndexDeadline  time.Duration `json:"index_deadline,omitempty"`
	CommitDeadline time.Duration `json:"commit_deadline,omitempty"`
	Scanning       bool          `json:"scanning,omitempty"`
	// Published is when the watcher last wrote this state.
	Published time.Time `json:"published,omitzero"`
}

// Read reports whether a watcher holds root's lock, without taking it for
// longer than a probe.
func Read(root string) Info {
	path := Path(root)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return Info{}
	}
	defer f.Close()
	if err := lockFile(f); err == nil {
		// Nobody holds it.
		_ = unlockFile(f)
		return Info{}
	}
	var info Info
	b, _ := os.ReadFile(path)
	if json.Unmarshal(b, &info) == nil {
		info.Running = true
		return info
	}
	// An older elfsync wrote "PID TIME"; a torn write reads as no state.
	info = Info{Running: true}
	fields := strings.Fields(string(b))
	if len(fields) >= 1 {
		info.PID, _ = strconv.Atoi(fields[0])
	}
	if len(fields) >= 2 {
		info.Started, _ = time.Parse(time.RFC3339, fields[1])
	}
	return info
}

// ErrNotRunning means no watcher holds the root's lock.
var ErrNotRunning = errors.New("no elfsync watch is running")

// Signal sends sig to the watcher of root, found by the pid its lock
// records (so only that root's watcher is touched), and returns the pid. A
// nil sig (a platform that cannot signal another process) is an error
// naming the pid.
func Signal(root string, sig os.Signal) (int, error) {
	info := Read(root)
	if !info.Running || info.PID == 0 {
		return 0, fmt.Errorf("%w for %s", ErrNotRunning, root)
	}
	if sig == nil {
		return info.PID, fmt.Errorf("cannot signal another process on %s: stop the watcher (pid %d) where it runs", runtime.GOOS, info.PID)
	}
	p, err := os.FindProcess(info.PID)
	if err == nil {
		err = p.Signal(sig)
	}
	if err != nil {
		return info.PID, fmt.Errorf("signal pid %d: %w", info.PID, err)
	}
	return info.PID, nil
}

// WaitStopped polls until no watcher holds root's lock, ctx is done, or
// timeout passes.
func WaitStopped(ctx context.Context, root string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for Read(root).Running {
		if time.Now().After(deadline) {
			return fmt.Errorf("the watcher of %s is still running after %v", root, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}
