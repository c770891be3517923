package indexer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
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
	// RowsAt is when every row was in, for a reconcile that wrote the
	// full-text index after them (zero otherwise).
	RowsAt time.Time
}

// FileError is a tracked file that cannot be indexed, and why.
type FileError struct {
	Path  string `json:"path"` // root-relative, e.g. memory/failures/x.md
	Error string `json:"error"`
}

// Progress, when not nil, is called from time to time during a reconcile
// with the number of changed files handled so far and in all.
type Progress func(done, total int)

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
	now := ix.opts.Now()
	if err := stampScan(ix.memDir, now); err != nil {
		// A folder where the stamp cannot be written: the index keeps
		// the time.
		if _, err := ix.db.ExecContext(ctx,
			`INSERT INTO meta(key, value) VALUES('last_scan', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
			now.UTC().Format(time.RFC3339Nano)); err != nil {
			return res, fmt.Errorf("record scan time: %w", err)
		}
	}
	return res, nil
}

// scanStampName is the file whose mtime is the time of the last full scan
// (status shows the later of it and the index's meta.last_scan). A no-op
// scan that wrote the time into the index would write the index's WAL for
// it alone, and with it sync the WAL, its folder and, at close, the index:
// four fsyncs for nothing. Setting a file's mtime syncs nothing.
const scanStampName = DBName + ".last-scan"

// stampScan records t as the time of the last full scan. The stamp must
// be a plain file (never a link that would lead the mtime elsewhere).
func stampScan(memDir string, t time.Time) error {
	p := filepath.Join(memDir, scanStampName)
	info, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		var f *os.File
		if f, err = os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err != nil {
			return err
		}
		f.Close()
	} else if err != nil {
		return err
	} else if !info.Mode().IsRegular() {
		return fmt.Errorf("%s is not a file", p)
	}
	return os.Chtimes(p, t, t)
}

// scanStamp returns the time stampScan recorded, or the zero time.
func scanStamp(memDir string) time.Time {
	info, err := os.Lstat(filepath.Join(memDir, scanStampName))
	if err != nil || !info.Mode().IsRegular() {
		return time.Time{}
	}
	return info.ModTime()
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
		if err == nil && len(ix.placed) > 0 {
			err = ix.takeOverPlaced(ctx)
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
	ids, err := ix.adoptedIDs(ctx)
	if err != nil {
		return res, err
	}
	claims = append(claims, ids...)
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

// reconcileTree brings the subtree under prefix in line: new and changed
// files are read, vanished ones dropped.
func (ix *Index) reconcileTree(ctx context.Context, prefix string, progress Progress) (Result, error) {
	// The ledger loads while the tree is walked: one is SQLite, the other
	// lstat calls, and each takes about half of a no-op scan.
	// A snapshot the last scan is still writing is waited for: this scan
	// may use it.
	ix.bg.Wait()
	var full fullLedger
	var ledger map[string]*entry
	agree := true
	lerr := make(chan error, 1)
	go func() {
		var err error
		if prefix != "" {
			ledger, err = ix.loadLedger(ctx, prefix)
		} else if full, err = loadFullLedger(ctx, ix.db, ix.memDir); err == nil {
			// Rows deleted or inserted behind elfsync's back (by hand, by
			// another tool): counted here, while the walk goes on.
			agree, err = ix.countsAgree(ctx, full.nrecs)
		}
		lerr <- err
	}()
	files, unreadable, err := ix.walkTree(prefix)
	if lerr := <-lerr; lerr != nil {
		return Result{}, lerr
	}
	if err != nil {
		if prefix != "" && errors.Is(err, fs.ErrNotExist) {
			// The directory vanished since the hint: drop what was under it.
			files, unreadable = nil, nil
		} else {
			return Result{}, fmt.Errorf("walk %s: %w", filepath.Join(ix.memDir, prefix), err)
		}
	}
	var reread []string
	if prefix == "" {
		// Rows deleted or inserted behind elfsync's back (by hand, by
		// another tool; counted while the tree was walked): re-read the
		// files of lost rows and of rows a framework tool wrote for a
		// file (so the file claims them), drop orphans.
		if reread, err = ix.unclaimedFiles(ctx); err != nil {
			return Result{}, err
		}
		if !agree {
			lost, err := ix.lostRows(ctx)
			if err != nil {
				return Result{}, err
			}
			reread = append(reread, lost...)
		}
	}
	if prefix == "" {
		if agree && len(reread) == 0 && full.unchangedWalk(files, unreadable) {
			// The snapshot's files, unchanged, in the same order: a no-op
			// without building the ledger's map.
			return Result{Unchanged: len(files)}, nil
		}
	}
	var d delta
	ok := false
	if prefix == "" && full.sorted != nil && len(reread) == 0 {
		// Both in walk order: merged, without the ledger's map.
		d, ledger, ok = diffSorted(files, unreadable, full.sorted)
	}
	if !ok {
		if prefix == "" {
			ledger = full.byPath()
		}
		d = diff(files, unreadable, ledger, reread)
	}
	if prefix == "" && agree && len(reread) == 0 && len(d.cands) == 0 && len(d.gone) == 0 && len(d.kept) == 0 {
		// Nothing to change: the ledger as loaded is the ledger now, and
		// the walk found every entry of it, in walk order.
		ix.keepSnapshot(ctx, full, files)
		return Result{Unchanged: d.unchanged}, nil
	}
	if err := ix.fillHash(ctx, d.needHash); err != nil {
		return Result{}, err
	}
	if prefix == "" && len(d.kept) == 0 && full.sorted != nil {
		// The ledger came from the snapshot: its order is the walk's, so
		// the walk itself (10 MB at 100k notes) need not be kept alive
		// through apply for snapshotAfter.
		ix.chainGen = full.gen
	}
	res, err := ix.apply(ctx, Result{Unchanged: d.unchanged}, d.cands, d.gone, ledger, progress)
	chain := ix.chainGen
	ix.chainGen = ""
	if err == nil && chain != "" {
		ix.snapshotAfter(ctx, chain, full.sorted, d)
	}
	if err == nil && prefix == "" && full.gen == "" {
		// A new (or rebuilt) index gets its ledger generation after its
		// first full reconcile, so the cold scan never paid for the
		// triggers. A failure costs only the snapshot: logged.
		if gerr := installLedgerGen(ctx, ix.db); gerr != nil && ctx.Err() == nil {
			ix.log.Warn().Err(gerr).Msg("ledger generation not installed; retried at the next scan")
		}
	}
	if err != nil || agree {
		return res, err
	}
	n, err := ix.dropOrphanRows(ctx)
	res.Removed += n
	return res, err
}

// keepSnapshot writes the snapshot of a full ledger that a scan found
// unchanged (files is that scan's walk, which found each of its entries),
// unless it came from the snapshot; a database without a
// ledger generation gets one, for the next scan. Failing to write is only
// logged: the snapshot is a cache.
func (ix *Index) keepSnapshot(ctx context.Context, l fullLedger, files []walked) {
	ix.bg.Wait() // one snapshot writer at a time
	var err error
	switch {
	case l.fromSnapshot:
		return
	case l.gen == "":
		err = installLedgerGen(ctx, ix.db)
	default:
		order := make([]string, len(files))
		for i, f := range files {
			order[i] = f.rel
		}
		err = writeSnapshot(ix.memDir, l.gen, order, l.entries)
	}
	if err != nil && ctx.Err() == nil {
		ix.log.Warn().Err(err).Msg("ledger snapshot not written; the next scan reads the ledger from the index")
	}
}

// syncPaths handles watcher hints. The ledger entries of the paths are
// read in one query for the whole batch: one statement per path was 5-8%
// of a burst's CPU.
func (ix *Index) syncPaths(ctx context.Context, paths []string) (Result, error) {
	var total Result
	var cands []candidate
	var gone []string
	ledger := make(map[string]*entry)
	seen := make(map[string]bool, len(paths))
	realDirs := map[string]bool{"": true}
	// A file or nothing at the path: its ledger entry decides.
	type hint struct {
		rel  string
		info os.FileInfo // nil when nothing is there
	}
	var hints []hint
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
		if err != nil {
			info = nil
		}
		hints = append(hints, hint{rel, info})
	}
	rels := make([]string, len(hints))
	for i, h := range hints {
		rels[i] = h.rel
	}
	entries, err := ix.lookupAll(ctx, rels)
	if err != nil {
		return total, err
	}
	for _, h := range hints {
		// A file, or nothing: the path itself and, if it was a directory,
		// everything the ledger has under it.
		e := entries[h.rel]
		if h.info != nil && h.info.Mode().IsRegular() && frontmatter.IsRecord(h.rel) {
			cands = append(cands, candidate{rel: h.rel, old: e, force: true})
			continue
		}
		if e != nil {
			ledger[h.rel] = e
			gone = append(gone, h.rel)
		}
		if h.info == nil {
			sub, err := ix.loadLedger(ctx, h.rel)
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
