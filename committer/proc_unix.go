//go:build unix

package committer

import (
	"errors"
	"os"
	"syscall"
)

// pidAlive reports whether a process with this pid exists. Signal 0 checks
// without sending anything; EPERM means it exists but belongs to another
// user.
func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// ownedByMe reports whether fi belongs to this process's effective user, as
// git's safe.directory check requires of a repository it uses.
func ownedByMe(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid()
}
