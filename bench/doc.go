// Command bench is elfsync's benchmark harness: one command that measures
// every headline figure on the machine it runs on, the old per-record
// design included, and writes the table, the raw results and the chart.
//
//	go run ./bench                  # full: tens of minutes; writes bench/out/ and docs/bench.svg
//	go run ./bench --quick          # CI: tiny sizes, under two minutes, output in a temp dir
//	go run ./bench --runs 3 --scan-sizes 20000 --only scan,latency
//
// It builds ./cmd/elfsync (or uses --elfsync) and bench/floor, generates
// its corpora with bench/corpus (every file's mtime aged by an hour) and
// runs, each several times:
//
//   - scan: `elfsync scan --no-git` cold (index deleted), no-op, and with 1%
//     of the notes modified, and `elfsync status --no-git`, on 1k/20k/100k
//     notes of real English prose (sentences from the comments of the Go
//     sources in GOROOT: a natural vocabulary of tens of thousands of words,
//     frontmatter as the record scripts write it, bold-field notes and
//     multi-heuristic domain files), plus one labelled case on the first
//     56-word corpus; wall time, notes/s and peak RSS (GNU time -v, else
//     the child's rusage). Beside them, in the same run on the same files,
//     the floors: `find`, bench/floor reading every file and inserting it
//     into SQLite in one transaction (and with an FTS5 index of the
//     contents), `git status`, `git add -A` + commit, and bench/floor
//     updating the modified notes' rows and FTS5 entries (added to the
//     no-op scan, the least a scan of them costs); every elfsync
//     figure also as a ratio to its floor, and the 100k cold and no-op
//     scans to the 20k ones, in pairs run back to back after the rest (a
//     20k scan, then 100k's), as the machine drifts over the minutes
//     between the sizes' own runs. zk v0.15.2, the nearest peer, is built with its FTS5 tag into
//     the user cache once and measured too; where it cannot be built (the
//     module proxy does not serve it; it needs cgo) a note under the table
//     says why;
//   - latency: `elfsync watch --no-git`, notes renamed into memory/ at a
//     steady rate; per note, the time from the rename until a read-only
//     connection of the harness sees its row (p50/p99);
//   - burst: 10,000 notes from 20 writer goroutines as fast as they go into
//     a watched root with git on; last write to all rows indexed and to every
//     note in a commit (then git status clean and ls-files right), commits
//     made, git CPU time per note (the watcher's children times), and git
//     alone adding and committing the same files (the floor);
//   - trickle: one note a second; commits made and write-to-commit latency;
//   - idle: CPU of a watcher doing nothing over a minute on 20,000 notes in
//     500 directories (/proc/PID/stat), and its VmHWM/VmRSS;
//   - oldnew: bench/old-record.sh, a faithful copy of the old scripts
//     (sqlite3 with the old retry, busy_timeout 0, journal_mode=delete,
//     then flock and git add + commit per record), against elfsync watch fed
//     by scripts/record-failure.sh, at 1, 5, 20 and 50 concurrent writers.
//     The harness judges every record itself: the file exists, it has
//     exactly one row with a non-zero id, and it is in a commit.
//
// It prints a markdown table of medians with min–max (and the target from
// the issues where there is one), and writes results.json (every run's raw
// figures, the machine, the configuration), results.md and the chart.
//
// It exits non-zero when a scenario produced no figure; it does not judge
// speed. Every child runs in a process group of its own and is killed when
// the harness stops; watchers get SIGTERM first, then SIGKILL after 30 s.
// The corpora and roots live in a temp directory, removed at the end
// unless --keep; it must not be inside a git work tree, since elfsync
// would commit into it.
//
// Linux only: the idle and burst figures come from /proc.
package main
