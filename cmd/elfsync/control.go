package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/emergent-learning/elfsync/instance"
)

// cmdReload and cmdStop signal the watcher of a root by the pid its
// instance lock records, so that only that root's watcher is touched (not
// every `elfsync watch` on the machine, as `pkill -f` would).
func cmdReload(ctx context.Context, e *cmdEnv, args []string) error {
	return e.signalWatcher(ctx, "reload", reloadSignal, args)
}

func cmdStop(ctx context.Context, e *cmdEnv, args []string) error {
	return e.signalWatcher(ctx, "stop", stopSignal, args)
}

func (e *cmdEnv) signalWatcher(ctx context.Context, name string, sig os.Signal, args []string) error {
	fs, rootFlag := e.newFlagSet(name, "[flags]")
	wait := fs.Duration("timeout", 2*time.Minute, "stop: how long to wait for the watcher to exit")
	root, err := e.parseRoot(fs, args, rootFlag)
	if err != nil {
		return err
	}
	pid, err := instance.Signal(root, sig)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if name == "reload" {
		fmt.Fprintf(e.stdout, "asked the watcher (pid %d) for a full rescan\n", pid)
		return nil
	}
	if err := instance.WaitStopped(ctx, root, *wait); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "stopped the watcher (pid %d)\n", pid)
	return nil
}
