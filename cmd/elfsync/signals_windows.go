//go:build windows

package main

import "os"

var (
	stopSignals = []os.Signal{os.Interrupt}
	hupSignals  []os.Signal // no SIGHUP: run `elfsync scan` to force a rescan
	// Windows cannot send another process a console signal: `elfsync
	// reload` and `elfsync stop` say so (stop the service from Task
	// Scheduler, or press Ctrl-C in its console).
	reloadSignal os.Signal
	stopSignal   os.Signal
)
