// Package edit changes memory files that already exist, in place: a
// heuristic's counters bumped by `elfsync heuristic validate`, the MCP
// server or a database write-back, or any frontmatter field a tool set.
//
// Every change is a read-modify-write of one file under one lock per
// memory folder (memory/.elfsync/write.lock, an OS file lock released when
// the process dies), written to a temp file in the same directory and
// renamed over the original, so a reader sees the old file or the new one
// and never a torn one, and a hundred processes bumping one counter at
// once lose no increment. A person's editor does not take the lock: if the
// file changes between the read and the rename, the edit is redone on the
// new content.
//
// It owns the host id (memory/.elfsync/host-id), the name under which this
// machine counts in a counter's per-host tally (see frontmatter.Tally).
// It does not create records (package record's job, or the scripts'), and
// it never touches SQLite or git: the watcher indexes and commits the
// result like any other write.
//
// Paths come from outside (a tool's database row, a language model's
// argument), so every path is checked by Resolve before anything is read:
// relative to the memory folder, no "..", no symlink on the way, a record
// file (.md, not index.db, not under .git).
package edit
