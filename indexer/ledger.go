package indexer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// entry is a file's ledger row. (Fields ordered to pack: a no-op scan of
// 100k files holds 100k of them.)
type entry struct {
	id      int64
	size    int64
	mtime   int64
	nrec    int    // how many records (rows) the file holds
	seen    uint64 // the diffMarks number of the last diff (or Check) that found the file on disk
	hash    string
	tbl     string // "learnings", "heuristics", "decisions" or "" when it has no row
	tblCode uint8  // tbl as a code: tblNone, tblLearnings... or tblOther
	hasErr  bool
	lost    bool // the ledger names a row that is not there: rewrite it
	hasRow  bool // Check found a keyed row of the file
}

// The ledger's tbl column as loadLedger reads it: NULL, one of the record
// tables, or anything else (which no elfsync writes; tbl is then "").
const (
	tblNone uint8 = iota
	tblLearnings
	tblHeuristics
	tblDecisions
	tblOther
)

var tableNames = [...]string{"", "learnings", "heuristics", "decisions"}

// tblCodeOf is the code of a tbl value ("" for NULL).
func tblCodeOf(tbl string) uint8 {
	for i, t := range tableNames {
		if t == tbl {
			return uint8(i)
		}
	}
	return tblOther
}

// rootRel turns a memory-relative path into the filepath stored in the index.
func rootRel(rel string) string { return MemoryDir + "/" + rel }

// ledgerColumns are the columns loadLedger reads, in scanEntries' order.
const ledgerColumns = `id, substr(filepath, ?3), size, mtime_ns, error IS NOT NULL,
	CASE WHEN tbl IS NULL THEN 0 WHEN tbl = 'learnings' THEN 1 WHEN tbl = 'heuristics' THEN 2 WHEN tbl = 'decisions' THEN 3 ELSE 4 END, nrec`

// loadLedger returns the ledger entries under prefix (memory-relative, ""
// for all), keyed by memory-relative path. To keep a no-op scan of a large
// tree cheap it leaves out the content hash, which only changed files need:
// fillHash adds it. The whole ledger is better read with loadFullLedger.
func (ix *Index) loadLedger(ctx context.Context, prefix string) (map[string]*entry, error) {
	lo := rootRel("")
	if prefix != "" {
		lo = rootRel(prefix) + "/"
	}
	// '0' sorts right after '/', so [lo, hi) is exactly the subtree.
	hi := lo[:len(lo)-1] + "0"
	q := `SELECT ` + ledgerColumns + ` FROM files`
	if prefix != "" {
		// A subtree: through the filepath index. The whole ledger: a plain
		// table scan, which is twice as fast as walking the index and
		// looking each row up.
		q += ` WHERE filepath >= ?1 AND filepath < ?2`
	} else {
		q += ` WHERE ?1 IS NOT NULL AND ?2 IS NOT NULL`
	}
	return scanLedger(ctx, ix.db, q, lo, hi, len(MemoryDir)+2)
}

// scanLedger runs a ledger query and collects its entries.
func scanLedger(ctx context.Context, q queryer, query string, args ...any) (map[string]*entry, error) {
	l, _, err := scanLedgerSums(ctx, q, query, args...)
	return l, err
}

// nrecSums are the records the ledger counts, by table code.
type nrecSums [tblOther + 1]int

// scanLedgerSums is scanLedger that also sums the entries' records.
func scanLedgerSums(ctx context.Context, q queryer, query string, args ...any) (map[string]*entry, nrecSums, error) {
	var sums nrecSums
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, sums, fmt.Errorf("load ledger: %w", err)
	}
	defer rows.Close()
	ledger := make(map[string]*entry)
	var chunk []entry // entries are allocated in chunks, not one by one
	for rows.Next() {
		if len(chunk) == cap(chunk) {
			chunk = make([]entry, 0, 1024)
		}
		chunk = chunk[:len(chunk)+1]
		e := &chunk[len(chunk)-1]
		var rel string
		if err := rows.Scan(&e.id, &rel, &e.size, &e.mtime, &e.hasErr, &e.tblCode, &e.nrec); err != nil {
			return nil, sums, fmt.Errorf("load ledger: %w", err)
		}
		if e.tblCode < tblOther {
			e.tbl = tableNames[e.tblCode]
		}
		ledger[rel] = e
		sums[e.tblCode] += e.nrec
	}
	if err := rows.Err(); err != nil {
		return nil, sums, fmt.Errorf("load ledger: %w", err)
	}
	return ledger, sums, nil
}

// fullLedger is the whole ledger and where it came from.
type fullLedger struct {
	// sorted is the ledger in walk order, when it came from the snapshot.
	sorted []relEntry
	// entries is the ledger by path: built from sorted when asked for.
	entries map[string]*entry
	// gen is the ledger generation the entries are the ledger at, "" when
	// the database keeps none (see snapshot.go).
	gen string
	// fromSnapshot is set when the entries were read from the snapshot,
	// which then needs no rewrite.
	fromSnapshot bool
	// nrecs sums the entries' records by table.
	nrecs nrecSums
}

// byPath returns the ledger by memory-relative path.
func (l *fullLedger) byPath() map[string]*entry {
	if l.entries == nil {
		l.entries = make(map[string]*entry, len(l.sorted))
		for i := range l.sorted {
			l.entries[l.sorted[i].rel] = &l.sorted[i].entry
		}
	}
	return l.entries
}

// unchangedWalk reports whether a walk of the whole tree found exactly the
// ledger's files, each with its ledger size and mtime: a no-op, told
// without a map when the ledger came from the snapshot (in walk order).
func (l *fullLedger) unchangedWalk(files []walked, unreadable []string) bool {
	if l.sorted == nil || len(unreadable) > 0 || len(files) != len(l.sorted) {
		return false
	}
	for i := range files {
		f, e := &files[i], &l.sorted[i]
		if f.rel != e.rel || f.size != e.entry.size || f.mtime != e.entry.mtime {
			return false
		}
	}
	return true
}

// loadFullLedger returns the whole ledger: from the snapshot in memDir
// when it is the ledger at the database's current generation, else from
// SQL, read in one transaction with its generation so the caller may write
// a snapshot of it. db may be the read-only connection of status.
func loadFullLedger(ctx context.Context, db *sql.DB, memDir string) (fullLedger, error) {
	gen, err := ledgerGen(ctx, db)
	if err != nil {
		return fullLedger{}, err
	}
	if gen != "" {
		if sorted, sums, err := readSnapshot(memDir, gen); err == nil {
			return fullLedger{sorted: sorted, gen: gen, fromSnapshot: true, nrecs: sums}, nil
		}
	}
	return loadSQLLedger(ctx, db)
}

// loadSQLLedger reads the whole ledger and its generation from SQL, in
// one read transaction.
func loadSQLLedger(ctx context.Context, db *sql.DB) (fullLedger, error) {
	var l fullLedger
	err := readTx(ctx, db, func(tx *sql.Tx) error {
		var err error
		if l.gen, err = ledgerGen(ctx, tx); err != nil {
			return err
		}
		l.entries, l.nrecs, err = scanLedgerSums(ctx, tx, `SELECT `+ledgerColumns+` FROM files WHERE ?1 IS NOT NULL AND ?2 IS NOT NULL`,
			1, 1, len(MemoryDir)+2)
		return err
	})
	return l, err
}

// readTx runs fn in one read transaction (a deferred BEGIN, whatever the
// connection's _txlock says), so its queries see one state of the index.
func readTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// fillHash reads the content hash of ledger entries that loadLedger left
// without one.
func (ix *Index) fillHash(ctx context.Context, es []*entry) error {
	if len(es) == 0 {
		return nil
	}
	st, err := ix.db.PrepareContext(ctx, `SELECT hash FROM files WHERE id = ?`)
	if err != nil {
		return fmt.Errorf("ledger hash: %w", err)
	}
	defer st.Close()
	for _, e := range es {
		if err := st.QueryRowContext(ctx, e.id).Scan(&e.hash); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("ledger hash: %w", err)
		}
	}
	return nil
}

// lookupAll returns the ledger entries of the memory-relative paths rels
// that have one, with their hashes, read in one query (the paths go in as
// one JSON array, never into the SQL text).
func (ix *Index) lookupAll(ctx context.Context, rels []string) (map[string]*entry, error) {
	out := make(map[string]*entry, len(rels))
	if len(rels) == 0 {
		return out, nil
	}
	keys := make([]string, len(rels))
	for i, rel := range rels {
		keys[i] = rootRel(rel)
	}
	arg, err := json.Marshal(keys)
	if err != nil {
		return nil, err
	}
	rows, err := ix.db.QueryContext(ctx, `
SELECT substr(filepath, ?2), id, size, mtime_ns, hash, error IS NOT NULL, coalesce(tbl, ''), nrec
FROM files WHERE filepath IN (SELECT value FROM json_each(?1))`, string(arg), len(MemoryDir)+2)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e := new(entry)
		var rel string
		if err := rows.Scan(&rel, &e.id, &e.size, &e.mtime, &e.hash, &e.hasErr, &e.tbl, &e.nrec); err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		e.tblCode = tblCodeOf(e.tbl)
		out[rel] = e
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return out, nil
}

// recordsOf counts the rows of a file f (an alias of files) in table t.
func recordsOf(t string) string {
	return `(SELECT count(*) FROM ` + t + ` r WHERE r.elf_key = f.filepath OR (r.elf_key > f.filepath || '#' AND r.elf_key < f.filepath || '$'))`
}

// lostRows lists the memory-relative paths whose ledger entry names rows
// that their table does not have.
func (ix *Index) lostRows(ctx context.Context) ([]string, error) {
	rows, err := ix.db.QueryContext(ctx, `
SELECT substr(f.filepath, ?1) FROM files f WHERE f.tbl = 'learnings' AND f.nrec != `+recordsOf("learnings")+`
UNION ALL
SELECT substr(f.filepath, ?1) FROM files f WHERE f.tbl = 'heuristics' AND f.nrec != `+recordsOf("heuristics")+`
UNION ALL
SELECT substr(f.filepath, ?1) FROM files f WHERE f.tbl = 'decisions' AND f.nrec != `+recordsOf("decisions"),
		len(MemoryDir)+2)
	if err != nil {
		return nil, fmt.Errorf("find lost rows: %w", err)
	}
	return scanPaths(rows)
}

func scanPaths(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var rel string
		if err := rows.Scan(&rel); err != nil {
			return nil, err
		}
		out = append(out, rel)
	}
	return out, rows.Err()
}

// unclaimedFiles lists the tracked files that a framework-written row
// (one without elf_key) belongs to: a learnings or decisions row whose
// filepath is the file, or a heuristics row whose id a section of its
// domain file names or whose filepath is the file. Rows that point
// outside memory/ (the framework's hooks keep notes elsewhere) are the
// framework's and not listed.
func (ix *Index) unclaimedFiles(ctx context.Context) ([]string, error) {
	rows, err := ix.db.QueryContext(ctx, `
SELECT substr(r.filepath, ?1) FROM learnings r JOIN files f ON f.filepath = r.filepath WHERE r.elf_key IS NULL
UNION
SELECT substr(r.filepath, ?1) FROM decisions r JOIN files f ON f.filepath = r.filepath WHERE r.elf_key IS NULL
UNION
SELECT substr(f.filepath, ?1) FROM heuristics r JOIN files f ON f.filepath = r.filepath WHERE r.elf_key IS NULL
UNION
SELECT substr(f.filepath, ?1) FROM heuristics r JOIN files f ON f.filepath = 'memory/heuristics/' || r.domain || '.md'
	WHERE r.elf_key IS NULL AND r.filepath IS NULL
	AND r.id > coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'unclaimed_checked'), 0)`, len(MemoryDir)+2)
	if err != nil {
		return nil, fmt.Errorf("find unclaimed rows: %w", err)
	}
	paths, err := scanPaths(rows)
	if err != nil {
		return nil, err
	}
	// A heuristic inserted without a file is looked for in its domain
	// file once; one no section claimed stays the framework's. (Written
	// only when it moved: a no-op scan writes as little as it can.)
	_, err = ix.db.ExecContext(ctx, `INSERT INTO meta (key, value) SELECT 'unclaimed_checked', coalesce(max(id), 0) FROM heuristics
		WHERE true ON CONFLICT(key) DO UPDATE SET value = excluded.value WHERE meta.value IS NOT excluded.value`)
	return paths, err
}

// countsAgree reports whether each table has as many keyed rows as the
// ledger says it should. Counting is cheap; the joins that find which rows
// are lost or orphaned run only when the counts disagree (a row deleted
// and another inserted by hand between two scans would hide from this,
// and is still caught by status, which compares paths). The ledger's side,
// want, was summed as the ledger was loaded.
func (ix *Index) countsAgree(ctx context.Context, want nrecSums) (bool, error) {
	var learnings, heuristics, decisions, docs int
	err := ix.db.QueryRowContext(ctx, `
SELECT (SELECT count(*) FROM learnings WHERE elf_key IS NOT NULL), (SELECT count(*) FROM heuristics WHERE elf_key IS NOT NULL),
	(SELECT count(*) FROM decisions WHERE elf_key IS NOT NULL), (SELECT count(*) FROM search_docs)`).Scan(&learnings, &heuristics, &decisions, &docs)
	if err != nil {
		return false, fmt.Errorf("count rows: %w", err)
	}
	return learnings == want[tblLearnings] && heuristics == want[tblHeuristics] && decisions == want[tblDecisions] &&
		docs == want[tblLearnings]+want[tblHeuristics]+want[tblDecisions]+want[tblOther], nil
}

// dropOrphanRows deletes elfsync's rows (those with an elf_key) that no
// tracked file accounts for, and full-text entries without their row.
// After a full reconcile every valid file has its ledger entry, so such
// rows have no file. Rows without elf_key are the framework's: kept.
func (ix *Index) dropOrphanRows(ctx context.Context) (int, error) {
	n := 0
	err := writeTx(ctx, ix.db, func(tx *sql.Tx) error {
		for _, t := range []string{"learnings", "heuristics", "decisions"} {
			r, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE elf_key IS NOT NULL AND NOT EXISTS
				(SELECT 1 FROM files f WHERE f.tbl = ?1 AND f.filepath = `+t+`.filepath)`, t)
			if err != nil {
				return err
			}
			k, _ := r.RowsAffected()
			n += int(k)
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM search_docs WHERE NOT EXISTS (SELECT 1 FROM files f
			WHERE f.tbl = search_docs.tbl AND (f.filepath = search_docs.elf_key OR
			(search_docs.elf_key > f.filepath || '#' AND search_docs.elf_key < f.filepath || '$')))`)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("drop orphan rows: %w", err)
	}
	if n > 0 {
		ix.log.Warn().Int("rows", n).Msg("dropped rows that no file accounts for")
	}
	return n, nil
}

// diffSorted is diff for a ledger read from the snapshot, without the map
// of every entry that diff looks paths up in (100k notes: ~5 MB and ~10 ms
// to build): files and sorted are both in walk order, so one merge pass
// pairs them. It returns the delta diff would, and the ledger entries the
// walk did not find (gone or kept), which is all of the ledger apply looks
// up. ok is false when files turn out not to be in walk order; the caller
// then uses diff.
func diffSorted(files []walked, unreadable []string, sorted []relEntry) (d delta, missing map[string]*entry, ok bool) {
	mark := diffMarks.Add(1)
	var miss []*relEntry
	i, j := 0, 0
	for i < len(files) || j < len(sorted) {
		if i > 0 && i < len(files) && cmpWalkOrder(files[i-1].rel, files[i].rel) >= 0 {
			return delta{}, nil, false
		}
		c := 0
		switch {
		case i == len(files):
			c = 1
		case j == len(sorted):
			c = -1
		default:
			c = cmpWalkOrder(files[i].rel, sorted[j].rel)
		}
		switch {
		case c < 0: // a file the ledger does not know
			d.cands = append(d.cands, candidate{rel: files[i].rel})
			i++
		case c > 0: // an entry the walk did not find
			miss = append(miss, &sorted[j])
			j++
		default:
			f, e := &files[i], &sorted[j].entry
			e.seen = mark
			if e.size == f.size && e.mtime == f.mtime {
				d.unchanged++
			} else {
				d.needHash = append(d.needHash, e)
				d.cands = append(d.cands, candidate{rel: f.rel, old: e})
			}
			i++
			j++
		}
	}
	missing = make(map[string]*entry, len(miss))
	for _, re := range miss {
		missing[re.rel] = &re.entry
		if under(re.rel, unreadable) {
			d.kept = append(d.kept, re.rel)
			continue
		}
		d.gone = append(d.gone, re.rel)
	}
	sort.Strings(d.gone)
	sort.Strings(d.kept)
	for _, rel := range d.gone {
		if e := missing[rel]; e.tbl != "" && e.hash == "" {
			d.needHash = append(d.needHash, e)
		}
	}
	return d, missing, true
}
