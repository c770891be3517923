package indexer

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The full-text index is the rows of search_docs, written with the
// records' rows, and their FTS5 entries, up to meta.fts_upto (see
// searchTriggers): in a small write in the same transaction, in a large
// one in one pass after all rows, a statement for every row above
// fts_upto, in id order.
//
// FTS5 keeps new entries in memory and writes them out as a segment
// whenever a write goes to a rowid below the last one (or to the same one
// but for an insert after its delete), at every statement savepoint, and
// at commit; every segment is merged into larger
// ones later. Written a row at a time through triggers, a changed text
// (delete the old entry, insert the new one under the same rowid) made a
// segment per record: a third of a 1%-modified scan went into merging
// them. Now a small write makes its FTS5 deletes and inserts in one
// statement, in rowid order (see writeDocsIndexed), and a large one gives
// a changed text a new row with a new, larger id, so that its deletes
// come first, in id order, and its inserts after them, in one pass after
// all rows: one segment a transaction.

// searchDoc is one full-text row: a record's key, its row and its text.
type searchDoc struct {
	key, tbl                   string
	rowID                      int64
	title, summary, body, rule string
}

// docRows is how many full-text rows one statement writes (8 parameters
// each, well under SQLite's 32,766).
const docRows = 100

// dropDocs forgets full-text rows of the file fp's records: those cond
// (a WHERE clause over search_docs, with args) selects are deleted at the
// end of the transaction, and waiting ones are dropped now, the file's
// own key too unless sections is set, except those in keep.
func (s *stmts) dropDocs(ctx context.Context, fp string, sections bool, keep map[string]bool, cond string, args ...any) error {
	rows, err := s.tx.QueryContext(ctx, `SELECT id FROM search_docs WHERE `+cond, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		s.dropIDs = append(s.dropIDs, id)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	kept := s.docs[:0]
	for _, d := range s.docs {
		if ((d.key == fp && !sections) || strings.HasPrefix(d.key, fp+"#")) && !keep[d.key] {
			continue
		}
		kept = append(kept, d)
	}
	s.docs = kept
	return nil
}

// writeDocs writes the transaction's full-text rows and, unless the scan
// defers them (see Index.apply), their FTS5 entries (see
// writeDocsIndexed). A record whose text did not change keeps its row and
// entry; a changed text keeps its row too unless the entries are
// deferred: then the old row is deleted and the text gets a new one.
func (s *stmts) writeDocs(ctx context.Context) error {
	if len(s.docs) == 0 && len(s.dropIDs) == 0 {
		return nil
	}
	// The last write of a key wins.
	last := make(map[string]int, len(s.docs))
	for i, d := range s.docs {
		last[d.key] = i
	}
	docs := make([]*searchDoc, 0, len(last))
	keys := make([]string, 0, len(last))
	for i := range s.docs {
		if last[s.docs[i].key] == i {
			docs = append(docs, &s.docs[i])
			keys = append(keys, s.docs[i].key)
		}
	}
	dropped := make(map[int64]bool, len(s.dropIDs))
	for _, id := range s.dropIDs {
		dropped[id] = true
	}
	// The rows these keys have now.
	type have struct {
		id    int64
		rowID sql.NullInt64
		tbl   string
		text  [4]sql.NullString
	}
	old := map[string]have{}
	if len(keys) > 0 {
		kj, err := json.Marshal(keys)
		if err != nil {
			return err
		}
		rows, err := s.tx.QueryContext(ctx, `SELECT elf_key, id, tbl, row_id, title, summary, body, rule FROM search_docs
			WHERE elf_key IN (SELECT value FROM json_each(?))`, string(kj))
		if err != nil {
			return err
		}
		for rows.Next() {
			var k string
			var h have
			if err := rows.Scan(&k, &h.id, &h.tbl, &h.rowID, &h.text[0], &h.text[1], &h.text[2], &h.text[3]); err != nil {
				rows.Close()
				return err
			}
			old[k] = h
		}
		if err := rows.Close(); err != nil {
			return err
		}
	}
	fresh := docs[:0]
	var changed []changedDoc
	for _, d := range docs {
		h, ok := old[d.key]
		if ok && !dropped[h.id] && sameText(h.text, d) {
			if h.tbl != d.tbl || !h.rowID.Valid || h.rowID.Int64 != d.rowID {
				if _, err := s.tx.ExecContext(ctx, `UPDATE search_docs SET tbl = ?, row_id = ? WHERE id = ?`, d.tbl, d.rowID, h.id); err != nil {
					return err
				}
			}
			continue
		}
		if ok && !dropped[h.id] {
			if !s.w.deferSearch {
				changed = append(changed, changedDoc{h.id, d})
				continue
			}
			dropped[h.id] = true
			s.dropIDs = append(s.dropIDs, h.id)
		}
		fresh = append(fresh, d)
	}
	var ids []int64
	if len(s.dropIDs) > 0 {
		ids = slices.Compact(slices.Sorted(slices.Values(s.dropIDs)))
	}
	if s.w.deferSearch {
		// A large write: the delete trigger writes the FTS5 deletes (in
		// id order: they stay in memory only while their rowids rise) and
		// completeSearch the new entries, in one pass after the rows.
		if err := s.deleteDocs(ctx, ids); err != nil {
			return err
		}
		if err := s.insertDocs(ctx, fresh); err != nil {
			return err
		}
	} else if err := s.writeDocsIndexed(ctx, ids, changed, fresh); err != nil {
		return err
	}
	s.docs = s.docs[:0]
	s.dropIDs = s.dropIDs[:0]
	return nil
}

// deleteDocs deletes the search_docs rows ids (in id order); the delete
// trigger takes out the entries of those indexed.
func (s *stmts) deleteDocs(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	ij, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	_, err = s.tx.ExecContext(ctx, `DELETE FROM search_docs WHERE id IN (SELECT value FROM json_each(?) ORDER BY 1)`, string(ij))
	return err
}

// insertDocs writes a new search_docs row for each of docs, above every
// id written or indexed so far, so none of them counts as indexed before
// it is.
func (s *stmts) insertDocs(ctx context.Context, docs []*searchDoc) error {
	if len(docs) == 0 {
		return nil
	}
	_, next, err := docIDs(ctx, s.tx)
	if err != nil {
		return err
	}
	return s.insertDocsAt(ctx, docs, next)
}

// insertDocsAt writes docs as search_docs rows next, next+1, ...
func (s *stmts) insertDocsAt(ctx context.Context, docs []*searchDoc, next int64) error {
	for len(docs) > 0 {
		n := min(len(docs), docRows)
		args := make([]any, 0, n*8)
		for _, d := range docs[:n] {
			args = append(args, next, d.key, d.tbl, d.rowID, d.title, d.summary, d.body, d.rule)
			next++
		}
		if _, err := s.w.cached.exec(ctx, s.tx, insertDocsSQL(n), args...); err != nil {
			return fmt.Errorf("%s: %w", docs[0].key, err)
		}
		docs = docs[n:]
	}
	return nil
}

// changedDoc is a new text for the search_docs row id.
type changedDoc struct {
	id  int64
	doc *searchDoc
}

// writeDocsIndexed writes a small write's full-text rows and their FTS5
// entries: it deletes the rows ids (in id order), puts the new texts of
// changed in their rows and writes a row for each of fresh.
//
// FTS5 writes out what it holds as a segment at every statement savepoint
// (xSavepoint), and every statement that writes more than one row opens
// one once FTS5 is part of the transaction. So when the trigger wrote the
// deletes and a later statement the new entries, they were two segments
// a write (a 1%-modified scan of 20k notes: one of ~35 pages and one of
// ~75). The pages merged per write are the same either way (a level
// fills twice as often, with segments half the size), but queries read
// twice as many small segments, the merge of the build's segments began
// at the 3rd write after a cold scan (at the 5th with one segment a
// write), and two statements cost more than one (200 changed notes: 12 +
// 13 ms apart, 17 ms in one).
//
// So the FTS5 deletes and inserts go first, in one statement, in rowid
// order: the deletes read the old texts from their rows, still there; the
// inserts take the new texts as parameters (the very strings the rows
// get), and the rows above fts_upto an interrupted build left from
// search_docs. A changed text keeps its row: its delete and insert go to
// the same rowid, which FTS5 holds in memory together as for an UPDATE
// (the delete first). A new row per changed text (the deferred path, see
// writeDocs) deleted and inserted the row and its elf_key entry: 200
// changed notes wrote ~575 WAL pages for search_docs and search in
// 40-47 ms, in place ~300 in 23-29 ms. Then, with fts_upto below every
// row touched, so that the triggers write nothing twice, the old rows are
// deleted, the changed ones updated, the new ones written and fts_upto
// raised past them: all in this transaction, so no other connection ever
// sees fts_upto between.
func (s *stmts) writeDocsIndexed(ctx context.Context, ids []int64, changed []changedDoc, fresh []*searchDoc) error {
	upto, next, err := docIDs(ctx, s.tx)
	if err != nil {
		return err
	}
	// Every row whose old entry goes, or that must not be indexed from
	// search_docs as it is now.
	slices.SortFunc(changed, func(a, b changedDoc) int { return cmp.Compare(a.id, b.id) })
	touched := make([]int64, 0, len(ids)+len(changed))
	touched = append(touched, ids...)
	for _, c := range changed {
		touched = append(touched, c.id)
	}
	tj, err := json.Marshal(touched)
	if err != nil {
		return err
	}
	// The new texts in rowid order: the changed rows' (all below next),
	// then the new rows'. The first statement takes the deletes, the
	// waiting rows and the first ftsRows of them; any more go ftsRows to
	// a statement (a segment each).
	texts := make([]any, 0, (len(changed)+len(fresh))*5)
	for _, c := range changed {
		d := c.doc
		texts = append(texts, c.id, d.title, d.summary, d.body, d.rule)
	}
	for i, d := range fresh {
		texts = append(texts, next+int64(i), d.title, d.summary, d.body, d.rule)
	}
	n := min(len(texts)/5, ftsRows)
	args := append([]any{string(tj), upto}, texts[:n*5]...)
	if _, err := s.tx.ExecContext(ctx, indexDocsSQL(n), args...); err != nil {
		return fmt.Errorf("index full text: %w", err)
	}
	for rest := texts[n*5:]; len(rest) > 0; {
		n := min(len(rest)/5, ftsRows)
		q := `INSERT INTO search (rowid, title, summary, body, rule) VALUES ` + placeholders(n, 5, "")
		if _, err := s.tx.ExecContext(ctx, q, rest[:n*5]...); err != nil {
			return fmt.Errorf("index full text: %w", err)
		}
		rest = rest[n*5:]
	}
	if len(touched) > 0 {
		if low := slices.Min(touched); low <= upto {
			if _, err := s.tx.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'fts_upto'`, low-1); err != nil {
				return err
			}
		}
	}
	if err := s.deleteDocs(ctx, ids); err != nil {
		return err
	}
	for rest := changed; len(rest) > 0; {
		n := min(len(rest), docRows)
		args := make([]any, 0, n*7)
		for _, c := range rest[:n] {
			d := c.doc
			args = append(args, c.id, d.tbl, d.rowID, d.title, d.summary, d.body, d.rule)
		}
		if _, err := s.tx.ExecContext(ctx, updateDocsSQL(n), args...); err != nil {
			return fmt.Errorf("%s: %w", rest[0].doc.key, err)
		}
		rest = rest[n:]
	}
	if err := s.insertDocsAt(ctx, fresh, next); err != nil {
		return err
	}
	if _, err := s.tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('fts_upto', ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, next-1+int64(len(fresh))); err != nil {
		return err
	}
	if next-1 > upto {
		// Rows waited above fts_upto: a large build was cut short, and
		// this write indexed the rest of it. Nothing is pending now, so
		// completeSearch will not run to put the small writes' merge
		// settings back in place of the build's (Open left them while
		// entries were pending): without this, the build's crisis merge
		// (a level's ftsBuildCrisis segments all at once) stalls a write
		// again in a watcher that lives on.
		if err := setMergeConfig(ctx, s.tx, ftsCrisis); err != nil {
			return fmt.Errorf("full-text index: %w", err)
		}
	}
	return mergeStep(ctx, s.tx)
}

// ftsRows is how many new texts one FTS5 insert of writeDocsIndexed
// takes (5 parameters each, well under SQLite's 32,766; a variable for
// tests).
var ftsRows = 2000

// indexDocsSQL is writeDocsIndexed's first statement, with n new texts
// (rowid and the four columns each): ?1 is the JSON array of the rows
// touched, ?2 fts_upto. A NULL in the search column is a plain insert;
// for one rowid the delete ('delete' sorts after NULL) goes first.
func indexDocsSQL(n int) string {
	q := `INSERT INTO search (search, rowid, title, summary, body, rule)
		SELECT 'delete', id, title, summary, body, rule FROM search_docs
			WHERE id IN (SELECT value FROM json_each(?1)) AND id <= ?2
		UNION ALL SELECT NULL, id, title, summary, body, rule FROM search_docs
			WHERE id > ?2 AND id NOT IN (SELECT value FROM json_each(?1))`
	if n > 0 {
		q += `
		UNION ALL SELECT NULL, column1, column2, column3, column4, column5 FROM (VALUES ` + placeholders(n, 5, "") + `)`
	}
	return q + `
		ORDER BY 2, 1 DESC`
}

// updateDocsSQL puts new texts in n search_docs rows (id, tbl, row_id
// and the four columns each).
func updateDocsSQL(n int) string {
	return `UPDATE search_docs SET tbl = v.column2, row_id = v.column3,
		title = v.column4, summary = v.column5, body = v.column6, rule = v.column7
		FROM (VALUES ` + placeholders(n, 7, "") + `) AS v WHERE search_docs.id = v.column1`
}

// Merging the full-text index. A large build (completeSearch) writes
// segments of ftsHashSize and merges only in crisis, when a level holds
// ftsBuildCrisis 64 (crisismerge; automerge is 0): a cold build of 20k
// notes leaves ~11 segments of ~850 pages each, one of 100k ~50 instead
// of merging 16 at a time as it goes (the merges were 2.8 s of its 10.4 s
// full-text step, and the reason it took 6-7x as long as 20k's). The
// merging comes later, in bounded steps: a watching agent does them while
// it is idle (Upkeep), and every small write transaction does one
// ('merge', at most ftsMergePages pages). A level is merged when it holds
// usermerge 16 segments, so the data is rewritten as few times as a crisis
// merge would, but never all at once: with crisismerge 16 after a build,
// the 3rd small write merged all of the build's segments in one go (a
// 1-file scan 0.60 s instead of 0.06 s), and in watch the same merge one
// level up stalled a flush ~1 s. Outside a large build crisismerge is
// ftsCrisis, above anything a level reaches: a merge's input segments
// stay until it ends, and every write adds one, so a level can hold what a
// build left (at most 63) plus one a write for every step of merging them
// (63 of ~850 pages: ~180 steps) with no idle time in between.
var (
	// ftsMergePages bounds the pages one small write merges (a variable
	// for tests).
	ftsMergePages = 300
	// ftsCrisis is crisismerge outside a large build.
	ftsCrisis = 256
)

// ftsUserMerge is how many segments a level holds before a merge step
// merges them (FTS5's usermerge, at most 16).
const ftsUserMerge = 16

// ftsBuildCrisis is crisismerge during a large build.
const ftsBuildCrisis = 64

// mergeStep does one bounded step of the full-text index's merges.
func mergeStep(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO search (search, rank) VALUES ('merge', ?)`, ftsMergePages)
	if err != nil {
		return fmt.Errorf("merge full text: %w", err)
	}
	return nil
}

// Upkeep does one bounded step of the work the index's writes leave for
// later, and reports whether there is more: first the full-text index's
// merges, a step of at most ftsMergePages pages in a transaction of its
// own; once FTS5 finds none, the ledger snapshot, rewritten if writes
// since the last full scan made it stale (`status` and the next scan then
// read it instead of the ledger in SQL: 67-85 ms against 44-52 ms for a
// `status --no-git` of 20k notes after one watched edit). A watching
// agent calls it while idle, so the merges a large build or many writes
// left are done there rather than a step in each of the next writes. Like
// every write it first checks the index file: one deleted, replaced or
// corrupt is reopened or set aside, and the error says the next
// reconcile rebuilds it.
func (ix *Index) Upkeep(ctx context.Context) (more bool, err error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	reopened, err := ix.checkFile(ctx)
	if err != nil {
		return false, err
	}
	if reopened {
		ix.rebuild = true
		return false, errReopened
	}
	err = withTx(ctx, ix.db, func(tx *sql.Tx) error {
		// FTS5's documented test: a 'merge' that changed total_changes()
		// by 2 or more did work.
		var before, after int64
		if err := tx.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&before); err != nil {
			return err
		}
		if err := mergeStep(ctx, tx); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&after); err != nil {
			return err
		}
		more = after-before >= 2
		return nil
	})
	if err == nil && !more {
		err = ix.refreshSnapshot(ctx)
	}
	if isCorrupt(err) {
		if rerr := ix.reset(ctx, err); rerr != nil {
			return false, rerr
		}
		ix.rebuild = true
	}
	return more, err
}

// errReopened says the index file was deleted or replaced under the open
// connection and is reopened: the next reconcile rebuilds it.
var errReopened = errors.New("index file deleted or replaced: the next scan rebuilds it")

// setMergeConfig makes crisis the full-text index's crisismerge, and
// ftsUserMerge its usermerge, settings kept in search_config, unless they
// are already. A crash during a large build leaves ftsBuildCrisis there;
// the next Open or completeSearch sets it back, or the small write that
// indexes what the build left (writeDocsIndexed).
func setMergeConfig(ctx context.Context, db configWriter, crisis int) error {
	if err := setSearchConfig(ctx, db, "crisismerge", crisis); err != nil {
		return err
	}
	return setSearchConfig(ctx, db, "usermerge", ftsUserMerge)
}

// insertDocsSQL is the insert of n search_docs rows.
func insertDocsSQL(n int) string {
	return `INSERT INTO search_docs (id, elf_key, tbl, row_id, title, summary, body, rule) VALUES ` + placeholders(n, 8, "")
}

// sameText reports whether a search_docs row holds d's text.
func sameText(t [4]sql.NullString, d *searchDoc) bool {
	return t[0].String == d.title && t[1].String == d.summary && t[2].String == d.body && t[3].String == d.rule
}

// ftsUpto reads meta.fts_upto: every search_docs row up to it has its
// FTS5 entry, none above it has.
func ftsUpto(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int64, error) {
	var upto int64
	err := q.QueryRowContext(ctx, `SELECT coalesce(CAST(value AS INTEGER), 0) FROM meta WHERE key = 'fts_upto'`).Scan(&upto)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return upto, err
}

// docIDs returns meta.fts_upto and the id of the next new search_docs
// row.
func docIDs(ctx context.Context, tx *sql.Tx) (upto, next int64, err error) {
	if upto, err = ftsUpto(ctx, tx); err != nil {
		return 0, 0, err
	}
	var top int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM search_docs`).Scan(&top); err != nil {
		return 0, 0, err
	}
	return upto, max(top, upto) + 1, nil
}

// catchUpSearch writes the FTS5 entries of the search_docs rows above
// fts_upto, at most limit of them, in id order, and raises fts_upto past
// them. It returns how many rows remain.
func catchUpSearch(ctx context.Context, tx *sql.Tx, limit int) (int, error) {
	upto, err := ftsUpto(ctx, tx)
	if err != nil {
		return 0, err
	}
	var top int64
	var n int
	err = tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0), count(*) FROM (SELECT id FROM search_docs WHERE id > ? ORDER BY id LIMIT ?)`, upto, limit).Scan(&top, &n)
	if err != nil || n == 0 {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO search (rowid, title, summary, body, rule)
		SELECT id, title, summary, body, rule FROM search_docs WHERE id > ? AND id <= ? ORDER BY id`, upto, top); err != nil {
		return 0, fmt.Errorf("index full text: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('fts_upto', ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, top); err != nil {
		return 0, err
	}
	var rest int
	err = tx.QueryRowContext(ctx, `SELECT count(*) FROM search_docs WHERE id > ?`, top).Scan(&rest)
	return rest, err
}

// searchChunk is how many full-text rows one catch-up transaction
// indexes. Smaller chunks were slower and raised the peak memory (5,000:
// 67-69 MB against 57-58 MB on the 20k corpus): each commit makes FTS5
// write and merge its pending segment.
const searchChunk = 20000

// completeSearch indexes every search_docs row still without its FTS5
// entry: after a scan that deferred them, or a crash between the two
// steps.
func (ix *Index) completeSearch(ctx context.Context) error {
	// Called after every write batch: with nothing pending (the common
	// case) it is this one query. Open puts the small writes' merge
	// settings in place.
	n, err := SearchPending(ctx, ix.db)
	if err != nil || n == 0 {
		return err
	}
	if n > deferAbove {
		if err := setHashSize(ctx, ix.db); err != nil {
			return fmt.Errorf("full-text index: %w", err)
		}
		if err := setMergeConfig(ctx, ix.db, ftsBuildCrisis); err != nil {
			return fmt.Errorf("full-text index: %w", err)
		}
	}
	for {
		var rest int
		err := withTx(ctx, ix.db, func(tx *sql.Tx) error {
			var err error
			rest, err = catchUpSearch(ctx, tx, searchChunk)
			return err
		})
		if err != nil {
			return fmt.Errorf("full-text index: %w", err)
		}
		if rest == 0 {
			break
		}
	}
	// Back to the small writes' settings, also after finishing a build a
	// crash cut short (Open leaves them alone while entries are pending).
	if err := setMergeConfig(ctx, ix.db, ftsCrisis); err != nil {
		return fmt.Errorf("full-text index: %w", err)
	}
	return nil
}

// ftsHashSize is how many bytes of new full-text entries FTS5 holds in
// memory before it writes them out as a segment (its default: 1 MiB).
// Building the index of 20k notes wrote ~60 segments at 1 MiB, which
// the crisis merges of the time merged 16 at a time, again and again as
// they grew; at 4 MiB a quarter as many (100k cold scan: the full-text
// step 12.5 s -> 10.3 s, peak RSS 63.4 -> 59.9 MB with the Go heap handed
// back first, see Index.apply), and fewer, larger segments left to merge
// later (see ftsBuildCrisis). Only a transaction that writes more than 1 MiB of entries
// holds more: a small flush never does. A variable for tests.
var ftsHashSize = 4 << 20

// setHashSize makes ftsHashSize the full-text index's hashsize, a
// setting kept in search_config, unless it is already.
func setHashSize(ctx context.Context, db *sql.DB) error {
	return setSearchConfig(ctx, db, "hashsize", ftsHashSize)
}

// setSearchConfig sets the full-text index's integer setting k to v,
// unless it is already.
// configWriter is what setSearchConfig needs: a *sql.DB or a *sql.Tx.
type configWriter interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}

func setSearchConfig(ctx context.Context, db configWriter, k string, v int) error {
	var have sql.NullInt64
	err := db.QueryRowContext(ctx, `SELECT v FROM search_config WHERE k = ?`, k).Scan(&have)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if have.Valid && have.Int64 == int64(v) {
		return nil
	}
	// The special insert's command is a column name, the setting's name.
	_, err = db.ExecContext(ctx, `INSERT INTO search (search, rank) VALUES (?, ?)`, k, v)
	return err
}

// SearchPending returns how many records are indexed but not yet
// searchable: their full-text entries come right after their rows.
func SearchPending(ctx context.Context, db interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM search_docs
		WHERE id > coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'fts_upto'), 0)`).Scan(&n)
	return n, err
}
