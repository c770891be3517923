package indexer

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order; migrations[i] takes the schema from
// user_version i to i+1. Append, never edit a released step.
var migrations = []string{
	// 1: the framework's tables, the ledger and full-text search.
	`
CREATE TABLE learnings (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	type       TEXT NOT NULL,
	filepath   TEXT NOT NULL UNIQUE,
	title      TEXT NOT NULL,
	summary    TEXT,
	tags       TEXT,
	domain     TEXT,
	severity   INTEGER,
	created_at DATETIME,
	updated_at DATETIME,
	extra      TEXT
);
CREATE INDEX idx_learnings_type ON learnings(type);
CREATE INDEX idx_learnings_domain ON learnings(domain);
-- No index on tags: the framework queries them with LIKE '%tag%', which no
-- index serves, and it cost a fifth of a cold scan's writes.

CREATE TABLE heuristics (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	filepath        TEXT NOT NULL UNIQUE,
	domain          TEXT,
	rule            TEXT NOT NULL,
	explanation     TEXT,
	source_type     TEXT,
	source_id       INTEGER,
	confidence      REAL DEFAULT 0.5,
	times_validated INTEGER NOT NULL DEFAULT 0,
	times_violated  INTEGER NOT NULL DEFAULT 0,
	is_golden       BOOLEAN NOT NULL DEFAULT 0,
	created_at      DATETIME,
	updated_at      DATETIME,
	title           TEXT,
	tags            TEXT,
	extra           TEXT
);
CREATE INDEX idx_heuristics_domain ON heuristics(domain);
CREATE INDEX idx_heuristics_confidence ON heuristics(confidence);

-- The ledger: every record file elfsync tracks, valid or not. tbl names the
-- table that holds its row (NULL while it has none); error is the parse
-- error of its current content (NULL when it parses).
CREATE TABLE files (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	filepath TEXT NOT NULL UNIQUE,
	size     INTEGER NOT NULL,
	mtime_ns INTEGER NOT NULL,
	hash     TEXT NOT NULL,
	error    TEXT,
	tbl      TEXT CHECK (tbl IN ('learnings', 'heuristics'))
);

-- Full-text search over every row; rowid is files.id.
CREATE VIRTUAL TABLE search USING fts5(
	title, summary, body, rule,
	content = '', contentless_delete = 1,
	tokenize = 'unicode61'
);

CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`,
}

// SchemaVersion is the user_version this elfsync writes.
var SchemaVersion = len(migrations)

// migrate brings db forward to SchemaVersion. A database from a newer
// elfsync, or one that is not an elfsync index at all (the old framework's
// index.db has user_version 0 and its own tables), is reported as unusable
// so the caller sets it aside.
func migrate(ctx context.Context, db *sql.DB) error {
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > SchemaVersion {
		return fmt.Errorf("%w: schema version %d is newer than this elfsync's %d", errUnusable, v, SchemaVersion)
	}
	if v == 0 {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
			return fmt.Errorf("read schema: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("%w: not an elfsync index (user_version 0 with %d schema objects; an old framework index.db?)", errUnusable, n)
		}
	}
	for ; v < SchemaVersion; v++ {
		err := withTx(ctx, db, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
				return err
			}
			// PRAGMA takes no bound parameters; v is our own integer.
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
		}
	}
	return nil
}
