// Package indexer keeps the SQLite index of a memory folder in line with the
// files. It is the only package that speaks SQL.
//
// The files are the truth. For every record file under memory/ the index has
// a ledger entry (size, mtime, hash, parse error) and, while the file parses,
// one row in learnings or heuristics keyed by its filepath, plus an entry in
// the full-text search table. A reconcile walks the disk, compares it with
// the ledger (size and mtime first, then the content hash) and brings the
// rows in line in batched transactions; the same code serves a full scan and
// the watcher's per-path hints.
//
// The database is opened in WAL mode with a busy timeout so other processes
// (the framework's query tools, sqlite3, a second elfsync) can read while it
// writes. Its schema is versioned with PRAGMA user_version and migrated
// forward; an index that is corrupt, foreign or from a newer schema is set
// aside (renamed, logged) and rebuilt from the files.
//
// The package does not parse markdown (frontmatter does), watch the disk
// (watcher does) or run git (committer does).
package indexer
