//go:build linux

package watcher

import (
	"errors"
	"syscall"
)

// isWatchLimit reports whether err from adding a watch means the per-user
// inotify watch limit is exhausted: inotify_add_watch fails with ENOSPC ("no
// space left on device"), not with anything that mentions watches.
func isWatchLimit(err error) bool {
	return errors.Is(err, syscall.ENOSPC)
}

// isInstanceLimit reports whether err from creating the watcher means the
// per-user limit of inotify instances is reached (EMFILE, "too many open
// files"), or the process ran out of file descriptors.
func isInstanceLimit(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

const (
	watchLimitMsg = "inotify watch limit reached (fs.inotify.max_user_watches): some directories are not watched; " +
		"falling back to periodic full scans until watches can be added. " +
		"Fix: sudo sysctl fs.inotify.max_user_watches=524288 ; " +
		"make it permanent: echo fs.inotify.max_user_watches=524288 | sudo tee /etc/sysctl.d/90-elfsync.conf"
	instanceLimitMsg = "inotify instance limit reached (fs.inotify.max_user_instances): cannot create a watcher; " +
		"falling back to periodic full scans until one can be created. " +
		"Fix: sudo sysctl fs.inotify.max_user_instances=512 ; " +
		"make it permanent: echo fs.inotify.max_user_instances=512 | sudo tee -a /etc/sysctl.d/90-elfsync.conf"
)
