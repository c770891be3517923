//go:build unix

package main

import (
	"os"
	"syscall"
)

var (
	stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}
	hupSignals  = []os.Signal{syscall.SIGHUP}
	// What `elfsync reload` and `elfsync stop` send to the running watcher.
	reloadSignal os.Signal = syscall.SIGHUP
	stopSignal   os.Signal = syscall.SIGTERM
)
