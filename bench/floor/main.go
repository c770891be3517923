// Command floor is the benchmark's lower bound for indexing a memory
// folder: the least work any indexer must do, with the SQLite library
// elfsync uses (modernc.org/sqlite) and the same pragmas.
//
//	floor insert ROOT   # walk ROOT/memory, read every .md file, insert path, size, mtime and content: one transaction
//	floor fts5 ROOT     # the same, plus an FTS5 index (unicode61) of the contents, in the same transaction
//	floor update ROOT   # after fts5: the notes whose size or mtime changed, re-read, their rows and FTS5 entries replaced: one transaction
//
// It parses nothing, keeps no ledger and checks nothing: elfsync's cold
// scan is compared against insert and fts5, its scan of a few modified
// notes against update. The database is ROOT/floor.db, removed first by
// insert and fts5. They print {"files":N,"seconds":S} on stdout; update
// prints the notes it updated as files, and as write_seconds the time from
// the first changed note read to the database closed (its checkpoint
// included), without the walk that found them.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite"
)

func main() {
	if len(os.Args) != 3 || (os.Args[1] != "insert" && os.Args[1] != "fts5" && os.Args[1] != "update") {
		fmt.Fprintln(os.Stderr, "usage: floor insert|fts5|update ROOT")
		os.Exit(2)
	}
	var out map[string]any
	var err error
	if os.Args[1] == "update" {
		var n int
		var w time.Duration
		n, w, err = update(context.Background(), os.Args[2])
		out = map[string]any{"files": n, "write_seconds": w.Seconds()}
	} else {
		var n int
		var d time.Duration
		n, d, err = run(context.Background(), os.Args[1] == "fts5", os.Args[2])
		out = map[string]any{"files": n, "seconds": d.Seconds()}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

// open opens the floor's database with elfsync's pragmas.
func open(path string) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "temp_store(MEMORY)")
	// A 16 MB page cache: with SQLite's default 2 MB, one transaction of
	// 20,000 notes spills pages mid-transaction and the FTS5 floor takes
	// 3-8 times as long (21 s instead of 2.5 s here), which would make it
	// no floor. 16 MB stays within elfsync's own 64 MB budget.
	q.Add("_pragma", "cache_size(-16384)")
	q.Add("_txlock", "immediate")
	db, err := sql.Open("sqlite", (&url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}).String())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

func run(ctx context.Context, fts bool, root string) (n int, d time.Duration, err error) {
	start := time.Now()
	path := filepath.Join(root, "floor.db")
	for _, s := range []string{"", "-wal", "-shm", "-journal"} {
		if err := os.Remove(path + s); err != nil && !os.IsNotExist(err) {
			return 0, 0, err
		}
	}
	db, err := open(path)
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	schema := `CREATE TABLE notes (id INTEGER PRIMARY KEY, filepath TEXT NOT NULL UNIQUE, size INTEGER, mtime_ns INTEGER, body TEXT)`
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return 0, 0, err
	}
	if fts {
		if _, err := db.ExecContext(ctx, `CREATE VIRTUAL TABLE search USING fts5(body, content='', contentless_delete=1, tokenize='unicode61')`); err != nil {
			return 0, 0, err
		}
	}
	err = inTx(ctx, db, func(tx *sql.Tx) error {
		ins, err := tx.PrepareContext(ctx, `INSERT INTO notes (filepath, size, mtime_ns, body) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		var ftsIns *sql.Stmt
		if fts {
			if ftsIns, err = tx.PrepareContext(ctx, `INSERT INTO search (rowid, body) VALUES (?, ?)`); err != nil {
				return err
			}
		}
		return walkNotes(root, func(rel, p string, info fs.FileInfo) error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			res, err := ins.ExecContext(ctx, rel, info.Size(), info.ModTime().UnixNano(), string(b))
			if err != nil {
				return err
			}
			if fts {
				id, err := res.LastInsertId()
				if err != nil {
					return err
				}
				if _, err := ftsIns.ExecContext(ctx, id, string(b)); err != nil {
					return err
				}
			}
			n++
			return nil
		})
	})
	if err != nil {
		return 0, 0, err
	}
	return n, time.Since(start), nil
}

// inTx runs fn in one transaction of db, committed when fn succeeds.
func inTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// update finds the notes under root/memory whose size or mtime differs
// from their rows in the floor.db an fts5 run left (one walk, lstat of
// every file), then reads each, updates its row and replaces its FTS5
// entry (contentless_delete: no old text to tokenize; no merges), in one
// transaction, and closes the database. It handles modified notes only
// (the benchmark's): a note without a row is an error, a row without its
// note is left. It returns the notes updated and the time from the first
// read to the database closed.
func update(ctx context.Context, root string) (n int, w time.Duration, err error) {
	path := filepath.Join(root, "floor.db")
	if _, err := os.Stat(path); err != nil {
		return 0, 0, fmt.Errorf("no floor database (run floor fts5 first): %w", err)
	}
	db, err := open(path)
	if err != nil {
		return 0, 0, err
	}
	defer db.Close() // closed below, timed; again here on an error
	type row struct{ id, size, mtime int64 }
	rows := map[string]row{}
	rs, err := db.QueryContext(ctx, `SELECT id, filepath, size, mtime_ns FROM notes`)
	if err != nil {
		return 0, 0, err
	}
	for rs.Next() {
		var r row
		var fp string
		if err := rs.Scan(&r.id, &fp, &r.size, &r.mtime); err != nil {
			rs.Close()
			return 0, 0, err
		}
		rows[fp] = r
	}
	if err := errors.Join(rs.Err(), rs.Close()); err != nil {
		return 0, 0, err
	}
	type change struct {
		path            string
		id, size, mtime int64
	}
	var changed []change
	err = walkNotes(root, func(rel, p string, info fs.FileInfo) error {
		r, ok := rows[rel]
		if !ok {
			return fmt.Errorf("%s: a new note (floor update handles modified ones only)", rel)
		}
		if r.size != info.Size() || r.mtime != info.ModTime().UnixNano() {
			changed = append(changed, change{p, r.id, info.Size(), info.ModTime().UnixNano()})
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	// No automatic merges: FTS5's default (4 segments a level) would make
	// every few updates merge what the earlier ones wrote, deferred work
	// that is no part of this update's floor.
	if _, err := db.ExecContext(ctx, `INSERT INTO search (search, rank) VALUES ('automerge', 0)`); err != nil {
		return 0, 0, err
	}
	writeStart := time.Now()
	err = inTx(ctx, db, func(tx *sql.Tx) error {
		for _, c := range changed {
			b, err := os.ReadFile(c.path)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE notes SET size = ?, mtime_ns = ?, body = ? WHERE id = ?`, c.size, c.mtime, string(b), c.id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM search WHERE rowid = ?`, c.id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO search (rowid, body) VALUES (?, ?)`, c.id, string(b)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	if err := db.Close(); err != nil {
		return 0, 0, err
	}
	return len(changed), time.Since(writeStart), nil
}

// walkNotes calls fn for every .md file under root/memory with its
// memory-relative slash path, its path and its lstat information.
func walkNotes(root string, fn func(rel, path string, info fs.FileInfo) error) error {
	mem := filepath.Join(root, "memory")
	return filepath.WalkDir(mem, func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() || !strings.HasSuffix(p, ".md") {
			return err
		}
		info, err := de.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(mem, p)
		if err != nil {
			return err
		}
		return fn(filepath.ToSlash(rel), p, info)
	})
}
