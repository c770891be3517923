package indexer

import (
	"context"
	"database/sql"
	"sync/atomic"
)

// Edited notes: the rows of existing files are updated a few hundred to a
// statement, and only where a value differs. One UPDATE per file set every
// column, so SQLite rewrote the entry of every index over learnings (type,
// domain, created_at and their pair) for each edit, though an edit of the
// body changes only updated_at: about 300 of the ~900 pages a
// 1%-modified scan of 20k notes wrote, each one written again into the
// statement journal and then by the checkpoint. Here the columns that
// learnings' indexes cover are set by their own statement, only on rows
// where one of them changed.

// updateRows is how many files one statement updates (12 parameters a
// row at most, well under SQLite's 32,766).
const updateRows = 500

// bulkUpdates turns the many-row path on (tests compare it with the
// one-row path); bulkUpdated counts the rows it wrote.
var (
	bulkUpdates = true
	bulkUpdated atomic.Int64
)

// isBulkUpdate reports whether an op is an edited plain note whose row
// stays in learnings: the common case of an incremental scan.
func isBulkUpdate(o *op) bool {
	return !o.drop && !o.p.touch && o.p.parseErr == nil && !o.p.sections && o.p.old != nil &&
		o.p.old.tbl == "learnings" && tableOf(o.p.rec.Type) == "learnings"
}

// bulkUpdate updates the rows, ledger entries and full-text rows of
// edited plain notes (isBulkUpdate) whose row is found by its key, as
// apply and upsert would one at a time, and marks those ops done. The
// others (no row with the key) are left to apply. The caller has made
// sure that no framework row waits to be claimed in learnings and that
// no op wants a given id.
func (s *stmts) bulkUpdate(ctx context.Context, ops []*op, res *Result) error {
	for len(ops) > 0 {
		n := min(len(ops), updateRows)
		if err := s.bulkUpdateChunk(ctx, ops[:n], res); err != nil {
			return err
		}
		ops = ops[n:]
	}
	return nil
}

func (s *stmts) bulkUpdateChunk(ctx context.Context, ops []*op, res *Result) error {
	// The rows by key, and which of them hold a change another process
	// made that is not yet in the file: those are not overwritten.
	byKey := make(map[string]*op, len(ops))
	args := make([]any, 0, len(ops))
	for _, o := range ops {
		fp := rootRel(o.rel)
		byKey[fp] = o
		args = append(args, fp)
	}
	rows, err := s.tx.QueryContext(ctx, `SELECT v.column1, l.id,
	EXISTS (SELECT 1 FROM elf_changes c WHERE c.tbl = 'learnings' AND c.row_id = l.id)
FROM (VALUES `+repeatRow("(?)", len(ops))+`) AS v JOIN learnings l ON l.elf_key = v.column1`, args...)
	if err != nil {
		return err
	}
	type found struct {
		o       *op
		id      int64
		pending bool
	}
	var fs []found
	for rows.Next() {
		var f found
		var key string
		if err := rows.Scan(&key, &f.id, &f.pending); err != nil {
			rows.Close()
			return err
		}
		if f.o = byKey[key]; f.o != nil {
			fs = append(fs, f)
			delete(byKey, key) // a key once
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if len(fs) == 0 {
		return nil
	}

	// The columns learnings' indexes cover, where one differs; then the
	// others, where one differs.
	var keyed, rest, refused, ledger []any
	nkeyed, nrest, nrefused := 0, 0, 0
	for _, f := range fs {
		if f.pending {
			continue
		}
		r := &f.o.p.rec
		var sev any
		if r.Severity != 0 {
			sev = r.Severity
		}
		keyed = append(keyed, f.id, r.Type, null(r.Domain), timeText(r.Created))
		rest = append(rest, f.id, rootRel(f.o.rel), r.Title, null(r.Summary), null(r.TagString()), sev, timeText(r.Updated), null(r.Extra))
		refused = append(refused, f.id)
		nkeyed++
		nrest++
		nrefused++
	}
	if nkeyed > 0 {
		if _, err := s.tx.ExecContext(ctx, `UPDATE learnings SET type = v.column2, domain = v.column3, created_at = v.column4
FROM (VALUES `+repeatRow("(?,?,?,?)", nkeyed)+`) AS v
WHERE learnings.id = v.column1
	AND (learnings.type IS NOT v.column2 OR learnings.domain IS NOT v.column3 OR learnings.created_at IS NOT v.column4)`, keyed...); err != nil {
			return err
		}
	}
	if nrest > 0 {
		if _, err := s.tx.ExecContext(ctx, `UPDATE learnings SET filepath = v.column2, title = v.column3, summary = v.column4,
	tags = v.column5, severity = v.column6, updated_at = v.column7, extra = v.column8
FROM (VALUES `+repeatRow("(?,?,?,?,?,?,?,?)", nrest)+`) AS v
WHERE learnings.id = v.column1
	AND (learnings.filepath IS NOT v.column2 OR learnings.title IS NOT v.column3 OR learnings.summary IS NOT v.column4
		OR learnings.tags IS NOT v.column5 OR learnings.severity IS NOT v.column6 OR learnings.updated_at IS NOT v.column7
		OR learnings.extra IS NOT v.column8)`, rest...); err != nil {
			return err
		}
	}
	if s.anyRefused && nrefused > 0 {
		// A refused row that its file rewrites is no longer refused.
		if _, err := s.tx.ExecContext(ctx, `DELETE FROM elf_refused WHERE tbl = 'learnings' AND row_id IN (VALUES `+repeatRow("(?)", nrefused)+`)`, refused...); err != nil {
			return err
		}
	}
	for _, f := range fs {
		o := f.o
		r := &o.p.rec
		s.docs = append(s.docs, searchDoc{rootRel(o.rel), "learnings", f.id, r.Title, r.Summary, r.Body, r.Rule})
		ledger = append(ledger, o.p.old.id, o.p.size, o.p.mtime, o.p.hash)
		o.done = true
		res.Updated++
	}
	bulkUpdated.Add(int64(len(fs)))
	_, err = s.tx.ExecContext(ctx, `UPDATE files SET size = v.column2, mtime_ns = v.column3, hash = v.column4,
	error = NULL, tbl = 'learnings', nrec = 1
FROM (VALUES `+repeatRow("(?,?,?,?)", len(fs))+`) AS v WHERE files.id = v.column1`, ledger...)
	return err
}

// bulkTouch writes the size and mtime of files whose content did not
// change (a racy mtime read again, a file touched), many to a statement.
func bulkTouch(ctx context.Context, tx *sql.Tx, ops []*op, res *Result) error {
	var args []any
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE files SET size = v.column2, mtime_ns = v.column3
FROM (VALUES `+repeatRow("(?,?,?)", n)+`) AS v WHERE files.id = v.column1`, args...)
		args, n = args[:0], 0
		return err
	}
	for _, o := range ops {
		p := &o.p
		if p.old.size != p.size || p.old.mtime != p.mtime {
			args = append(args, p.old.id, p.size, p.mtime)
			n++
			if n == updateRows {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		o.done = true
		res.Unchanged++
	}
	return flush()
}

// bulkExisting writes, many to a statement, the ops of a flush that only
// touch a ledger entry or update the row of an edited note (see
// isBulkUpdate), where nothing else in the flush can bear on them: the
// rest, and the notes whose row is not found, are left to apply.
func (s *stmts) bulkExisting(ctx context.Context, res *Result) error {
	w := s.w
	dropped := map[string]bool{}
	for i := range w.ops {
		if o := &w.ops[i]; o.drop {
			dropped[o.rel] = true
		}
	}
	var touch, upd []*op
	for i := range w.ops {
		o := &w.ops[i]
		switch {
		case o.done || o.drop || dropped[o.rel]:
		case o.p.touch:
			touch = append(touch, o)
		case !bulkUpdates:
		case isBulkUpdate(o) && !s.unkeyed["learnings"] && w.ix.opts.WantIDs[rootRel(o.rel)] == 0:
			if _, ok := w.ix.restoreIDs[rootRel(o.rel)]; !ok {
				upd = append(upd, o)
			}
		}
	}
	if err := bulkTouch(ctx, s.tx, touch, res); err != nil {
		return err
	}
	return s.bulkUpdate(ctx, upd, res)
}
