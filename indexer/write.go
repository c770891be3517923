package indexer

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/emergent-learning/elfsync/frontmatter"
)

// sqlTime is how timestamps are stored: SQLite's DATETIME text form in UTC,
// as the framework's own rows have them.
const sqlTime = "2006-01-02 15:04:05"

// Upserts keyed by filepath. An update keeps the row's id and never touches
// the columns only the database owns (times_validated, times_violated).
// Confidence and is_golden belong to the file when it states them; when it
// does not, an update keeps what the database has (the framework's hooks
// adjust them) and an insert uses the framework's defaults.
const (
	upsertLearning = `
INSERT INTO learnings (type, filepath, title, summary, tags, domain, severity, created_at, updated_at, extra)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
ON CONFLICT(filepath) DO UPDATE SET
	type = excluded.type, title = excluded.title, summary = excluded.summary,
	tags = excluded.tags, domain = excluded.domain, severity = excluded.severity,
	created_at = excluded.created_at, updated_at = excluded.updated_at, extra = excluded.extra`

	upsertHeuristic = `
INSERT INTO heuristics (filepath, domain, rule, explanation, source_type, confidence, is_golden,
	created_at, updated_at, title, tags, extra)
VALUES (?1, ?2, ?3, ?4, ?5, coalesce(?6, 0.5), coalesce(?7, 0), ?8, ?9, ?10, ?11, ?12)
ON CONFLICT(filepath) DO UPDATE SET
	domain = excluded.domain, rule = excluded.rule, explanation = excluded.explanation,
	source_type = excluded.source_type,
	confidence = coalesce(?6, heuristics.confidence),
	is_golden = coalesce(?7, heuristics.is_golden),
	created_at = excluded.created_at, updated_at = excluded.updated_at,
	title = excluded.title, tags = excluded.tags, extra = excluded.extra`

	insertLedger = `
INSERT INTO files (filepath, size, mtime_ns, hash, error, tbl) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT(filepath) DO UPDATE SET
	size = excluded.size, mtime_ns = excluded.mtime_ns, hash = excluded.hash,
	error = excluded.error, tbl = excluded.tbl
RETURNING id`
	updateLedger = `UPDATE files SET size = ?, mtime_ns = ?, hash = ?, error = ?, tbl = ? WHERE id = ?`
	touchLedger  = `UPDATE files SET size = ?, mtime_ns = ? WHERE id = ?`
	deleteLedger = `DELETE FROM files WHERE id = ?`
	deleteSearch = `DELETE FROM search WHERE rowid = ?`
)

// deleteRow holds the per-table deletes; table names cannot be bound
// parameters, so they come from this fixed map, never from input.
var deleteRow = map[string]string{
	"learnings":  `DELETE FROM learnings WHERE filepath = ?`,
	"heuristics": `DELETE FROM heuristics WHERE filepath = ?`,
}

// op is one pending change.
type op struct {
	drop bool
	rel  string
	old  *entry // for drop
	p    parsed
	// searchID is the full-text rowid to (re)write, set by apply.
	searchID int64
}

// writer collects changes and writes them in one transaction per flush.
type writer struct {
	ops []op
}

func (ix *Index) newWriter() *writer { return &writer{ops: make([]op, 0, batchSize)} }

func (w *writer) len() int { return len(w.ops) }

func (w *writer) drop(rel string, e *entry) {
	w.ops = append(w.ops, op{drop: true, rel: rel, old: e})
}

func (w *writer) put(p parsed) {
	if p.gone {
		if p.old != nil {
			w.drop(p.rel, p.old)
		}
		return
	}
	w.ops = append(w.ops, op{rel: p.rel, p: p})
}

// stmts are the statements of one transaction.
type stmts struct {
	learning, heuristic, insLedger, updLedger, touch, delLedger, delSearch *sql.Stmt
	delRow                                                                 map[string]*sql.Stmt
}

func prepare(ctx context.Context, tx *sql.Tx) (*stmts, error) {
	s := &stmts{delRow: make(map[string]*sql.Stmt)}
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		{&s.learning, upsertLearning}, {&s.heuristic, upsertHeuristic},
		{&s.insLedger, insertLedger}, {&s.updLedger, updateLedger}, {&s.touch, touchLedger},
		{&s.delLedger, deleteLedger}, {&s.delSearch, deleteSearch},
	} {
		st, err := tx.PrepareContext(ctx, p.q)
		if err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
		*p.dst = st
	}
	for tbl, q := range deleteRow {
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
		s.delRow[tbl] = st
	}
	return s, nil
}

// flush writes the collected changes in one transaction and adds them to
// res. On error nothing of the batch is written.
func (w *writer) flush(ctx context.Context, db *sql.DB, res *Result) error {
	if len(w.ops) == 0 {
		return nil
	}
	var delta Result
	err := withTx(ctx, db, func(tx *sql.Tx) error {
		s, err := prepare(ctx, tx)
		if err != nil {
			return err
		}
		var bulk []*op
		for i := range w.ops {
			o := &w.ops[i]
			if isBulk(o) {
				bulk = append(bulk, o)
				continue
			}
			if err := s.apply(ctx, o, &delta); err != nil {
				return fmt.Errorf("index %s: %w", rootRel(o.rel), err)
			}
		}
		if err := bulkInsert(ctx, tx, bulk, &delta); err != nil {
			return fmt.Errorf("index new files: %w", err)
		}
		// Full-text entries last (see writeSearch).
		all := make([]*op, len(w.ops))
		for i := range w.ops {
			o := &w.ops[i]
			all[i] = o
			if o.drop && o.old.tbl != "" {
				if _, err := s.delSearch.ExecContext(ctx, o.old.id); err != nil {
					return fmt.Errorf("search index %s: %w", rootRel(o.rel), err)
				}
			}
		}
		if err := writeSearch(ctx, tx, all); err != nil {
			return fmt.Errorf("search index: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	*res = addResults(*res, delta)
	w.ops = w.ops[:0]
	return nil
}

func (s *stmts) apply(ctx context.Context, o *op, res *Result) error {
	fp := rootRel(o.rel)
	if o.drop {
		if o.old.tbl != "" {
			if _, err := s.delRow[o.old.tbl].ExecContext(ctx, fp); err != nil {
				return err
			}
		}
		if _, err := s.delLedger.ExecContext(ctx, o.old.id); err != nil {
			return err
		}
		res.Removed++
		return nil
	}
	p := &o.p
	if p.touch {
		if p.old.size != p.size || p.old.mtime != p.mtime {
			if _, err := s.touch.ExecContext(ctx, p.size, p.mtime, p.old.id); err != nil {
				return err
			}
		}
		res.Unchanged++
		return nil
	}
	oldTbl := ""
	if p.old != nil {
		oldTbl = p.old.tbl
	}
	if p.parseErr != nil {
		// Tracked with its error; a row it had while valid keeps its last
		// good values (and id, and counters) until the file parses again.
		_, err := s.ledger(ctx, p, fp, p.parseErr.Error(), oldTbl)
		res.Invalid++
		res.Errors = append(res.Errors, FileError{Path: fp, Error: p.parseErr.Error()})
		return err
	}
	r := &p.rec
	tbl := "learnings"
	if r.Type == frontmatter.TypeHeuristic {
		tbl = "heuristics"
	}
	if oldTbl != "" && oldTbl != tbl {
		// The type moved between tables.
		if _, err := s.delRow[oldTbl].ExecContext(ctx, fp); err != nil {
			return err
		}
	}
	var err error
	if tbl == "heuristics" {
		var golden any
		if r.IsGolden != nil {
			golden = *r.IsGolden
		}
		var conf any
		if r.Confidence != nil {
			conf = *r.Confidence
		}
		_, err = s.heuristic.ExecContext(ctx, fp, null(r.Domain), r.Rule, null(r.Explanation), null(r.SourceType),
			conf, golden, timeText(r.Created), timeText(r.Updated), r.Title, null(r.TagString()), null(r.Extra))
	} else {
		var sev any
		if r.Severity != 0 {
			sev = r.Severity
		}
		_, err = s.learning.ExecContext(ctx, r.Type, fp, r.Title, null(r.Summary), null(r.TagString()),
			null(r.Domain), sev, timeText(r.Created), timeText(r.Updated), null(r.Extra))
	}
	if err != nil {
		return err
	}
	id, err := s.ledger(ctx, p, fp, nil, tbl)
	if err != nil {
		return err
	}
	if oldTbl != "" {
		res.Updated++
	} else {
		res.Added++
	}
	o.searchID = id
	return nil
}

// ledger writes the file's ledger entry and returns its id.
func (s *stmts) ledger(ctx context.Context, p *parsed, fp string, errText any, tbl string) (int64, error) {
	if p.old != nil {
		_, err := s.updLedger.ExecContext(ctx, p.size, p.mtime, p.hash, errText, null(tbl), p.old.id)
		return p.old.id, err
	}
	var id int64
	err := s.insLedger.QueryRowContext(ctx, fp, p.size, p.mtime, p.hash, errText, null(tbl)).Scan(&id)
	return id, err
}

// null stores an empty string as NULL.
func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func timeText(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(sqlTime)
}
