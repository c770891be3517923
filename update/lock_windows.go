//go:build windows

package update

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// errLocked means another process holds the lock.
var errLocked = errors.New("locked")

func tryLock(f *os.File) error {
	ol := &windows.Overlapped{}
	err := windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return errLocked
	}
	return err
}

func unlock(f *os.File) error {
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, &windows.Overlapped{})
}
