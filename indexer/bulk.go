package indexer

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/emergent-learning/elfsync/frontmatter"
)

// bulkRows is how many new files one multi-row statement inserts. Each
// statement costs a fixed round trip through database/sql and the driver
// (binding, stepping, resetting); for the 20,000 new files of a cold scan
// that overhead was a third of the writer's time.
const bulkRows = 50

// isBulk reports whether an op is a plain new learning: the common case of
// a cold scan, with no old row, ledger entry or table move to consider.
// Everything else goes through apply one file at a time.
func isBulk(o *op) bool {
	return !o.drop && !o.p.touch && o.p.parseErr == nil && o.p.old == nil &&
		o.p.rec.Type != frontmatter.TypeHeuristic
}

// placeholders returns "(?,?,…),(?,?,…)…": rows groups of cols
// parameters. Only placeholders are built here, never values.
func placeholders(rows, cols int, tail string) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + tail + ")"
	return strings.TrimSuffix(strings.Repeat(one+",", rows), ",")
}

// bulkInsert writes new learnings and their ledger entries with
// multi-row statements, and sets each op's searchID.
func bulkInsert(ctx context.Context, tx *sql.Tx, ops []*op, res *Result) error {
	for len(ops) > 0 {
		n := min(len(ops), bulkRows)
		chunk := ops[:n]
		ops = ops[n:]

		args := make([]any, 0, n*10)
		for _, o := range chunk {
			r := &o.p.rec
			var sev any
			if r.Severity != 0 {
				sev = r.Severity
			}
			args = append(args, r.Type, rootRel(o.rel), r.Title, null(r.Summary), null(r.TagString()),
				null(r.Domain), sev, timeText(r.Created), timeText(r.Updated), null(r.Extra))
		}
		q := `INSERT INTO learnings (type, filepath, title, summary, tags, domain, severity, created_at, updated_at, extra) VALUES ` +
			placeholders(n, 10, "") + `
ON CONFLICT(filepath) DO UPDATE SET
	type = excluded.type, title = excluded.title, summary = excluded.summary,
	tags = excluded.tags, domain = excluded.domain, severity = excluded.severity,
	created_at = excluded.created_at, updated_at = excluded.updated_at, extra = excluded.extra`
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}

		args = args[:0]
		byPath := make(map[string]*op, n)
		for _, o := range chunk {
			fp := rootRel(o.rel)
			byPath[fp] = o
			args = append(args, fp, o.p.size, o.p.mtime, o.p.hash)
		}
		q = `INSERT INTO files (filepath, size, mtime_ns, hash, error, tbl) VALUES ` +
			placeholders(n, 4, ",NULL,'learnings'") + `
ON CONFLICT(filepath) DO UPDATE SET
	size = excluded.size, mtime_ns = excluded.mtime_ns, hash = excluded.hash,
	error = excluded.error, tbl = excluded.tbl
RETURNING filepath, id`
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var fp string
			var id int64
			if err := rows.Scan(&fp, &id); err != nil {
				rows.Close()
				return err
			}
			if o := byPath[fp]; o != nil {
				o.searchID = id
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		res.Added += n
	}
	return nil
}

// writeSearch writes the full-text entries of ops that have one. They go
// one row per statement, after every other statement of the transaction:
// FTS5 flushes its pending segment to disk whenever a statement opens a
// savepoint, and both interleaved statements and multi-row inserts open
// one, which cost a segment per row (or per 50 rows) instead of one per
// batch.
func writeSearch(ctx context.Context, tx *sql.Tx, ops []*op) error {
	st, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO search (rowid, title, summary, body, rule) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, o := range ops {
		if o.drop || o.searchID == 0 {
			continue
		}
		r := &o.p.rec
		if _, err := st.ExecContext(ctx, o.searchID, r.Title, r.Summary, r.Body, r.Rule); err != nil {
			return fmt.Errorf("%s: %w", rootRel(o.rel), err)
		}
	}
	return nil
}
