package indexer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// invalidFiles lists every tracked file whose content does not parse.
func (ix *Index) invalidFiles(ctx context.Context) ([]FileError, error) {
	return queryInvalid(ctx, ix.db)
}

func queryInvalid(ctx context.Context, db *sql.DB) ([]FileError, error) {
	rows, err := db.QueryContext(ctx, `SELECT filepath, error FROM files WHERE error IS NOT NULL ORDER BY filepath`)
	if err != nil {
		return nil, fmt.Errorf("list invalid files: %w", err)
	}
	defer rows.Close()
	var out []FileError
	for rows.Next() {
		var fe FileError
		if err := rows.Scan(&fe.Path, &fe.Error); err != nil {
			return nil, err
		}
		out = append(out, fe)
	}
	return out, rows.Err()
}

// Title returns the title of the record at a root-relative filepath, or ""
// when the index has no row for it. The committer uses it for commit
// message bodies.
func (ix *Index) Title(ctx context.Context, filepath string) string {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.db == nil {
		return ""
	}
	var title string
	err := ix.db.QueryRowContext(ctx, `
SELECT title FROM learnings WHERE elf_key = ?1
UNION ALL SELECT coalesce(title, rule) FROM heuristics WHERE filepath = ?1 AND elf_key IS NOT NULL
UNION ALL SELECT title FROM decisions WHERE elf_key = ?1
LIMIT 1`, filepath).Scan(&title)
	if err != nil {
		return ""
	}
	return title
}

// ErrNoRow means the index has no row for a filepath.
var ErrNoRow = errors.New("no such row")

// SetHeuristicCounters sets the database-owned counters of the heuristic at
// a root-relative filepath; import uses it to carry an old index's figures
// over. It returns ErrNoRow when the file has no heuristic row.
func (ix *Index) SetHeuristicCounters(ctx context.Context, filepath string, validated, violated int) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	res, err := ix.db.ExecContext(ctx,
		`UPDATE heuristics SET times_validated = ?, times_violated = ? WHERE filepath = ?`,
		validated, violated, filepath)
	if err != nil {
		return fmt.Errorf("set counters of %s: %w", filepath, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("set counters of %s: %w", filepath, ErrNoRow)
	}
	return nil
}

// LastScan returns when the last full scan finished, or the zero time.
func (ix *Index) LastScan(ctx context.Context) time.Time {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return lastScan(ctx, ix.db)
}

func lastScan(ctx context.Context, db *sql.DB) time.Time {
	var v string
	if err := db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'last_scan'`).Scan(&v); err != nil {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, v)
	return t
}
