package indexer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// BusyTimeout is how long a connection waits for another process's lock
// before it reports SQLITE_BUSY.
const BusyTimeout = 10 * time.Second

// writerDSN is the DSN of the one writer connection. _txlock=immediate makes
// every transaction take the write lock at BEGIN, so two processes that read
// then write never deadlock into SQLITE_BUSY (PITFALLS: deferred failed 2,062
// of 6,000 transactions, immediate none).
func writerDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// No foreign_keys: the framework's tables declare references (cycles
	// to heuristics) that its own tools never enforce; enforcing them here
	// would make deleting a heuristic row fail.
	// temp_store stays FILE: a statement journal (every upsert of an
	// existing row needs one) is kept in memory up to SQLite's 64 KiB
	// and only a larger one goes to a temporary file. With
	// temp_store(MEMORY) none ever did, and the journal of one statement
	// that indexes thousands of records into a non-empty full-text index
	// (its merges rewrite old pages) held them all in memory: 44 MB of C
	// memory at the end of a 100k-note cold scan, 20 MB without.
	q.Set("_txlock", "immediate")
	return "file:" + filepath.ToSlash(path) + "?" + q.Encode()
}

// readerDSN opens the index read-only, for status and doctor.
func readerDSN(path string) string {
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	return "file:" + filepath.ToSlash(path) + "?" + q.Encode()
}

// openWriter opens path with a single connection and checks that it is an
// SQLite database this version can use, migrating it forward. A framework
// database is adopted in place after a backup copy (backupPath is then its
// path).
// An error wrapping errUnusable means the file must be set aside.
func openWriter(ctx context.Context, path string, now time.Time) (db *sql.DB, backupPath string, err error) {
	db, err = sql.Open("sqlite", writerDSN(path))
	if err != nil {
		return nil, "", err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	kind, err := classify(ctx, db)
	if err == nil && kind == kindFramework {
		backupPath, err = backup(ctx, db, path, now)
	}
	if err == nil {
		_, err = migrate(ctx, db)
	}
	if err != nil {
		db.Close()
		if isCorrupt(err) {
			return nil, "", fmt.Errorf("%w: %v", errUnusable, err)
		}
		return nil, "", err
	}
	return db, backupPath, nil
}

// backup copies a database about to be adopted to index.db.bak-<time>
// beside it, consistent even while other processes write (VACUUM INTO).
func backup(ctx context.Context, db *sql.DB, path string, now time.Time) (string, error) {
	dst := fmt.Sprintf("%s.bak-%s", path, now.UTC().Format("20060102T150405.000000000"))
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		return "", fmt.Errorf("back up %s before adopting it: %w", path, err)
	}
	return dst, nil
}

// errUnusable marks an index file that is corrupt, foreign or newer than
// this elfsync: it is set aside and rebuilt.
var errUnusable = errors.New("index unusable")

// isCorrupt reports whether err says the database file is damaged or not a
// database at all.
func isCorrupt(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, errUnusable) {
		return true
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return true
		}
	}
	return false
}

// setAside renames a damaged index and its WAL files out of the way, so the
// next open starts a fresh index and a person can still inspect the old one.
// It returns the new name.
func setAside(path string, now time.Time) (string, error) {
	aside := fmt.Sprintf("%s.broken-%s", path, now.UTC().Format("20060102T150405.000000000"))
	if err := os.Rename(path, aside); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("set aside %s: %w", path, err)
	}
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Rename(path+suffix, aside+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("set aside %s: %w", path+suffix, err)
		}
	}
	return aside, nil
}

// writeTx is withTx for elfsync's writes to the record tables: it marks
// the transaction as elfsync's (meta.writer, read by the change-log
// triggers) so its own changes are not written back into the files.
func writeTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	return withTx(ctx, db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = '1' WHERE key = 'writer'`); err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE meta SET value = '0' WHERE key = 'writer'`)
		return err
	})
}

// withTx runs fn in one transaction. The named return makes sure a failed
// COMMIT is reported, not dropped.
func withTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
			return
		}
		if cerr := tx.Commit(); cerr != nil {
			err = fmt.Errorf("commit: %w", cerr)
		}
	}()
	return fn(tx)
}
