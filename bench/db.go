package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// openRO opens an index read-only, as the framework's query tools would:
// the harness is "another process" reading while elfsync writes.
func openRO(path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	u := url.URL{Scheme: "file", Path: path, RawQuery: "mode=ro&_pragma=busy_timeout(5000)"}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

func indexPath(root string) string { return filepath.Join(root, "memory", "index.db") }

// countRows counts the rows of the record tables: learnings, heuristics
// and, in an elfsync index, the decision records of the framework's
// decisions table.
func countRows(ctx context.Context, db *sql.DB) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM learnings) + (SELECT count(*) FROM heuristics)
		+ (SELECT count(*) FROM decisions WHERE elf_key IS NOT NULL)`).Scan(&n)
	if err != nil && strings.Contains(err.Error(), "no such") {
		err = db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM learnings) + (SELECT count(*) FROM heuristics)`).Scan(&n)
	}
	return n, err
}

// rowInfo is what the harness checks of a record's rows: how many rows
// carry its filepath, and whether any of them has id 0 or NULL.
type rowInfo struct {
	n      int
	zeroID bool
}

// rowsByPath reads every filepath of the given tables with its row count.
func rowsByPath(ctx context.Context, db *sql.DB, tables ...string) (map[string]rowInfo, error) {
	out := map[string]rowInfo{}
	for _, t := range tables {
		rows, err := db.QueryContext(ctx, `SELECT filepath, coalesce(id, 0) FROM `+t)
		if err != nil {
			if strings.Contains(err.Error(), "no such column: filepath") {
				continue // the old heuristics table has no filepath
			}
			return nil, fmt.Errorf("read %s: %w", t, err)
		}
		for rows.Next() {
			var p string
			var id int64
			if err := rows.Scan(&p, &id); err != nil {
				rows.Close()
				return nil, err
			}
			ri := out[p]
			ri.n++
			if id == 0 {
				ri.zeroID = true
			}
			out[p] = ri
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
