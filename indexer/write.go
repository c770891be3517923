package indexer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/emergent-learning/elfsync/frontmatter"
)

// sqlTime is how timestamps are stored: SQLite's DATETIME text form in UTC,
// as the framework's own rows have them.
const sqlTime = "2006-01-02 15:04:05"

// A row another process changed whose change is not yet written back into
// the file (it is in elf_changes) is not overwritten from the file: the
// write-back brings the file in line first.
//
// Rows are keyed by elf_key: the record's file, or "<file>#H-<n>" for a
// section of a domain file. An upsert keeps the row's id. Values the file
// does not state (confidence, is_golden, the counters) keep what the row
// has: the framework's tools adjust them, and a claimed row's values are
// written into its file afterwards (see export), so nothing stays only in
// the database. ?12 (learnings, decisions) or ?1 (heuristics) is the id a
// new row should get when it is free: a domain file's section number, a
// frontmatter id or legacy_id, or the id of the row of a file that just
// moved.
const (
	upsertLearning = `
INSERT INTO learnings (type, filepath, title, summary, tags, domain, severity, created_at, updated_at, extra, elf_key, id)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,
	CASE WHEN ?12 IS NULL OR EXISTS (SELECT 1 FROM learnings WHERE id = ?12) THEN NULL ELSE ?12 END)
ON CONFLICT(elf_key) DO UPDATE SET
	type = excluded.type, filepath = excluded.filepath, title = excluded.title, summary = excluded.summary,
	tags = excluded.tags, domain = excluded.domain, severity = excluded.severity,
	created_at = excluded.created_at, updated_at = excluded.updated_at, extra = excluded.extra
WHERE NOT EXISTS (SELECT 1 FROM elf_changes c WHERE c.tbl = 'learnings' AND c.row_id = learnings.id)
RETURNING id`

	upsertHeuristic = `
INSERT INTO heuristics (id, elf_key, filepath, domain, rule, explanation, source_type, confidence, is_golden,
	times_validated, times_violated, created_at, updated_at, title, tags, extra, project_path)
VALUES (CASE WHEN ?1 IS NULL OR EXISTS (SELECT 1 FROM heuristics WHERE id = ?1) THEN NULL ELSE ?1 END,
	?2, ?3, coalesce(?4, ''), ?5, ?6, ?7, coalesce(?8, 0.5), coalesce(?9, 0), coalesce(?10, 0), coalesce(?11, 0),
	?12, ?13, ?14, ?15, ?16, ?17)
ON CONFLICT(elf_key) DO UPDATE SET
	filepath = excluded.filepath, domain = excluded.domain, rule = excluded.rule, explanation = excluded.explanation,
	source_type = excluded.source_type,
	confidence = coalesce(?8, heuristics.confidence),
	is_golden = coalesce(?9, heuristics.is_golden),
	times_validated = coalesce(?10, heuristics.times_validated),
	times_violated = coalesce(?11, heuristics.times_violated),
	created_at = excluded.created_at, updated_at = excluded.updated_at,
	title = excluded.title, tags = excluded.tags, extra = excluded.extra,
	project_path = coalesce(excluded.project_path, heuristics.project_path)
WHERE NOT EXISTS (SELECT 1 FROM elf_changes c WHERE c.tbl = 'heuristics' AND c.row_id = heuristics.id)
RETURNING id`

	upsertDecision = `
INSERT INTO decisions (id, elf_key, filepath, title, context, decision, rationale, status, domain, created_at, updated_at, tags, extra)
VALUES (CASE WHEN ?1 IS NULL OR EXISTS (SELECT 1 FROM decisions WHERE id = ?1) THEN NULL ELSE ?1 END,
	?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
ON CONFLICT(elf_key) DO UPDATE SET
	filepath = excluded.filepath, title = excluded.title, context = excluded.context, decision = excluded.decision,
	rationale = excluded.rationale, status = excluded.status, domain = excluded.domain,
	created_at = excluded.created_at, updated_at = excluded.updated_at, tags = excluded.tags, extra = excluded.extra
RETURNING id`

	// The updates of a record's existing row, with the parameters of the
	// upserts above: what their ON CONFLICT clauses do. ("?12 IS ?12"
	// only makes the statement take the upsert's twelve parameters.)
	updateLearning = `
UPDATE learnings SET type = ?1, filepath = ?2, title = ?3, summary = ?4, tags = ?5, domain = ?6, severity = ?7,
	created_at = ?8, updated_at = ?9, extra = ?10
WHERE elf_key = ?11 AND ?12 IS ?12
	AND NOT EXISTS (SELECT 1 FROM elf_changes c WHERE c.tbl = 'learnings' AND c.row_id = learnings.id)
RETURNING id`
	updateHeuristic = `
UPDATE heuristics SET filepath = ?3, domain = coalesce(?4, ''), rule = ?5, explanation = ?6, source_type = ?7,
	confidence = coalesce(?8, confidence), is_golden = coalesce(?9, is_golden),
	times_validated = coalesce(?10, times_validated), times_violated = coalesce(?11, times_violated),
	created_at = ?12, updated_at = ?13, title = ?14, tags = ?15, extra = ?16,
	project_path = coalesce(?17, project_path)
WHERE elf_key = ?2
	AND NOT EXISTS (SELECT 1 FROM elf_changes c WHERE c.tbl = 'heuristics' AND c.row_id = heuristics.id)
RETURNING id`
	updateDecision = `
UPDATE decisions SET filepath = ?3, title = ?4, context = ?5, decision = ?6, rationale = ?7, status = ?8,
	domain = ?9, created_at = ?10, updated_at = ?11, tags = ?12, extra = ?13
WHERE elf_key = ?2
RETURNING id`

	insertLedger = `
INSERT INTO files (filepath, size, mtime_ns, hash, error, tbl, nrec) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(filepath) DO UPDATE SET
	size = excluded.size, mtime_ns = excluded.mtime_ns, hash = excluded.hash,
	error = excluded.error, tbl = excluded.tbl, nrec = excluded.nrec
RETURNING id`
	updateLedger = `UPDATE files SET size = ?, mtime_ns = ?, hash = ?, error = ?, tbl = ?, nrec = ? WHERE id = ?`
	touchLedger  = `UPDATE files SET size = ?, mtime_ns = ? WHERE id = ?`
	deleteLedger = `DELETE FROM files WHERE id = ?`

	// A file's records: its own key and its sections' keys. File paths end
	// in .md, so "<file>#..." is only ever a section of that file.
	fileKeys = `(elf_key = ?1 OR (elf_key >= ?1 || '#' AND elf_key < ?1 || '$'))`
	// staleKeys are a domain file's sections not in the JSON list ?2.
	staleKeys = `elf_key > ?1 || '#' AND elf_key < ?1 || '$' AND elf_key NOT IN (SELECT value FROM json_each(?2))`
)

// tableSQL maps a table name to its statements. Table names cannot be
// bound parameters, so the statements are built once from this package's
// own fixed table names, never from input.
var tableSQL = map[string]tableStatements{
	"learnings":  statementsFor("learnings"),
	"heuristics": statementsFor("heuristics"),
	"decisions":  statementsFor("decisions"),
}

type tableStatements struct{ deleteFile, deleteStale, claimPath, claimID, dropKey, setKey string }

// statementsFor returns the keyed statements of one record table; t is
// one of the constant names above.
func statementsFor(t string) tableStatements {
	return tableStatements{
		deleteFile:  `DELETE FROM ` + t + ` WHERE ` + fileKeys,
		deleteStale: `DELETE FROM ` + t + ` WHERE ` + staleKeys,
		claimPath:   `SELECT id FROM ` + t + ` WHERE elf_key IS NULL AND filepath = ? ORDER BY id LIMIT 1`,
		claimID:     `SELECT id FROM ` + t + ` WHERE elf_key IS NULL AND id = ?`,
		dropKey:     `DELETE FROM ` + t + ` WHERE elf_key = ? AND id != ?`,
		setKey:      `UPDATE ` + t + ` SET elf_key = ? WHERE id = ?`,
	}
}

// claimRule finds a framework row for a domain-file section without a
// usable number (the old scripts wrote "H-0" when they lost the id).
const claimRule = `SELECT id FROM heuristics WHERE elf_key IS NULL AND rule = ? ORDER BY domain = ? DESC, id LIMIT 1`

// tableOf returns the table of a record type.
func tableOf(typ string) string {
	switch typ {
	case frontmatter.TypeHeuristic:
		return "heuristics"
	case frontmatter.TypeDecision:
		return "decisions"
	}
	return "learnings"
}

// op is one pending change.
type op struct {
	drop bool
	rel  string
	old  *entry // for drop
	p    parsed
	// searchID is set when the op's single record has its full-text entry
	// to (re)write.
	searchID int64
	// done is set when a many-row statement wrote the op (see update.go).
	done bool
}

// record is one record of a file, ready to write.
type record struct {
	key     string
	tbl     string
	rec     *frontmatter.Record
	wantID  int64 // 0: any
	section bool
	rowID   int64
	// fresh is set for a record of a file new to the ledger in a load
	// into empty record tables (see writer.emptyTables): it has no row.
	fresh bool
}

// writer collects changes and writes them in one transaction per flush.
type writer struct {
	ix  *Index
	ops []op
	// deferSearch leaves the FTS5 entries of the rows written to one
	// pass after the last flush (see Index.apply).
	deferSearch bool
	// cached are the multi-row statements a large reconcile prepared
	// once (nil: none).
	cached cachedStmts
	// emptyTables is set when the reconcile began with no record rows (a
	// cold scan): a file new to the ledger then has no row to update.
	emptyTables bool
	// claimed lists the records whose rows a framework tool (or an older
	// index) wrote: after the flush their database-only values go into
	// their files.
	claimed []claim
	// unnumbered are the rows of the domain file being written whose keys
	// do not say their ids (see export.go).
	unnumbered unnumbered
}

// claim is a heuristic that took over an existing row whose values its
// file does not state.
type claim struct {
	rel     string
	key     string
	section bool
	id      int64
	file    frontmatter.Record // as the file says
	values  dbValues           // what the file must say
}

func (ix *Index) newWriter() *writer { return &writer{ix: ix, ops: make([]op, 0, batchSize)} }

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
	tx                                     *sql.Tx
	learning, heuristic, decision          *sql.Stmt
	updLearning, updHeuristic, updDecision *sql.Stmt
	insLedger, updLedger, touch, delLedger *sql.Stmt
	w                                      *writer
	unkeyed                                map[string]bool // tables holding rows without elf_key
	anyRefused                             bool            // elf_refused has rows
	// docs are full-text rows waiting to be written, dropIDs the
	// search_docs rows to delete (see writeDocs).
	docs    []searchDoc
	dropIDs []int64
}

func prepare(ctx context.Context, tx *sql.Tx, w *writer) (*stmts, error) {
	s := &stmts{tx: tx, w: w}
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		{&s.learning, upsertLearning}, {&s.heuristic, upsertHeuristic}, {&s.decision, upsertDecision},
		{&s.updLearning, updateLearning}, {&s.updHeuristic, updateHeuristic}, {&s.updDecision, updateDecision},
		{&s.insLedger, insertLedger}, {&s.updLedger, updateLedger}, {&s.touch, touchLedger},
		{&s.delLedger, deleteLedger},
	} {
		st, err := tx.PrepareContext(ctx, p.q)
		if err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
		*p.dst = st
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
	nclaimed := len(w.claimed)
	// A file that vanished and a new file with the same content is a move:
	// the new file's row takes the old one's id. In one batch, or within
	// tombTTL across batches (a watcher may see the two halves of a rename
	// apart).
	moved := map[string]int64{}
	now := w.ix.opts.Now()
	for h, tb := range w.ix.tombs {
		if now.Sub(tb.at) > tombTTL {
			delete(w.ix.tombs, h)
			continue
		}
		moved[h] = tb.id
	}
	// The ledger generation this flush leaves, when the one it finds is
	// the one the last flush of the reconcile left (see snapshotAfter).
	chain := ""
	err := writeTx(ctx, db, func(tx *sql.Tx) error {
		if w.ix.chainGen != "" {
			g, err := ledgerGen(ctx, tx)
			if err != nil {
				return err
			}
			if g == w.ix.chainGen {
				chain = g
			}
		}
		s, err := prepare(ctx, tx, w)
		if err != nil {
			return err
		}
		for i := range w.ops {
			o := &w.ops[i]
			if !o.drop || o.old.tbl == "" || o.old.hash == "" || o.old.nrec != 1 {
				continue
			}
			var id int64
			err := tx.QueryRowContext(ctx, `SELECT id FROM `+safeTable(o.old.tbl)+` WHERE elf_key = ?`, rootRel(o.rel)).Scan(&id)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if id > 0 {
				moved[o.old.hash] = id
			}
		}
		bulkOK, err := noUnclaimed(ctx, tx)
		if err != nil {
			return err
		}
		// A refused row that its file rewrites is no longer refused.
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM elf_refused)`).Scan(&s.anyRefused); err != nil {
			return err
		}
		// Tables without a single framework row waiting for its file need
		// no claim lookups (a fresh index's cold scan).
		s.unkeyed = map[string]bool{}
		for _, t := range []string{"learnings", "heuristics", "decisions"} {
			var any bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+t+` WHERE elf_key IS NULL)`).Scan(&any); err != nil {
				return err
			}
			s.unkeyed[t] = any
		}
		// Drops first (they free the ids of moved records), then records
		// that want an id (a domain file's sections, a frontmatter id), so
		// a new row of another file never takes it, then the rest.
		sort.SliceStable(w.ops, func(i, j int) bool { return opRank(&w.ops[i]) < opRank(&w.ops[j]) })
		// New files of a table no framework row waits in (to be claimed
		// by its file) go in many to a statement.
		canBulk := map[string]bool{"learnings": bulkOK,
			"heuristics": !s.unkeyed["heuristics"] && !s.anyRefused, "decisions": !s.unkeyed["decisions"] && !s.anyRefused}
		// Drops, then the edited notes and touched files that many-row
		// statements write (see update.go), then the rest one by one.
		for i := range w.ops {
			o := &w.ops[i]
			o.done = false
			if o.drop {
				if err := s.apply(ctx, o, &delta, moved); err != nil {
					return fmt.Errorf("index %s: %w", rootRel(o.rel), err)
				}
				o.done = true
			}
		}
		if err := s.bulkExisting(ctx, &delta); err != nil {
			return err
		}
		bulk := map[string][]*op{}
		for i := range w.ops {
			o := &w.ops[i]
			if o.done {
				continue
			}
			if isBulk(o) && canBulk[tableOf(o.p.rec.Type)] && moved[o.p.hash] == 0 && w.ix.opts.WantIDs[rootRel(o.rel)] == 0 {
				if _, ok := w.ix.restoreIDs[rootRel(o.rel)]; !ok {
					t := tableOf(o.p.rec.Type)
					bulk[t] = append(bulk[t], o)
					continue
				}
			}
			if err := s.apply(ctx, o, &delta, moved); err != nil {
				return fmt.Errorf("index %s: %w", rootRel(o.rel), err)
			}
		}
		for _, t := range []string{"learnings", "heuristics", "decisions"} {
			rest, err := bulkInsert(ctx, tx, w.cached, t, bulk[t], &delta)
			if err != nil {
				return fmt.Errorf("index new files: %w", err)
			}
			// Full-text entries last, in as few statements as possible
			// (see writeDocs).
			for _, o := range bulk[t] {
				if o.searchID != 0 {
					r := &o.p.rec
					s.docs = append(s.docs, searchDoc{rootRel(o.rel), t, o.searchID, r.Title, r.Summary, r.Body, r.Rule})
				}
			}
			for _, o := range rest {
				if err := s.apply(ctx, o, &delta, moved); err != nil {
					return fmt.Errorf("index %s: %w", rootRel(o.rel), err)
				}
			}
		}
		if err := s.writeDocs(ctx); err != nil {
			return fmt.Errorf("search index: %w", err)
		}
		if chain != "" {
			chain, err = ledgerGen(ctx, tx)
			return err
		}
		return nil
	})
	w.ix.chainGen = chain
	if err != nil {
		w.claimed = w.claimed[:nclaimed]
		return err
	}
	for i := range w.ops {
		if o := &w.ops[i]; o.drop && o.old.hash != "" && moved[o.old.hash] > 0 {
			w.ix.tombs[o.old.hash] = tomb{id: moved[o.old.hash], at: now}
		}
	}
	*res = addResults(*res, delta)
	w.ops = w.ops[:0]
	return nil
}

// tombTTL is how long the id of a vanished file waits for its content to
// reappear under another name.
const tombTTL = time.Minute

// tomb is the id of a vanished file's row, by the file's content hash.
type tomb struct {
	id int64
	at time.Time
}

// opRank orders the ops of a flush: drops, then records that want an id,
// then the rest.
func opRank(o *op) int {
	switch {
	case o.drop:
		return 0
	case !o.p.touch && (o.p.sections || extraID(o.p.rec.Extra) > 0):
		return 1
	}
	return 2
}

// noUnclaimed reports whether no framework-written learnings row inside
// memory/ waits to be claimed by its file, so new files may be inserted
// in bulk without looking for one.
func noUnclaimed(ctx context.Context, tx *sql.Tx) (bool, error) {
	var any bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM learnings WHERE elf_key IS NULL AND filepath >= 'memory/' AND filepath < 'memory0')`).Scan(&any)
	return !any, err
}

// safeTable returns a table name from the fixed set, for statements that
// cannot bind it.
func safeTable(t string) string {
	if _, ok := tableSQL[t]; ok {
		return t
	}
	return "learnings"
}

func (s *stmts) apply(ctx context.Context, o *op, res *Result, moved map[string]int64) error {
	fp := rootRel(o.rel)
	if o.drop {
		if o.old.tbl != "" {
			if _, err := s.tx.ExecContext(ctx, tableSQL[safeTable(o.old.tbl)].deleteFile, fp); err != nil {
				return err
			}
			if err := s.dropDocs(ctx, fp, false, nil, fileKeys, fp); err != nil {
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
		// Tracked with its error; rows it had while valid keep their last
		// good values (and ids, and counters) until the file parses again.
		nrec := 1
		if p.old != nil {
			nrec = p.old.nrec
		}
		_, err := s.ledger(ctx, p, fp, p.parseErr.Error(), oldTbl, nrec)
		res.Invalid++
		res.Errors = append(res.Errors, FileError{Path: fp, Error: p.parseErr.Error()})
		return err
	}
	recs := p.records(fp)
	tbl := ""
	if len(recs) > 0 {
		tbl = recs[0].tbl
	}
	if oldTbl != "" && oldTbl != tbl {
		// The type moved between tables, or a domain file lost its sections.
		if _, err := s.tx.ExecContext(ctx, tableSQL[safeTable(oldTbl)].deleteFile, fp); err != nil {
			return err
		}
		if err := s.dropDocs(ctx, fp, false, nil, fileKeys, fp); err != nil {
			return err
		}
	}
	if id := moved[p.hash]; id > 0 && p.old == nil && len(recs) == 1 {
		recs[0].wantID = id
	}
	s.w.unnumbered = nil
	if p.sections && p.old != nil {
		var err error
		if s.w.unnumbered, err = loadUnnumbered(ctx, s.tx, fp); err != nil {
			return err
		}
	}
	keys := make([]string, 0, len(recs))
	for i := range recs {
		recs[i].fresh = p.old == nil && s.w.emptyTables
		if err := s.upsert(ctx, o.rel, &recs[i]); err != nil {
			return err
		}
		keys = append(keys, recs[i].key)
	}
	if p.sections && tbl != "" {
		kj, _ := json.Marshal(keys)
		if _, err := s.tx.ExecContext(ctx, tableSQL[tbl].deleteStale, fp, string(kj)); err != nil {
			return err
		}
		keep := make(map[string]bool, len(keys))
		for _, k := range keys {
			keep[k] = true
		}
		if err := s.dropDocs(ctx, fp, true, keep, staleKeys, fp, string(kj)); err != nil {
			return err
		}
	}
	if _, err := s.ledger(ctx, p, fp, nil, tbl, len(recs)); err != nil {
		return err
	}
	if oldTbl != "" {
		res.Updated++
	} else {
		res.Added++
	}
	return nil
}

// records lists the records of a parsed file: one, or one per section of
// a domain file (none while it has no section yet).
func (p *parsed) records(fp string) []record {
	if !p.sections {
		return []record{{key: fp, tbl: tableOf(p.rec.Type), rec: &p.rec, wantID: extraID(p.rec.Extra)}}
	}
	out := make([]record, 0, len(p.secs))
	seen := map[string]int{}
	for i := range p.secs {
		sec := &p.secs[i]
		key := fp + "#H-" + strconv.FormatInt(sec.id, 10)
		if n := seen[key]; n > 0 {
			key += "~" + strconv.Itoa(n+1) // a repeated number: a record all the same
		}
		seen[fp+"#H-"+strconv.FormatInt(sec.id, 10)]++
		r := record{key: key, tbl: "heuristics", rec: &sec.rec, section: true}
		if sec.id > 0 && seen[fp+"#H-"+strconv.FormatInt(sec.id, 10)] == 1 {
			r.wantID = sec.id
		}
		out = append(out, r)
	}
	return out
}

// extraID reads a record's id or legacy_id frontmatter key: the id its row
// should have when it is free.
func extraID(extra string) int64 {
	if extra == "" {
		return 0
	}
	var m map[string]any
	if json.Unmarshal([]byte(extra), &m) != nil {
		return 0
	}
	for _, k := range []string{"id", "legacy_id"} {
		switch v := m[k].(type) {
		case float64:
			if v > 0 && v == float64(int64(v)) {
				return int64(v)
			}
		case string:
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
				return n
			}
		}
	}
	return 0
}

// upsert writes one record's row and full-text entry, first claiming a
// row a framework tool wrote for it: a row without elf_key whose filepath
// is the file's (the framework writes the file, then INSERTs), or whose id
// is the record's wanted id (a domain file's "## H-<id>" section, appended
// after the INSERT). A claimed row keeps its id and values; the row
// elfsync had for the record, if any, gives way to it.
func (s *stmts) upsert(ctx context.Context, rel string, r *record) error {
	q := tableSQL[r.tbl]
	if id := s.w.ix.opts.WantIDs[r.key]; id > 0 && r.wantID == 0 {
		r.wantID = id
	}
	if id, ok := s.w.ix.restoreIDs[r.key]; ok && r.wantID == 0 {
		r.wantID = id
		delete(s.w.ix.restoreIDs, r.key)
	}
	var claimed int64
	if !s.unkeyed[r.tbl] {
		// Nothing to claim in this table.
	} else if !r.section {
		if err := s.tx.QueryRowContext(ctx, q.claimPath, rootRel(rel)).Scan(&claimed); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	if claimed == 0 && r.wantID > 0 && s.unkeyed[r.tbl] {
		if err := s.tx.QueryRowContext(ctx, q.claimID, r.wantID).Scan(&claimed); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	if claimed == 0 && r.section && s.w.unnumbered.takes(r.key, r.wantID) {
		claimed = r.wantID // a section export renumbered
	}
	if claimed == 0 && r.section && r.wantID == 0 && s.unkeyed[r.tbl] {
		if err := s.tx.QueryRowContext(ctx, claimRule, r.rec.Rule, r.rec.Domain).Scan(&claimed); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	rec := r.rec
	var dbv dbValues
	if claimed > 0 {
		if _, err := s.tx.ExecContext(ctx, q.dropKey, r.key, claimed); err != nil {
			return err
		}
		if _, err := s.tx.ExecContext(ctx, q.setKey, r.key, claimed); err != nil {
			return err
		}
		if r.tbl == "heuristics" {
			// The row's confidence, golden flag and counters win over the
			// file's: the framework's hooks moved them in the database
			// only. They are written into the file after the flush.
			var err error
			cp := *rec
			if dbv, err = rowValues(ctx, s.tx, claimed, &cp); err != nil {
				return err
			}
			rec = &cp
		}
	}
	fp := rootRel(rel)
	var wantID any
	if r.wantID > 0 {
		wantID = r.wantID
	}
	var args []any
	var ins, upd *sql.Stmt
	switch r.tbl {
	case "heuristics":
		var golden, conf, tv, tvio any
		if rec.IsGolden != nil {
			golden = *rec.IsGolden
		}
		if rec.Confidence != nil {
			conf = *rec.Confidence
		}
		if rec.TimesValidated != 0 || rec.ValidatedBy != nil {
			tv = rec.TimesValidated
		}
		if rec.TimesViolated != 0 || rec.ViolatedBy != nil {
			tvio = rec.TimesViolated
		}
		ins, upd = s.heuristic, s.updHeuristic
		args = []any{wantID, r.key, fp, null(rec.Domain), rec.Rule, null(rec.Explanation),
			null(rec.SourceType), conf, golden, tv, tvio, timeText(rec.Created), timeText(rec.Updated),
			rec.Title, null(rec.TagString()), null(rec.Extra), null(rec.ProjectPath)}
	case "decisions":
		d := decisionFields(rec)
		ins, upd = s.decision, s.updDecision
		args = []any{wantID, r.key, fp, rec.Title, d.context, d.decision, d.rationale,
			d.status, null(rec.Domain), timeText(rec.Created), timeText(rec.Updated), null(rec.TagString()), null(rec.Extra)}
	default:
		var sev any
		if rec.Severity != 0 {
			sev = rec.Severity
		}
		ins, upd = s.learning, s.updLearning
		args = []any{rec.Type, fp, rec.Title, null(rec.Summary), null(rec.TagString()),
			null(rec.Domain), sev, timeText(rec.Created), timeText(rec.Updated), null(rec.Extra), r.key, wantID}
	}
	// The row by its key first, a new one only when there is none: an
	// INSERT that turns into an update still draws a new id from the
	// table's AUTOINCREMENT counter, so every edit of a heuristic skipped
	// one.
	//
	// A record that cannot have a row yet (a domain file's section in a
	// cold scan) goes the other way: the upsert first, one statement
	// instead of three. (A file whose ledger entry was lost has its rows;
	// it is not fresh.)
	var err error
	if r.fresh && claimed == 0 {
		err = ins.QueryRowContext(ctx, args...).Scan(&r.rowID)
	} else {
		err = upd.QueryRowContext(ctx, args...).Scan(&r.rowID)
	}
	skipped := false
	if errors.Is(err, sql.ErrNoRows) {
		err = s.tx.QueryRowContext(ctx, `SELECT id FROM `+safeTable(r.tbl)+` WHERE elf_key = ?`, r.key).Scan(&r.rowID)
		if err == nil {
			// The update was skipped: the row has a change to write back.
			skipped = true
		} else if errors.Is(err, sql.ErrNoRows) {
			err = ins.QueryRowContext(ctx, args...).Scan(&r.rowID)
		}
	}
	if err != nil {
		return err
	}
	if s.anyRefused && !skipped {
		if _, err := s.tx.ExecContext(ctx, `DELETE FROM elf_refused WHERE tbl = ? AND row_id = ?`, r.tbl, r.rowID); err != nil {
			return err
		}
	}
	if claimed > 0 && (!r.section && extraID(r.rec.Extra) != r.rowID || r.section && r.wantID != r.rowID) {
		id := r.rowID // the file keeps the row's id, so a rebuild gives it back
		dbv.id = &id
	}
	if claimed > 0 && !dbv.empty() {
		s.w.claimed = append(s.w.claimed, claim{rel: rel, key: r.key, section: r.section, id: r.rowID, file: *r.rec, values: dbv})
	}
	s.docs = append(s.docs, searchDoc{r.key, r.tbl, r.rowID, rec.Title, rec.Summary, rec.Body, rec.Rule})
	return nil
}

// decision is what the framework's decisions table needs of a decision
// record: its context, decision, rationale and status, from frontmatter
// keys of those names when the file has them, else from the summary.
type decision struct{ context, decision, rationale, status string }

func decisionFields(r *frontmatter.Record) decision {
	d := decision{context: r.Summary, decision: r.Title, status: "accepted"}
	var m map[string]any
	if r.Extra != "" && json.Unmarshal([]byte(r.Extra), &m) == nil {
		for k, dst := range map[string]*string{"context": &d.context, "decision": &d.decision, "rationale": &d.rationale, "status": &d.status} {
			if v, ok := m[k].(string); ok && v != "" {
				*dst = v
			}
		}
	}
	return d
}

// ledger writes the file's ledger entry and returns its id.
func (s *stmts) ledger(ctx context.Context, p *parsed, fp string, errText any, tbl string, nrec int) (int64, error) {
	if p.old != nil {
		_, err := s.updLedger.ExecContext(ctx, p.size, p.mtime, p.hash, errText, null(tbl), nrec, p.old.id)
		return p.old.id, err
	}
	var id int64
	err := s.insLedger.QueryRowContext(ctx, fp, p.size, p.mtime, p.hash, errText, null(tbl), nrec).Scan(&id)
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
