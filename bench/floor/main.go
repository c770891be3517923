// Command floor is the benchmark's lower bound for indexing a memory
// folder: the least work any indexer must do, with the SQLite library
// elfsync uses (modernc.org/sqlite) and the same pragmas.
//
//	floor insert ROOT   # walk ROOT/memory, read every .md file, insert path, size, mtime and content: one transaction
//	floor fts5 ROOT     # the same, plus an FTS5 index (unicode61) of the contents, in the same transaction
//
// It parses nothing, keeps no ledger and checks nothing: elfsync's cold
// scan is compared against it. The database is ROOT/floor.db, removed
// first. It prints {"files":N,"seconds":S} on stdout.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
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
	if len(os.Args) != 3 || (os.Args[1] != "insert" && os.Args[1] != "fts5") {
		fmt.Fprintln(os.Stderr, "usage: floor insert|fts5 ROOT")
		os.Exit(2)
	}
	n, d, err := run(context.Background(), os.Args[1] == "fts5", os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{"files": n, "seconds": d.Seconds()})
}

func run(ctx context.Context, fts bool, root string) (n int, d time.Duration, err error) {
	start := time.Now()
	path := filepath.Join(root, "floor.db")
	for _, s := range []string{"", "-wal", "-shm", "-journal"} {
		if err := os.Remove(path + s); err != nil && !os.IsNotExist(err) {
			return 0, 0, err
		}
	}
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
		return 0, 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	schema := `CREATE TABLE notes (id INTEGER PRIMARY KEY, filepath TEXT NOT NULL UNIQUE, size INTEGER, mtime_ns INTEGER, body TEXT)`
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return 0, 0, err
	}
	if fts {
		if _, err := db.ExecContext(ctx, `CREATE VIRTUAL TABLE search USING fts5(body, content='', contentless_delete=1, tokenize='unicode61')`); err != nil {
			return 0, 0, err
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO notes (filepath, size, mtime_ns, body) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return 0, 0, err
	}
	var ftsIns *sql.Stmt
	if fts {
		if ftsIns, err = tx.PrepareContext(ctx, `INSERT INTO search (rowid, body) VALUES (?, ?)`); err != nil {
			return 0, 0, err
		}
	}
	mem := filepath.Join(root, "memory")
	err = filepath.WalkDir(mem, func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() || !strings.HasSuffix(p, ".md") {
			return err
		}
		info, err := de.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(mem, p)
		res, err := ins.ExecContext(ctx, filepath.ToSlash(rel), info.Size(), info.ModTime().UnixNano(), string(b))
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
	if err != nil {
		return 0, 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, err
	}
	return n, time.Since(start), nil
}
