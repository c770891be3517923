package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
)

// signalContext returns a context cancelled by the first stop signal
// (SIGINT, SIGTERM; Ctrl-C on Windows). A second stop signal exits at once
// without flushing, for when a flush hangs. rescan receives a value per
// rescan request (SIGHUP on Unix; never on Windows).
func signalContext(ctx context.Context, stderr io.Writer) (_ context.Context, rescan <-chan struct{}, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	stopc := make(chan os.Signal, 2)
	signal.Notify(stopc, stopSignals...)
	hupc := make(chan os.Signal, 1)
	if len(hupSignals) > 0 {
		signal.Notify(hupc, hupSignals...)
	}
	done := make(chan struct{})
	rescanc := make(chan struct{}, 1)
	go func() {
		for {
			select {
			case <-hupc:
				select {
				case rescanc <- struct{}{}:
				default: // one is already waiting
				}
			case <-done:
				return
			}
		}
	}()
	go func() {
		select {
		case <-stopc:
			cancel()
		case <-done:
			return
		}
		select {
		case s := <-stopc:
			fmt.Fprintf(stderr, "elfsync: second %v: exiting without flushing\n", s)
			os.Exit(130)
		case <-done:
		}
	}()
	return ctx, rescanc, func() {
		signal.Stop(stopc)
		signal.Stop(hupc)
		close(done)
		cancel()
	}
}
