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
// without flushing, for when a flush hangs. hup receives rescan requests
// (SIGHUP on Unix; never on Windows).
func signalContext(ctx context.Context, stderr io.Writer) (_ context.Context, hup <-chan os.Signal, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	stopc := make(chan os.Signal, 2)
	signal.Notify(stopc, stopSignals...)
	hupc := make(chan os.Signal, 1)
	if len(hupSignals) > 0 {
		signal.Notify(hupc, hupSignals...)
	}
	done := make(chan struct{})
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
	return ctx, hupc, func() {
		signal.Stop(stopc)
		signal.Stop(hupc)
		close(done)
		cancel()
	}
}
