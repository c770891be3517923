// Package watcher turns file-system events under the memory folder into
// settled batches of dirty, memory-relative paths.
//
// It owns the fsnotify watcher: one watch per directory (fsnotify is not
// recursive on Linux), added before each new directory is walked so that
// files written right after a `mkdir -p` are not missed; the per-path settle
// timer; the filtering of editor noise and index files (layout.Ignored);
// and the fallback to full scans when events may have
// been lost (queue overflow, a watch error, the inotify watch limit).
//
// It does not read file contents and does not decide what changed. Events are
// hints: a Batch only says "look at these paths again". The consumer (the
// indexer) Lstat's each path and compares it with what it knows, and runs a
// full scan whenever a Batch has Rescan set. A path that vanished is reported
// like one that changed; a vanished directory stands for its whole subtree.
//
// # Lifecycle
//
// New starts nothing. Run owns one goroutine, the loop, which holds every
// piece of state (the watch set, the dirty set, the single settle timer, the
// queue of batches not yet taken by the consumer), so none of it needs a
// mutex. Ready is closed once the initial watches are in place: a caller that
// runs its startup full scan after Ready loses nothing, because every change
// made after that point produces an event.
//
// When Run's context is cancelled the loop takes the events fsnotify has
// already read, without waiting for more, and stops; Rest then returns
// everything it still held (queued, unsettled, not yet walked) as one
// sorted batch, for the consumer to index last.
//
// # Bounded state
//
// The paths the loop tracks (dirty or queued for the consumer) are capped
// by Config.MaxTracked (50,000 by default, a few MB). Past the cap they are
// dropped for a single Rescan batch: a full scan is cheaper than that many
// paths one by one, and a burst of any size costs bounded memory.
//
// # Idle
//
// When nothing is dirty and nothing is queued, the loop blocks in one select
// with no timer armed: an idle watcher costs no CPU. The only exception is
// the degraded mode below, which wakes every Config.RetryEvery.
//
// # Degraded mode
//
// When the OS refuses more watches (inotify's fs.inotify.max_user_watches:
// ENOSPC, "no space left on device"; or max_user_instances: EMFILE, "too many
// open files", when creating the watcher), the watcher logs the exact sysctl
// to raise once, sends a Rescan batch, and then every Config.RetryEvery tries
// to add the missing watches again, sending a Rescan each time so that the
// consumer's periodic full scans keep the index correct meanwhile. Other
// errors adding a watch (a directory that vanished, one that cannot be read)
// do not make the watcher degraded: a vanished directory is already reported
// by its parent's event, and an unreadable one gets a single Rescan.
//
// # Platforms
//
// The package builds on Linux, macOS and Windows through fsnotify. Only the
// classification of limit errors and the advice logged for them are
// OS-specific (limits_*.go).
package watcher
