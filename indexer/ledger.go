package indexer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// entry is a file's ledger row.
type entry struct {
	id     int64
	size   int64
	mtime  int64
	hash   string
	hasErr bool
	tbl    string // "learnings", "heuristics", "decisions" or "" when it has no row
	nrec   int    // how many records (rows) the file holds
	lost   bool   // the ledger names a row that is not there: rewrite it
}

// rootRel turns a memory-relative path into the filepath stored in the index.
func rootRel(rel string) string { return MemoryDir + "/" + rel }

// loadLedger returns the ledger entries under prefix (memory-relative, ""
// for all), keyed by memory-relative path. To keep a no-op scan of a large
// tree cheap it leaves out the content hash, which only changed files need:
// fillHash adds it.
func (ix *Index) loadLedger(ctx context.Context, prefix string) (map[string]*entry, error) {
	lo := rootRel("")
	if prefix != "" {
		lo = rootRel(prefix) + "/"
	}
	// '0' sorts right after '/', so [lo, hi) is exactly the subtree.
	hi := lo[:len(lo)-1] + "0"
	q := `
SELECT id, substr(filepath, ?3), size, mtime_ns, error IS NOT NULL,
	CASE tbl WHEN 'learnings' THEN 1 WHEN 'heuristics' THEN 2 WHEN 'decisions' THEN 3 ELSE 0 END, nrec
FROM files`
	if prefix != "" {
		// A subtree: through the filepath index. The whole ledger: a plain
		// table scan, which is twice as fast as walking the index and
		// looking each row up.
		q += ` WHERE filepath >= ?1 AND filepath < ?2`
	} else {
		q += ` WHERE ?1 IS NOT NULL AND ?2 IS NOT NULL`
	}
	rows, err := ix.db.QueryContext(ctx, q, lo, hi, len(MemoryDir)+2)
	if err != nil {
		return nil, fmt.Errorf("load ledger: %w", err)
	}
	defer rows.Close()
	ledger := make(map[string]*entry)
	var tbl int
	for rows.Next() {
		e := new(entry)
		var rel string
		if err := rows.Scan(&e.id, &rel, &e.size, &e.mtime, &e.hasErr, &tbl, &e.nrec); err != nil {
			return nil, fmt.Errorf("load ledger: %w", err)
		}
		e.tbl = tableNames[tbl]
		ledger[rel] = e
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load ledger: %w", err)
	}
	return ledger, nil
}

var tableNames = [...]string{"", "learnings", "heuristics", "decisions"}

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

// lookup returns one path's ledger entry, or nil.
func (ix *Index) lookup(ctx context.Context, rel string) (*entry, error) {
	e := new(entry)
	err := ix.db.QueryRowContext(ctx,
		`SELECT id, size, mtime_ns, hash, error IS NOT NULL, coalesce(tbl, ''), nrec FROM files WHERE filepath = ?`,
		rootRel(rel)).Scan(&e.id, &e.size, &e.mtime, &e.hash, &e.hasErr, &e.tbl, &e.nrec)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", rel, err)
	}
	return e, nil
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
	// file once; one no section claimed stays the framework's.
	_, err = ix.db.ExecContext(ctx, `INSERT INTO meta (key, value) SELECT 'unclaimed_checked', coalesce(max(id), 0) FROM heuristics
		WHERE true ON CONFLICT(key) DO UPDATE SET value = excluded.value`)
	return paths, err
}

// countsAgree reports whether each table has as many keyed rows as the
// ledger says it should. Counting is cheap; the joins that find which rows
// are lost or orphaned run only when the counts disagree (a row deleted
// and another inserted by hand between two scans would hide from this,
// and is still caught by status, which compares paths).
func (ix *Index) countsAgree(ctx context.Context) (bool, error) {
	var ok bool
	err := ix.db.QueryRowContext(ctx, `
SELECT (SELECT count(*) FROM learnings WHERE elf_key IS NOT NULL) = (SELECT coalesce(sum(nrec), 0) FROM files WHERE tbl = 'learnings')
   AND (SELECT count(*) FROM heuristics WHERE elf_key IS NOT NULL) = (SELECT coalesce(sum(nrec), 0) FROM files WHERE tbl = 'heuristics')
   AND (SELECT count(*) FROM decisions WHERE elf_key IS NOT NULL) = (SELECT coalesce(sum(nrec), 0) FROM files WHERE tbl = 'decisions')
   AND (SELECT count(*) FROM search_docs) = (SELECT coalesce(sum(nrec), 0) FROM files WHERE tbl IS NOT NULL)`).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("count rows: %w", err)
	}
	return ok, nil
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
