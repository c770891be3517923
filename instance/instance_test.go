package instance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAcquireReadRelease(t *testing.T) {
	root := t.TempDir()
	if info := Read(root); info.Running {
		t.Fatalf("Read before any lock = %+v, want not running", info)
	}
	l, err := Acquire(root)
	if err != nil {
		t.Fatal(err)
	}
	info := Read(root)
	if !info.Running || info.PID != os.Getpid() || info.Started.IsZero() {
		t.Errorf("Read while held = %+v, want running with our pid", info)
	}
	// A second holder is refused with the first one's pid (flock locks
	// belong to open files, so this works within one process).
	_, err = Acquire(root)
	if !errors.Is(err, ErrRunning) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("second Acquire = %v, want ErrRunning naming pid %d", err, os.Getpid())
	}
	l.Release()
	if info := Read(root); info.Running {
		t.Errorf("Read after Release = %+v, want not running", info)
	}
	l2, err := Acquire(root)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	l2.Release()
}

func TestSignalWithoutWatcher(t *testing.T) {
	root := t.TempDir()
	if _, err := Signal(root, os.Interrupt); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Signal with no watcher = %v, want ErrNotRunning", err)
	}
	if err := WaitStopped(context.Background(), root, time.Second); err != nil {
		t.Errorf("WaitStopped with no watcher = %v", err)
	}
	l, err := Acquire(root)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if pid, err := Signal(root, nil); err == nil || pid != os.Getpid() {
		t.Errorf("Signal(nil) = %d, %v; want an error naming our pid", pid, err)
	}
	if err := WaitStopped(context.Background(), root, 100*time.Millisecond); err == nil {
		t.Error("WaitStopped while held: no error")
	}
}

// TestAcquireBesideProbe: status, record and heuristic probe the lock by
// taking it for a moment; a watcher starting in that moment must not be
// refused as "already running".
func TestAcquireBesideProbe(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(root+"/memory", 0o755); err != nil {
		t.Fatal(err)
	}
	// A prober: holds the lock for 30 ms of a file that names a watcher
	// that is gone (SIGKILLed: its pid stays in the file).
	dead := exec.Command(os.Args[0], "-test.run=^$")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(Path(root), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(f, `{"pid":%d,"started":"2026-01-01T00:00:00Z"}`+"\n", dead.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if err := lockFile(f); err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	time.AfterFunc(30*time.Millisecond, func() {
		_ = unlockFile(f)
		close(released)
	})
	defer func() {
		<-released
		f.Close()
	}()
	l, err := Acquire(root)
	if err != nil {
		t.Fatalf("Acquire beside a probe: %v", err)
	}
	l.Release()
}
