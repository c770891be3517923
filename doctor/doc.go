// Package doctor checks everything elfsync depends on for one root and
// says what to do about each problem: the root and memory folder (present,
// a folder, writable), the index file (integrity, WAL, schema version),
// drift between files and index, git (uncommitted paths, a lock left by a
// crashed git, an operation in progress, identity), the inotify limits
// against the directories to watch, whether a watcher runs, and the sync
// state with a git remote and the conflict copies its merges kept.
//
// It only reads: the index through indexer.CheckHealth and indexer.Check,
// git through committer.ReadStatus (doctor runs no git itself), the
// watcher through instance.Read, the remote through remote.ReadStatus and
// remote.Conflicts. The one write is a probe file (a dot-file
// elfsync ignores) created and removed to learn whether the memory folder
// is writable, which permission bits alone cannot tell.
//
// PendingIsFine asks status whether flagged drift and uncommitted paths
// are work a running watcher is still within its deadlines for, so doctor
// and `elfsync status` agree on what is a problem.
//
// Explain adds the same probe's finding to an error of opening the index
// (SQLite says only "unable to open database file"), for every command that
// opens one.
//
// `elfsync doctor` prints the Checks; Run is separate so other front ends
// can show the same findings.
package doctor
