package indexer

import (
	"context"
	"database/sql"
	"strings"
)

// bulkRows is how many new files one multi-row statement inserts. Each
// statement costs a fixed round trip through database/sql and the driver
// (binding, stepping, resetting); for the 20,000 new files of a cold scan
// that overhead was a third of the writer's time.
const bulkRows = 50

// isBulk reports whether an op is a plain new learning: the common case of
// a cold scan, with no old row, ledger entry, table move or wanted id to
// consider. Everything else goes through apply one file at a time.
func isBulk(o *op) bool {
	return !o.drop && !o.p.touch && o.p.parseErr == nil && o.p.old == nil && !o.p.sections &&
		tableOf(o.p.rec.Type) == "learnings" && extraID(o.p.rec.Extra) == 0
}

// placeholders returns "(?,?,…),(?,?,…)…": rows groups of cols
// parameters. Only placeholders are built here, never values.
func placeholders(rows, cols int, tail string) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + tail + ")"
	return strings.TrimSuffix(strings.Repeat(one+",", rows), ",")
}

// bulkInsert writes new learnings and their ledger entries with
// multi-row statements, and sets each op's searchID to its row's id.
func bulkInsert(ctx context.Context, tx *sql.Tx, ops []*op, res *Result) error {
	for len(ops) > 0 {
		n := min(len(ops), bulkRows)
		chunk := ops[:n]
		ops = ops[n:]

		args := make([]any, 0, n*11)
		byPath := make(map[string]*op, n)
		for _, o := range chunk {
			r := &o.p.rec
			var sev any
			if r.Severity != 0 {
				sev = r.Severity
			}
			fp := rootRel(o.rel)
			byPath[fp] = o
			args = append(args, r.Type, fp, r.Title, null(r.Summary), null(r.TagString()),
				null(r.Domain), sev, timeText(r.Created), timeText(r.Updated), null(r.Extra), fp)
		}
		q := `INSERT INTO learnings (type, filepath, title, summary, tags, domain, severity, created_at, updated_at, extra, elf_key) VALUES ` +
			placeholders(n, 11, "") + `
ON CONFLICT(elf_key) DO UPDATE SET
	type = excluded.type, filepath = excluded.filepath, title = excluded.title, summary = excluded.summary,
	tags = excluded.tags, domain = excluded.domain, severity = excluded.severity,
	created_at = excluded.created_at, updated_at = excluded.updated_at, extra = excluded.extra
RETURNING elf_key, id`
		if err := scanIDs(ctx, tx, q, args, byPath); err != nil {
			return err
		}

		args = args[:0]
		for _, o := range chunk {
			args = append(args, rootRel(o.rel), o.p.size, o.p.mtime, o.p.hash)
		}
		q = `INSERT INTO files (filepath, size, mtime_ns, hash, error, tbl, nrec) VALUES ` +
			placeholders(n, 4, ",NULL,'learnings',1") + `
ON CONFLICT(filepath) DO UPDATE SET
	size = excluded.size, mtime_ns = excluded.mtime_ns, hash = excluded.hash,
	error = excluded.error, tbl = excluded.tbl, nrec = excluded.nrec`
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
		res.Added += n
	}
	return nil
}

// scanIDs runs an insert RETURNING (key, id) and sets each op's searchID.
func scanIDs(ctx context.Context, tx *sql.Tx, q string, args []any, byPath map[string]*op) error {
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
	return rows.Err()
}
