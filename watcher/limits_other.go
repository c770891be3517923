//go:build !linux && !darwin && !freebsd && !openbsd && !netbsd && !dragonfly

package watcher

// isWatchLimit reports whether err from adding a watch means an OS limit on
// watches was reached. Windows (ReadDirectoryChangesW) has no such per-user
// limit, so every failure there is an ordinary watch error.
func isWatchLimit(err error) bool { return false }

// isInstanceLimit reports whether err from creating the watcher means an OS
// limit on watchers was reached; see isWatchLimit.
func isInstanceLimit(err error) bool { return false }

const (
	watchLimitMsg    = "watch limit reached: falling back to periodic full scans"
	instanceLimitMsg = "watcher limit reached: falling back to periodic full scans"
)
