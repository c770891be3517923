//go:build linux && !amd64 && !arm64

package indexer

import "golang.org/x/sys/unix"

// fstatatName is fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW); amd64 and
// arm64 have one that does not copy the name (walk_fstatat_fast.go).
func fstatatName(dirfd int, name string, st *unix.Stat_t) error {
	return unix.Fstatat(dirfd, name, st, unix.AT_SYMLINK_NOFOLLOW)
}
