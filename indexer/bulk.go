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

// isBulk reports whether an op is a plain new record file: the common
// case of a cold scan, with no old row, ledger entry, table move or wanted
// id to consider. Everything else goes through apply one file at a time.
func isBulk(o *op) bool {
	return !o.drop && !o.p.touch && o.p.parseErr == nil && o.p.old == nil && !o.p.sections &&
		extraID(o.p.rec.Extra) == 0
}

// placeholders returns "(?,?,…),(?,?,…)…": rows groups of cols
// parameters. Only placeholders are built here, never values.
func placeholders(rows, cols int, tail string) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + tail + ")"
	return strings.TrimSuffix(strings.Repeat(one+",", rows), ",")
}

// repeatRow returns rows copies of one VALUES row, comma-separated.
func repeatRow(row string, rows int) string {
	return strings.TrimSuffix(strings.Repeat(row+",", rows), ",")
}

// bulkSQL is, per table, the multi-row form of its insert (see write.go):
// the head, one VALUES row of parameters, and what follows the rows. A
// row whose key exists already (its ledger entry was lost) is not
// touched here: its file goes through the one-row upsert after (see
// bulkInsert).
var bulkSQL = map[string]struct{ head, row string }{
	"learnings": {
		`INSERT INTO learnings (type, filepath, title, summary, tags, domain, severity, created_at, updated_at, extra, elf_key) VALUES `,
		`(?,?,?,?,?,?,?,?,?,?,?)`},
	"heuristics": {
		`INSERT INTO heuristics (elf_key, filepath, domain, rule, explanation, source_type, confidence, is_golden,
	times_validated, times_violated, created_at, updated_at, title, tags, extra, project_path) VALUES `,
		`(?,?,coalesce(?,''),?,?,?,coalesce(?,0.5),coalesce(?,0),coalesce(?,0),coalesce(?,0),?,?,?,?,?,?)`},
	"decisions": {
		`INSERT INTO decisions (elf_key, filepath, title, context, decision, rationale, status, domain, created_at, updated_at, tags, extra) VALUES `,
		`(?,?,?,?,?,?,?,?,?,?,?,?)`},
}

const bulkTail = `
ON CONFLICT(elf_key) DO NOTHING
RETURNING elf_key, id`

// bulkArgs appends one record's VALUES parameters for its table.
func bulkArgs(args []any, tbl, fp string, r *frontmatter.Record) []any {
	switch tbl {
	case "heuristics":
		var golden, conf, tv, tvio any
		if r.IsGolden != nil {
			golden = *r.IsGolden
		}
		if r.Confidence != nil {
			conf = *r.Confidence
		}
		if r.TimesValidated != 0 || r.ValidatedBy != nil {
			tv = r.TimesValidated
		}
		if r.TimesViolated != 0 || r.ViolatedBy != nil {
			tvio = r.TimesViolated
		}
		return append(args, fp, fp, null(r.Domain), r.Rule, null(r.Explanation), null(r.SourceType), conf, golden, tv, tvio,
			timeText(r.Created), timeText(r.Updated), r.Title, null(r.TagString()), null(r.Extra), null(r.ProjectPath))
	case "decisions":
		d := decisionFields(r)
		return append(args, fp, fp, r.Title, d.context, d.decision, d.rationale, d.status, null(r.Domain),
			timeText(r.Created), timeText(r.Updated), null(r.TagString()), null(r.Extra))
	}
	var sev any
	if r.Severity != 0 {
		sev = r.Severity
	}
	return append(args, r.Type, fp, r.Title, null(r.Summary), null(r.TagString()),
		null(r.Domain), sev, timeText(r.Created), timeText(r.Updated), null(r.Extra), fp)
}

// bulkRecordSQL is the insert of n new records of table tbl.
func bulkRecordSQL(tbl string, n int) string {
	q := bulkSQL[tbl]
	return q.head + repeatRow(q.row, n) + bulkTail
}

// bulkLedgerSQL is the insert of the ledger entries of n new files.
func bulkLedgerSQL(n int) string {
	return `INSERT INTO files (filepath, size, mtime_ns, hash, error, tbl, nrec) VALUES ` +
		repeatRow("(?,?,?,?,NULL,?,1)", n) + `
ON CONFLICT(filepath) DO UPDATE SET
	size = excluded.size, mtime_ns = excluded.mtime_ns, hash = excluded.hash,
	error = excluded.error, tbl = excluded.tbl, nrec = excluded.nrec`
}

// cachedStmts are the full-size multi-row statements of a large
// reconcile, prepared once before its first transaction and run in each
// (tx.StmtContext reuses the statement prepared on the one connection).
// Parsing a 50-row statement anew for every 50 files was ~0.2 s of a 20k
// cold scan. Any other statement is prepared where it runs.
type cachedStmts map[string]*sql.Stmt

// prepareBulk prepares the full-size statements of bulkInsert and
// writeDocs. It runs outside any transaction: the pool's one connection
// is free then.
func prepareBulk(ctx context.Context, db *sql.DB) (cachedStmts, error) {
	c := cachedStmts{}
	qs := []string{bulkLedgerSQL(bulkRows), insertDocsSQL(docRows)}
	for _, t := range []string{"learnings", "heuristics", "decisions"} {
		qs = append(qs, bulkRecordSQL(t, bulkRows))
	}
	for _, q := range qs {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			c.close()
			return nil, fmt.Errorf("prepare: %w", err)
		}
		c[q] = st
	}
	return c, nil
}

func (c cachedStmts) close() {
	for _, st := range c {
		st.Close()
	}
}

func (c cachedStmts) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if st := c[q]; st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

func (c cachedStmts) query(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	if st := c[q]; st != nil {
		return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, q, args...)
}

// bulkInsert writes new records of one table and their ledger entries
// with multi-row statements, and sets each op's searchID to its row's id.
// It returns the ops whose key had a row already, for the one-row path.
func bulkInsert(ctx context.Context, tx *sql.Tx, c cachedStmts, tbl string, ops []*op, res *Result) ([]*op, error) {
	var rest []*op
	for len(ops) > 0 {
		n := min(len(ops), bulkRows)
		chunk := ops[:n]
		ops = ops[n:]

		args := make([]any, 0, n*16)
		byPath := make(map[string]*op, n)
		for _, o := range chunk {
			fp := rootRel(o.rel)
			byPath[fp] = o
			args = bulkArgs(args, tbl, fp, &o.p.rec)
		}
		if err := scanIDs(ctx, tx, c, bulkRecordSQL(tbl, n), args, byPath); err != nil {
			return nil, err
		}

		args = args[:0]
		k := 0
		for _, o := range chunk {
			if o.searchID == 0 {
				rest = append(rest, o)
				continue
			}
			args = append(args, rootRel(o.rel), o.p.size, o.p.mtime, o.p.hash, tbl)
			k++
		}
		if k == 0 {
			continue
		}
		if _, err := c.exec(ctx, tx, bulkLedgerSQL(k), args...); err != nil {
			return nil, err
		}
		res.Added += k
	}
	return rest, nil
}

// scanIDs runs an insert RETURNING (key, id) and sets each op's searchID.
func scanIDs(ctx context.Context, tx *sql.Tx, c cachedStmts, q string, args []any, byPath map[string]*op) error {
	rows, err := c.query(ctx, tx, q, args...)
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
