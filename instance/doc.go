// Package instance is the single-instance lock of `elfsync watch`: one
// watcher per root, and a way for other commands (status, doctor, reload)
// to find the one that runs.
//
// The lock is an OS file lock (flock on Unix, LockFileEx on Windows) on
// memory/index.db.lock (layout.InstanceLockFile), so the kernel releases it
// when the process dies, even by SIGKILL: a stale file never blocks a
// restart. The file holds the owner's pid and start time; its content is
// trusted only while the lock is held. It matches the index.db* pattern of
// memory/.gitignore, and the watcher ignores it.
//
// It owns that file and nothing else.
package instance
