package instance

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/emergent-learning/elfsync/layout"
)

// ErrRunning means another watcher holds the root.
var ErrRunning = errors.New("another elfsync watch is running for this root")

// Lock is a held single-instance lock.
type Lock struct {
	f *os.File
}

// Path returns the lock file of root.
func Path(root string) string {
	return filepath.Join(root, layout.MemoryDir, layout.InstanceLockFile)
}

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
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			info := Read(root)
			if info.PID != 0 {
				return nil, fmt.Errorf("%w (pid %d, since %s; lock %s)", ErrRunning, info.PID, info.Started.Format(time.RFC3339), path)
			}
			return nil, fmt.Errorf("%w (lock %s)", ErrRunning, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	content := fmt.Sprintf("%d %s\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339))
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(content), 0)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("write lock %s: %w", path, err)
		}
	}
	return &Lock{f: f}, nil
}

// Release drops the lock. The file stays; its content is ignored unless
// the lock is held.
func (l *Lock) Release() {
	if l == nil || l.f == nil {
		return
	}
	_ = l.f.Truncate(0)
	_ = unlockFile(l.f)
	_ = l.f.Close()
	l.f = nil
}

// Info says whether a watcher runs for a root.
type Info struct {
	Running bool
	PID     int
	Started time.Time
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
	info := Info{Running: true}
	b, _ := os.ReadFile(path)
	fields := strings.Fields(string(b))
	if len(fields) >= 1 {
		info.PID, _ = strconv.Atoi(fields[0])
	}
	if len(fields) >= 2 {
		info.Started, _ = time.Parse(time.RFC3339, fields[1])
	}
	return info
}
