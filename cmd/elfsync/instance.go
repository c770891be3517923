package main

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

// The single-instance lock of `elfsync watch` is an OS file lock (flock on
// Unix, LockFileEx on Windows) on memory/index.db.lock, so it is released by
// the kernel when the process dies, even by SIGKILL: a stale file never
// blocks a restart. The file holds the owner's pid and start time so a
// second instance and `status` can name it. It matches the index.db*
// pattern of memory/.gitignore and the watcher ignores it.

// errAlreadyRunning means another watcher holds the root.
var errAlreadyRunning = errors.New("another elfsync watch is running for this root")

// instanceLock is a held single-instance lock.
type instanceLock struct {
	f *os.File
}

// acquireInstance takes the watch lock of root or returns an error naming
// the running instance's pid.
func acquireInstance(root string) (*instanceLock, error) {
	path := filepath.Join(root, layout.MemoryDir, layout.InstanceLockFile)
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
			info := readInstance(root)
			if info.PID != 0 {
				return nil, fmt.Errorf("%w (pid %d, since %s; lock %s)", errAlreadyRunning, info.PID, info.Started.Format(time.RFC3339), path)
			}
			return nil, fmt.Errorf("%w (lock %s)", errAlreadyRunning, path)
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
	return &instanceLock{f: f}, nil
}

// release drops the lock. The file stays; its content is ignored unless
// the lock is held.
func (l *instanceLock) release() {
	if l == nil || l.f == nil {
		return
	}
	_ = l.f.Truncate(0)
	_ = unlockFile(l.f)
	_ = l.f.Close()
	l.f = nil
}

// instanceInfo says whether a watcher runs for a root.
type instanceInfo struct {
	Running bool
	PID     int
	Started time.Time
}

// readInstance reports whether a watcher holds root's lock, without taking
// it for longer than a probe.
func readInstance(root string) instanceInfo {
	path := filepath.Join(root, layout.MemoryDir, layout.InstanceLockFile)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return instanceInfo{}
	}
	defer f.Close()
	if err := lockFile(f); err == nil {
		// Nobody holds it.
		_ = unlockFile(f)
		return instanceInfo{}
	}
	info := instanceInfo{Running: true}
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
