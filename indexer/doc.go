// Package indexer keeps the SQLite index of a memory folder in line with the
// files. It is the only package that writes SQL; package query reads the
// index read-only for search and the briefing.
//
// The files are the truth. For every record file under memory/ the index has
// a ledger entry (size, mtime, hash, parse error, how many records it holds)
// and, while the file parses, one row per record: in learnings, heuristics
// (type heuristic) or decisions (type decision), plus a full-text entry. A
// framework domain file (memory/heuristics/<domain>.md with "## H-<id>:"
// sections) holds one heuristic per section, whose row id is <id>. A
// reconcile walks the disk, compares it with the ledger (size and mtime
// first, then the content hash) and brings the rows in line in batched
// transactions; the same code serves a full scan and the watcher's hints.
//
// # The shared database
//
// index.db is also the framework's database: its tools read and write it
// directly. So the schema is the framework's whole schema (schema.go), and
// elfsync owns only the rows of learnings, heuristics and decisions that
// carry an elf_key (the record's file, or "<file>#H-<id>" for a section)
// and its own tables (files, search_docs, search, meta). A row without
// elf_key was written by a framework tool: when its file appears (a
// learnings row whose filepath is the file, a heuristic whose id a domain
// file's section names), the record claims it and keeps its id; the row's
// confidence, golden flag and counters are then written into the file
// (export.go), so a rebuilt index loses nothing. Other rows without
// elf_key (the framework's hooks keep notes outside memory/) are left as
// they are. Every other table is the framework's: never dropped or
// rewritten, and copied into the new index when a corrupt one is set aside
// (salvage.go). A framework database found at the root is adopted in place
// after a backup copy (index.db.bak-<time>).
//
// # Write-back
//
// Writes of other processes to learnings and heuristics are logged by
// plain-SQL triggers in elf_changes (elfsync's own transactions mark
// themselves in meta.writer and are not logged) and WriteBack turns them
// into file edits (writeback.go): UPDATEs into the file's fields or the
// section's lines (counters into this host's tally), DELETEs into removed
// files or sections (more than MassDelete at once: restored instead), and
// INSERTs without a file into new files after Options.Grace. Refused rows
// are kept in elf_refused and reported by Check as stale. Ids survive a
// move: a vanished file's id waits a minute (by content hash) for the same
// content under another name.
//
// # Full-text search
//
// search is an external-content FTS5 table over search_docs, readable by
// every SQLite since 3.9 (and by .dump and Python's iterdump). To map a hit
// to its row:
//
//	SELECT bm25(search) AS rank, l.*, h.*
//	FROM search JOIN search_docs d ON d.id = search.rowid
//	LEFT JOIN learnings l ON d.tbl = 'learnings' AND l.id = d.row_id
//	LEFT JOIN heuristics h ON d.tbl = 'heuristics' AND h.id = d.row_id
//	WHERE search MATCH ?
//
// d.row_id is rewritten with every write of the record (a claim, a merge,
// a restore), so it is the row's id; d.elf_key equals the row's elf_key
// for a join that does not trust it. d.tbl is 'decisions' for decision
// records.
//
// Rows come first and full text right after: a search_docs row is
// searchable once its id is at most meta.fts_upto. A scan of many files
// writes every row, then indexes them all in one pass; SearchPending
// counts the records in between (status shows them), and a crash there
// is completed by the next scan.
//
// # A no-op is cheap
//
// A full scan that finds nothing to do costs about what `git status` of
// the same files costs: the walk reads each folder once (getdents) and
// lstats each record file relative to it (fstatat), folders in parallel
// (walktree.go); the ledger comes from a snapshot file read in one go
// (snapshot.go: used only when the generation that triggers on files keep
// in meta says it is the ledger now) and, being in walk order, is compared
// with the walk position by position; and nothing is written to the index
// (the scan's time is the mtime of index.db.last-scan). Check (status)
// uses the same walk and snapshot, and finds conflict copies in that walk.
//
// The database is opened in WAL mode with a busy timeout so other processes
// can read and write while it writes. Its schema is versioned with PRAGMA
// user_version and migrated forward; an index that is corrupt or from a
// newer schema is set aside (renamed, logged, its framework tables
// salvaged) and rebuilt from the files.
//
// The package does not parse markdown (frontmatter does), watch the disk
// (watcher does) or run git (committer does).
package indexer
