// Package agent is the pipeline of `elfsync watch`: it ties a watcher, the
// index and the committer together, runs them, and stops them in order.
//
//	watcher ──batches──▶ agent loop ──Sync/Scan──▶ index
//	                         │
//	                         └──Notify(changed paths)──▶ committer ──▶ git
//
// # What it owns
//
// The agent owns the run loop (the one goroutine that calls the index), the
// schedule of full scans (at startup, on a jittered timer, when the watcher
// asks for one, on a rescan request such as SIGHUP, and after a failed
// update), the pace of hand-over (the watcher's channel is unbuffered, so
// while the loop indexes one batch what settles meanwhile joins the
// watcher's next batch instead of waiting as many small ones), holding the
// committer's commits while the index is behind a burst (a batch is ready
// the moment the last one is done; Committer.Hold), the index's upkeep
// while it is idle (merging the full-text index and rewriting a stale
// ledger snapshot, after the startup scan and after writes, a bounded
// step at a time until one finds nothing more; Index.Upkeep),
// and the cancellation of every component it runs. Each component gets a
// context of its own, so the agent decides the shutdown order rather than
// the order in which goroutines notice a shared cancellation.
//
// It owns no file, row or commit: the index owns the database, the committer
// the git history, the watcher its watch set and settle queue. It declares
// the small interfaces it needs of each (Index, Committer, Watcher), so the
// loop is tested with fakes.
//
// # Lifecycle
//
// New checks the Config and starts nothing. Run starts the watcher, waits
// until its watches are in place, starts the committer, runs the startup
// full scan, starts the Producers and Followers, and loops until its
// context is cancelled or a component fails. Then it stops, in this order:
//
//  1. Producers (components that write files into memory/, such as a loop
//     that turns direct database writes into files), so what they wrote is
//     seen below;
//  2. the watcher; what it still held (queued batches, paths not yet
//     settled, events already read; Watcher.Rest) is indexed as the last
//     batch, then a final full scan catches writes whose events had not
//     reached the watcher yet (a note written a millisecond before SIGTERM);
//  3. the committer, told about everything above, makes its final commit;
//  4. Followers (components that act on commits, such as a push to a
//     remote), so they see the last commit.
//
// Steps 2-4 run under a context that is no longer cancelled, bounded by
// FlushTimeout. A second stop signal (handled by the command line) exits at
// once without them.
//
// Once is the same pipeline run once, for `elfsync scan` and `elfsync
// init`: a full scan, then a commit of whatever differs. Its Summary
// writes the scan's outputs (WriteText, and WriteJSON for `scan --json`).
//
// # Errors
//
// A component that fails stops the run: the shutdown above still runs, and
// Run returns that component's error unchanged (it already names what
// failed). When the memory folder itself vanished (watcher.ErrRootGone),
// nothing is indexed or scanned any more: there is nothing left to read,
// and a scan would take the missing folder for a mass delete.
package agent
