package indexer

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/emergent-learning/elfsync/frontmatter"
)

// Result says what a reconcile did.
type Result struct {
	Added     int // files that got a row
	Updated   int // rows brought in line with an edited file
	Removed   int // rows and ledger entries of vanished files
	Unchanged int // files skipped by size+mtime or hash
	Invalid   int // files whose current content does not parse (tracked, reported)
	// Errors lists the files that are invalid now, with their parse errors,
	// sorted by path. Only a full Scan lists all of them; Sync lists those it
	// touched.
	Errors []FileError
	// Rebuilt is set when the index was found corrupt, deleted or replaced
	// and was rebuilt from the files.
	Rebuilt bool
}

// FileError is a tracked file that cannot be indexed, and why.
type FileError struct {
	Path  string `json:"path"` // root-relative, e.g. memory/failures/x.md
	Error string `json:"error"`
}

// Progress, when not nil, is called from time to time during a reconcile
// with the number of changed files handled so far and in all.
type Progress func(done, total int)

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

// candidate is a file that must be read: it is new, its size or mtime
// changed, or a watcher hint forces it.
type candidate struct {
	rel   string // memory-relative
	old   *entry // nil when the ledger does not know it
	force bool
}

// parsed is a candidate after reading, hashing and parsing.
type parsed struct {
	candidate
	size     int64
	mtime    int64 // 0 when racy: the next reconcile hashes it again
	hash     string
	rec      frontmatter.Record
	parseErr error
	gone     bool // vanished before it could be read
	touch    bool // content unchanged since the ledger entry
	// sections is set for a framework domain file; secs are its records.
	sections bool
	secs     []section
}

// section is one "## H-<id>" record of a domain file.
type section struct {
	id  int64
	rec frontmatter.Record
}

// racyWindow guards against a file rewritten with the same size within the
// file system's timestamp granularity after it was read: a ledger mtime that
// close to the read is stored as 0, so the next reconcile hashes the file
// again instead of trusting size+mtime (git's "racily clean" problem).
const racyWindow = time.Second

// batchSize is how many changed files go in one transaction.
const batchSize = 2000

// Scan reconciles the whole memory folder with the index, after writing
// other processes' changes to the rows back into the files.
func (ix *Index) Scan(ctx context.Context, progress Progress) (Result, error) {
	if has, err := ix.HasChanges(ctx); err == nil && has {
		if host, err := ix.HostID(); err != nil {
			ix.log.Warn().Err(err).Msg("no host id: database changes are written back at the next scan")
		} else if _, err := ix.WriteBack(ctx, host); err != nil && !isCorrupt(err) {
			ix.log.Warn().Err(err).Msg("write-back failed; retried at the next scan")
		}
	}
	res, err := ix.guard(ctx, func() (Result, error) { return ix.reconcileTree(ctx, "", progress) })
	if err != nil {
		return res, err
	}
	res.Errors, err = ix.invalidFiles(ctx)
	if err != nil {
		return res, err
	}
	if _, err := ix.db.ExecContext(ctx,
		`INSERT INTO meta(key, value) VALUES('last_scan', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
		ix.opts.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		return res, fmt.Errorf("record scan time: %w", err)
	}
	return res, nil
}

// Sync reconciles the given memory-relative paths: files are read and
// hashed whatever their size and mtime say; a directory is reconciled as a
// subtree; a path that vanished drops its row and every row under it.
func (ix *Index) Sync(ctx context.Context, paths []string) (Result, error) {
	return ix.guard(ctx, func() (Result, error) { return ix.syncPaths(ctx, paths) })
}

// guard runs a reconcile; if the index turns out deleted, replaced or
// corrupt it rebuilds the index with a full reconcile instead.
func (ix *Index) guard(ctx context.Context, op func() (Result, error)) (Result, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	reopened, err := ix.checkFile(ctx)
	if err != nil {
		return Result{}, err
	}
	if ix.rebuild {
		reopened, ix.rebuild = true, false
	}
	if !reopened {
		res, err := op()
		if err == nil {
			res, err = ix.exportClaimed(ctx, res)
		}
		if !isCorrupt(err) {
			return res, err
		}
		if err := ix.reset(ctx, err); err != nil {
			return Result{}, err
		}
	}
	res, err := ix.reconcileTree(ctx, "", nil)
	if err == nil {
		res, err = ix.exportClaimed(ctx, res)
	}
	res.Rebuilt = true
	return res, err
}

// exportClaimed writes the database-only values of the rows the last
// reconcile claimed into their files, and indexes those files again.
func (ix *Index) exportClaimed(ctx context.Context, res Result) (Result, error) {
	claims := ix.claimed
	ix.claimed = nil
	if len(claims) == 0 {
		return res, nil
	}
	changed := ix.export(ctx, claims)
	if len(changed) == 0 {
		return res, nil
	}
	more, err := ix.syncPaths(ctx, changed)
	ix.claimed = nil // the files now say what the rows say
	more.Updated, more.Unchanged = 0, 0
	return addResults(res, more), err
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

// walkTree lists the record files under prefix (memory-relative, "" for
// all) with their Lstat size and mtime. Symbolic links are never followed
// and never indexed. Directories that could not be read are returned in
// unreadable, so the caller keeps their rows instead of dropping them.
// Subdirectories of the top are walked in parallel: on a large tree the
// walk is mostly lstat system calls. visit is called from one goroutine.
func (ix *Index) walkTree(prefix string, visit func(rel string, size, mtime int64)) (unreadable []string, err error) {
	top := filepath.Join(ix.memDir, filepath.FromSlash(prefix))
	ents, err := os.ReadDir(top)
	if err != nil {
		return nil, err
	}
	type found struct {
		rel         string
		size, mtime int64
	}
	type part struct {
		files      []found
		unreadable []string
		err        error
	}
	parts := make([]part, len(ents))
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(ix.opts.Workers, 2))
	for i, d := range ents {
		rel := path.Join(prefix, d.Name())
		if frontmatter.Ignored(rel) {
			continue
		}
		if !d.IsDir() {
			if d.Type().IsRegular() && frontmatter.IsRecord(rel) {
				if info, err := d.Info(); err == nil {
					parts[i].files = append(parts[i].files, found{rel, info.Size(), info.ModTime().UnixNano()})
				}
			}
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(pt *part, dir string) {
			defer func() { <-sem; wg.Done() }()
			pt.err = walkDir(dir, func(p string, d fs.DirEntry, err error) error {
				rel, rerr := filepath.Rel(ix.memDir, p)
				if rerr != nil {
					return rerr
				}
				rel = filepath.ToSlash(rel)
				if err != nil {
					ix.log.Warn().Err(err).Str("path", rel).Msg("cannot read; keeping its rows")
					pt.unreadable = append(pt.unreadable, rel)
					if d != nil && d.IsDir() {
						return fs.SkipDir
					}
					return nil
				}
				if frontmatter.Ignored(rel) {
					if d.IsDir() {
						return fs.SkipDir
					}
					return nil
				}
				if !d.Type().IsRegular() || !frontmatter.IsRecord(rel) {
					return nil
				}
				info, err := d.Info()
				if err != nil {
					if !errors.Is(err, fs.ErrNotExist) { // else: vanished since the directory was read
						pt.unreadable = append(pt.unreadable, rel)
					}
					return nil
				}
				pt.files = append(pt.files, found{rel, info.Size(), info.ModTime().UnixNano()})
				return nil
			})
			if errors.Is(pt.err, fs.ErrNotExist) {
				pt.err = nil // the directory vanished since its parent was read
			}
		}(&parts[i], filepath.Join(top, d.Name()))
	}
	wg.Wait()
	for _, pt := range parts {
		if pt.err != nil {
			return unreadable, pt.err
		}
		for _, f := range pt.files {
			visit(f.rel, f.size, f.mtime)
		}
		unreadable = append(unreadable, pt.unreadable...)
	}
	return unreadable, nil
}

// reconcileTree brings the subtree under prefix in line: new and changed
// files are read, vanished ones dropped.
func (ix *Index) reconcileTree(ctx context.Context, prefix string, progress Progress) (Result, error) {
	// The ledger loads while the tree is walked: one is SQLite, the other
	// lstat calls, and each takes about half of a no-op scan.
	var ledger map[string]*entry
	agree := true
	lerr := make(chan error, 1)
	go func() {
		var err error
		ledger, err = ix.loadLedger(ctx, prefix)
		if err == nil && prefix == "" {
			// Rows deleted or inserted behind elfsync's back (by hand, by
			// another tool): counted here, while the walk goes on.
			agree, err = ix.countsAgree(ctx)
		}
		lerr <- err
	}()
	type found struct {
		rel         string
		size, mtime int64
	}
	var files []found
	unreadable, err := ix.walkTree(prefix, func(rel string, size, mtime int64) {
		files = append(files, found{rel, size, mtime})
	})
	if lerr := <-lerr; lerr != nil {
		return Result{}, lerr
	}
	var res Result
	if prefix == "" {
		// Rows deleted or inserted behind elfsync's back (by hand, by
		// another tool; counted while the tree was walked): re-read the
		// files of lost rows and of rows a framework tool wrote for a
		// file (so the file claims them), drop orphans.
		reread, err := ix.unclaimedFiles(ctx)
		if err != nil {
			return res, err
		}
		if !agree {
			lost, err := ix.lostRows(ctx)
			if err != nil {
				return res, err
			}
			reread = append(reread, lost...)
		}
		for _, rel := range reread {
			if e := ledger[rel]; e != nil {
				e.lost, e.mtime = true, -1
			}
		}
	}
	var cands []candidate
	seen := make(map[string]struct{}, len(ledger))
	var known []*entry
	for _, f := range files {
		e := ledger[f.rel]
		if e != nil {
			seen[f.rel] = struct{}{}
			if e.size == f.size && e.mtime == f.mtime {
				res.Unchanged++
				continue
			}
			known = append(known, e)
		}
		cands = append(cands, candidate{rel: f.rel, old: e})
	}
	if err := ix.fillHash(ctx, known); err != nil {
		return res, err
	}
	if err != nil {
		if prefix != "" && errors.Is(err, fs.ErrNotExist) {
			// The directory vanished since the hint: drop what was under it.
			unreadable, err = nil, nil
		} else {
			return res, fmt.Errorf("walk %s: %w", filepath.Join(ix.memDir, prefix), err)
		}
	}
	var gone []string
	for rel := range ledger {
		if _, ok := seen[rel]; ok || under(rel, unreadable) {
			continue
		}
		gone = append(gone, rel)
	}
	sort.Strings(gone)
	if err := ix.fillHash(ctx, goneEntries(gone, ledger)); err != nil {
		return res, err
	}
	res, err = ix.apply(ctx, res, cands, gone, ledger, progress)
	if err != nil || agree {
		return res, err
	}
	n, err := ix.dropOrphanRows(ctx)
	res.Removed += n
	return res, err
}

// goneEntries returns the ledger entries of vanished files that had
// rows, whose hashes a move needs.
func goneEntries(gone []string, ledger map[string]*entry) []*entry {
	var es []*entry
	for _, rel := range gone {
		if e := ledger[rel]; e != nil && e.tbl != "" && e.hash == "" {
			es = append(es, e)
		}
	}
	return es
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

// under reports whether rel is one of dirs or inside one of them.
func under(rel string, dirs []string) bool {
	for _, d := range dirs {
		if d == "" || rel == d || strings.HasPrefix(rel, d+"/") {
			return true
		}
	}
	return false
}

// syncPaths handles watcher hints.
func (ix *Index) syncPaths(ctx context.Context, paths []string) (Result, error) {
	var total Result
	var cands []candidate
	var gone []string
	ledger := make(map[string]*entry)
	seen := make(map[string]bool, len(paths))
	realDirs := map[string]bool{"": true}
	for _, rel := range paths {
		rel = strings.Trim(path.Clean("/"+filepath.ToSlash(rel)), "/")
		if rel == "" || seen[rel] || frontmatter.Ignored(rel) {
			continue
		}
		seen[rel] = true
		var info os.FileInfo
		var err error
		if ix.realParent(path.Dir(rel), realDirs) {
			info, err = os.Lstat(filepath.Join(ix.memDir, filepath.FromSlash(rel)))
		} else {
			// Reached through a symbolic link or no longer there: as far as
			// the index is concerned, nothing is at this path.
			err = fs.ErrNotExist
		}
		switch {
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			ix.log.Warn().Err(err).Str("path", rel).Msg("cannot stat; leaving it to the next full scan")
			continue
		case err == nil && info.IsDir():
			res, err := ix.reconcileTree(ctx, rel, nil)
			if err != nil {
				return total, err
			}
			total = addResults(total, res)
			continue
		}
		// A file, or nothing: the path itself and, if it was a directory,
		// everything the ledger has under it.
		e, err := ix.lookup(ctx, rel)
		if err != nil {
			return total, err
		}
		if err == nil && info != nil && info.Mode().IsRegular() && frontmatter.IsRecord(rel) {
			cands = append(cands, candidate{rel: rel, old: e, force: true})
			continue
		}
		if e != nil {
			ledger[rel] = e
			gone = append(gone, rel)
		}
		if info == nil {
			sub, err := ix.loadLedger(ctx, rel)
			if err != nil {
				return total, err
			}
			for r, e := range sub {
				ledger[r] = e
				gone = append(gone, r)
			}
		}
	}
	res, err := ix.apply(ctx, Result{}, cands, gone, ledger, nil)
	return addResults(total, res), err
}

// realParent reports whether dir (memory-relative, "." for the top) and all
// its ancestors are real directories, not symbolic links, so a hint can
// never lead the indexer out of memory/. known caches answers per call.
func (ix *Index) realParent(dir string, known map[string]bool) bool {
	if dir == "." || dir == "/" {
		dir = ""
	}
	if ok, seen := known[dir]; seen {
		return ok
	}
	ok := ix.realParent(path.Dir(dir), known)
	if ok {
		info, err := os.Lstat(filepath.Join(ix.memDir, filepath.FromSlash(dir)))
		ok = err == nil && info.IsDir()
	}
	known[dir] = ok
	return ok
}

func addResults(a, b Result) Result {
	a.Added += b.Added
	a.Updated += b.Updated
	a.Removed += b.Removed
	a.Unchanged += b.Unchanged
	a.Invalid += b.Invalid
	a.Errors = append(a.Errors, b.Errors...)
	return a
}

// apply reads the candidates in parallel and writes the outcome, and drops
// the gone paths, in batched transactions.
func (ix *Index) apply(ctx context.Context, res Result, cands []candidate, gone []string, ledger map[string]*entry, progress Progress) (Result, error) {
	if len(cands) == 0 && len(gone) == 0 {
		return res, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	jobs := make(chan candidate)
	out := make(chan parsed, 64)
	var wg sync.WaitGroup
	for i := 0; i < ix.opts.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 64<<10)
			for c := range jobs {
				var p parsed
				p, buf = ix.read(c, buf)
				select {
				case out <- p:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, c := range cands {
			select {
			case jobs <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(out) }()

	w := ix.newWriter()
	total := len(cands) + len(gone)
	done := 0
	flush := func() error {
		if err := w.flush(ctx, ix.db, &res); err != nil {
			return err
		}
		if progress != nil {
			progress(done, total)
		}
		return nil
	}
	for _, rel := range gone {
		w.drop(rel, ledger[rel])
		done++
		if w.len() >= batchSize {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	for p := range out {
		w.put(p)
		done++
		if w.len() >= batchSize {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	if err := flush(); err != nil {
		return res, err
	}
	ix.claimed = append(ix.claimed, w.claimed...)
	return res, ctx.Err()
}

// read reads, hashes and parses one candidate. buf is reused between calls.
func (ix *Index) read(c candidate, buf []byte) (parsed, []byte) {
	p := parsed{candidate: c}
	full := filepath.Join(ix.memDir, filepath.FromSlash(c.rel))
	start := ix.opts.Now()
	f, err := os.Open(full)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			p.gone = true
			return p, buf
		}
		p.parseErr = err
		p.hash = "unreadable"
		return p, buf
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		p.parseErr = err
		p.hash = "unreadable"
		return p, buf
	}
	if !info.Mode().IsRegular() {
		// Replaced by a directory or something else since the walk.
		p.gone = true
		return p, buf
	}
	p.size, p.mtime = info.Size(), info.ModTime().UnixNano()
	if info.ModTime().After(start.Add(-racyWindow)) {
		p.mtime = 0
	}
	// Read at most MaxSize+1 bytes: enough to know a file is too large
	// without holding all of it.
	buf = buf[:0]
	n := info.Size()
	if n > ix.opts.MaxSize {
		n = ix.opts.MaxSize + 1
	}
	if int64(cap(buf)) < n+1 {
		buf = make([]byte, 0, n+1)
	}
	data, err := readUpTo(f, buf, ix.opts.MaxSize+1)
	if err != nil {
		p.parseErr = err
		p.hash = "unreadable"
		return p, buf
	}
	sum := sha256.Sum256(data)
	p.hash = hex.EncodeToString(sum[:])
	if c.old != nil && c.old.hash == p.hash && !c.old.lost {
		p.touch = true // same content: at most the ledger's mtime changes
		return p, data
	}
	size := int64(len(data))
	if info.Size() > size {
		size = info.Size()
	}
	if frontmatter.IsDomainFile(c.rel, data) && int64(len(data)) <= ix.opts.MaxSize {
		p.sections = true
		domain, secs := frontmatter.ParseSections(data)
		for _, s := range secs {
			p.secs = append(p.secs, section{id: s.ID, rec: frontmatter.SectionRecord(c.rel, domain, s, info.ModTime())})
		}
		return p, data
	}
	p.rec, p.parseErr = frontmatter.Parse(frontmatter.Input{
		Path:    c.rel,
		Data:    data,
		ModTime: info.ModTime(),
		Size:    size,
		MaxSize: ix.opts.MaxSize,
	})
	return p, data
}

// readUpTo reads r into buf until EOF or limit bytes.
func readUpTo(r io.Reader, buf []byte, limit int64) ([]byte, error) {
	lr := io.LimitReader(r, limit)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
