package indexer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emergent-learning/elfsync/edit"
	"github.com/emergent-learning/elfsync/frontmatter"
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
// message bodies. A domain file, which holds many heuristics, is
// described by what changed in it (see describe.go).
func (ix *Index) Title(ctx context.Context, filepath string) string {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.db == nil {
		return ""
	}
	var title string
	err := ix.db.QueryRowContext(ctx, `
SELECT title FROM learnings WHERE elf_key = ?1
UNION ALL SELECT coalesce(title, rule) FROM heuristics WHERE elf_key = ?1
UNION ALL SELECT title FROM decisions WHERE elf_key = ?1
LIMIT 1`, filepath).Scan(&title)
	if errors.Is(err, sql.ErrNoRows) {
		return ix.describeDomainFile(ctx, filepath)
	}
	if err != nil {
		return ""
	}
	return title
}

// ErrNoRow means the index has no row for a filepath.
var ErrNoRow = errors.New("no such row")

// SetHeuristicCounters sets the counters of the heuristic at a
// root-relative filepath; import uses it to carry an old index's figures
// over. They are written into the file (as the "base" part of its
// tallies: nothing lives only in the database), which is then indexed.
// It returns ErrNoRow when the file has no heuristic row.
func (ix *Index) SetHeuristicCounters(ctx context.Context, fp string, validated, violated int) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var n int
	if err := ix.db.QueryRowContext(ctx, `SELECT count(*) FROM heuristics WHERE elf_key = ?`, fp).Scan(&n); err != nil {
		return fmt.Errorf("set counters of %s: %w", fp, err)
	}
	if n == 0 {
		return fmt.Errorf("set counters of %s: %w", fp, ErrNoRow)
	}
	rel := strings.TrimPrefix(fp, MemoryDir+"/")
	_, err := edit.New(ix.memDir, ix.opts.MaxSize).Update(rel, func(data []byte) ([]byte, error) {
		rec, err := frontmatter.Parse(frontmatter.Input{Path: rel, Data: data, MaxSize: ix.opts.MaxSize})
		if err != nil {
			return nil, err
		}
		// In the file's style (a bold-field heuristic gets bold lines).
		out, _, err := frontmatter.EditRecord(frontmatter.Input{Path: rel, Data: data, MaxSize: ix.opts.MaxSize}, []frontmatter.Change{
			{Key: frontmatter.KeyTimesValidated, Value: int64(validated)},
			{Key: frontmatter.KeyValidatedBy, Value: frontmatter.Normalize(rec.ValidatedBy, int64(validated))},
			{Key: frontmatter.KeyTimesViolated, Value: int64(violated)},
			{Key: frontmatter.KeyViolatedBy, Value: frontmatter.Normalize(rec.ViolatedBy, int64(violated))},
		})
		return out, err
	})
	if err != nil {
		return fmt.Errorf("set counters of %s: %w", fp, err)
	}
	if _, err := ix.syncPaths(ctx, []string{rel}); err != nil {
		return fmt.Errorf("set counters of %s: %w", fp, err)
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
