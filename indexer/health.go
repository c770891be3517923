package indexer

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Health is what `elfsync doctor` reads of the index file itself.
type Health struct {
	Path          string
	Exists        bool
	JournalMode   string // "wal" once elfsync has opened it
	SchemaVersion int
	Integrity     string // "ok", or what PRAGMA integrity_check reported
}

// CheckHealth opens the index read-only and runs PRAGMA integrity_check,
// which reads every page: slower than a scan, so only doctor calls it.
func CheckHealth(ctx context.Context, root string) (Health, error) {
	h := Health{Path: filepath.Join(root, MemoryDir, DBName)}
	if _, err := os.Stat(h.Path); err != nil {
		if os.IsNotExist(err) {
			return h, nil
		}
		return h, err
	}
	h.Exists = true
	db, err := sql.Open("sqlite", readerDSN(h.Path))
	if err != nil {
		return h, err
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&h.JournalMode); err != nil {
		return h, fmt.Errorf("read %s: %w", h.Path, err)
	}
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&h.SchemaVersion); err != nil {
		return h, fmt.Errorf("read %s: %w", h.Path, err)
	}
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return h, fmt.Errorf("integrity check of %s: %w", h.Path, err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return h, err
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return h, fmt.Errorf("integrity check of %s: %w", h.Path, err)
	}
	h.Integrity = strings.Join(msgs, "; ")
	return h, nil
}
