//go:build linux && (amd64 || arm64)

package indexer

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fstatatName is fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) for a name
// parseDirents cut from its getdents buffer, which is followed in memory
// by its NUL terminator: the name's bytes are passed as they are, where
// unix.Fstatat would copy each name to add one (an allocation per file).
func fstatatName(dirfd int, name string, st *unix.Stat_t) error {
	_, _, errno := unix.Syscall6(unix.SYS_NEWFSTATAT, uintptr(dirfd), uintptr(unsafe.Pointer(unsafe.StringData(name))),
		uintptr(unsafe.Pointer(st)), unix.AT_SYMLINK_NOFOLLOW, 0, 0)
	runtime.KeepAlive(name)
	if errno != 0 {
		return errno
	}
	return nil
}
