//go:build windows

package main

import "os"

var (
	stopSignals = []os.Signal{os.Interrupt}
	hupSignals  []os.Signal // no SIGHUP: run `elfsync scan` to force a rescan
)
