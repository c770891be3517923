//go:build darwin || freebsd || openbsd || netbsd || dragonfly

package watcher

import (
	"errors"
	"syscall"
)

// isWatchLimit reports whether err from adding a watch means the process ran
// out of file descriptors: kqueue opens one for every watched directory and
// every file in it, so the open-file limit is the watch limit.
func isWatchLimit(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// isInstanceLimit reports whether err from creating the watcher means the
// process ran out of file descriptors.
func isInstanceLimit(err error) bool {
	return isWatchLimit(err)
}

const (
	watchLimitMsg = "open-file limit reached while adding watches (kqueue needs one descriptor per watched file): " +
		"some directories are not watched; falling back to periodic full scans until watches can be added. " +
		"Fix: raise the limit, e.g. ulimit -n 65536 in the service's environment " +
		"(launchd: SoftResourceLimits/NumberOfFiles in the plist)"
	instanceLimitMsg = "open-file limit reached while creating the watcher: " +
		"falling back to periodic full scans until one can be created. " +
		"Fix: raise the limit, e.g. ulimit -n 65536 in the service's environment " +
		"(launchd: SoftResourceLimits/NumberOfFiles in the plist)"
)
