package indexer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/frontmatter"
)

// Drift is how far the index is from the files, as `elfsync status` shows
// it. Paths are root-relative.
type Drift struct {
	Files       int         `json:"files"`        // record files on disk
	Rows        int         `json:"rows"`         // rows in learnings and heuristics
	MissingRows []string    `json:"missing_rows"` // files with no row that the index has not judged invalid
	OrphanRows  []string    `json:"orphan_rows"`  // rows with no file
	StaleRows   []string    `json:"stale_rows"`   // rows that differ from their file (file edited, row changed by a tool)
	Refused     []Refused   `json:"refused"`      // rows another process wrote that cannot be written into a file, with why
	ForeignRows int         `json:"foreign_rows"` // the framework's own rows (no elfsync key: outside memory/, or waiting for their file); not drift
	Invalid     []FileError `json:"invalid"`      // files that do not parse (reported, not drift)
	// SearchPending counts records whose rows are in but whose full-text
	// entries are not yet (a scan writes them right after the rows).
	SearchPending int       `json:"-"`
	LastScan      time.Time `json:"-"`
	IndexExists   bool      `json:"-"`
	// Matched are the root-relative paths CheckOptions.Match picked.
	Matched []string `json:"-"`
	// Entries, with CheckOptions.Entries, are what the walk saw (see
	// WalkEntry), and Unreadable the memory-relative paths it could not
	// read.
	Entries    []WalkEntry `json:"-"`
	Unreadable []string    `json:"-"`
}

// Refused is a row whose direct write was refused by write-back (an
// unsafe path, text a file cannot hold): kept in the database as it is,
// drift until the row is repaired or its file rewritten.
type Refused struct {
	Table  string `json:"table"`
	ID     int64  `json:"id"`
	Path   string `json:"path"` // the record's file, else the row's filepath as written ("" for none)
	Reason string `json:"reason"`
}

// InSync reports whether the index matches the files. Invalid files are not
// drift.
func (d *Drift) InSync() bool {
	return len(d.MissingRows) == 0 && len(d.OrphanRows) == 0 && len(d.StaleRows) == 0 && len(d.Refused) == 0
}

// Check compares the index of the memory folder under root with the files,
// read-only: it opens the index without writing to it, and reads only files
// whose size or mtime differ from the ledger. A missing index means every
// file lacks its row.
func Check(ctx context.Context, root string, maxSize int64) (Drift, error) {
	return CheckWith(ctx, root, CheckOptions{MaxSize: maxSize})
}

// CheckOptions are the settings of CheckWith.
type CheckOptions struct {
	// MaxSize is the --max-size the index was built with; 0 means
	// frontmatter.DefaultMaxSize.
	MaxSize int64
	// Match, when set, is given the name of every entry under memory/
	// that is not a directory and not ignored (of any type, links
	// included; from several goroutines at once); Drift.Matched lists the
	// root-relative paths of those it accepts, in walk order. status finds
	// conflict copies this way, in the walk it makes anyway.
	Match func(name string) bool
	// Entries makes Drift.Entries list every entry under memory/ the
	// walk did not descend into, with its lstat where it made one.
	Entries bool
	// Walked, with Entries, gets those entries and the memory-relative
	// paths the walk could not read instead of Drift.Entries and
	// Drift.Unreadable (which stay empty): it is called once, from
	// another goroutine, as soon as the walk is done, while CheckWith
	// compares the files with the index (never if the walk fails, and
	// possibly after CheckWith returned an error). Neither slice is
	// used by anything else.
	Walked func(entries []WalkEntry, unreadable []string)
}

// CheckWith is Check with options.
func CheckWith(ctx context.Context, root string, opts CheckOptions) (Drift, error) {
	maxSize := opts.MaxSize
	if maxSize <= 0 {
		maxSize = frontmatter.DefaultMaxSize
	}
	memDir := filepath.Join(root, MemoryDir)
	dbPath := filepath.Join(memDir, DBName)
	d := Drift{MissingRows: []string{}, OrphanRows: []string{}, StaleRows: []string{}, Refused: []Refused{}, Invalid: []FileError{}}
	if _, err := os.Stat(memDir); err != nil {
		return d, fmt.Errorf("memory folder: %w", err)
	}
	// The walk runs while the index is read. A file the index read as
	// holding no record (a domain file whose last section was removed, or
	// that the framework's MCP server just created) is not missing a row.
	walk := (&Index{memDir: memDir, log: zerolog.Nop()}).walkAsync("", walkOpts{match: opts.Match, entries: opts.Entries, walked: opts.Walked})
	ledger := map[string]*entry{}
	// sorted is the ledger in walk order when it came from the snapshot.
	var sorted []relEntry
	// Rows whose file has no ledger entry (rare: a row inserted by hand
	// with a key), by memory-relative path: true once the walk saw it.
	strays := map[string]bool{}
	var ix *Index
	if _, err := os.Stat(dbPath); err == nil {
		d.IndexExists = true
		db, err := sql.Open("sqlite", readerDSN(dbPath))
		if err != nil {
			return d, fmt.Errorf("open index: %w", err)
		}
		defer db.Close()
		var v int
		if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
			return d, fmt.Errorf("open index %s: %w", dbPath, err)
		}
		if v != SchemaVersion {
			return d, fmt.Errorf("index %s has schema version %d, this elfsync uses %d: run `elfsync scan` to bring it in line (a framework database is adopted in place after a backup; nothing is reset)", dbPath, v, SchemaVersion)
		}
		ix = &Index{db: db, memDir: memDir}
		full, err := loadFullLedger(ctx, db, memDir)
		if err != nil {
			return d, err
		}
		// A ledger from the snapshot is looked up in place (see
		// ledgerCursor); one from SQL by a map.
		if sorted = full.sorted; sorted == nil {
			ledger = full.byPath()
		}
		cur := ledgerCursor{sorted: sorted}
		// A record's file is its key's (a row's filepath is another
		// process's to write, NULL included). Each key marks its file's
		// ledger entry, so the walk needs one lookup per file.
		r, err := db.QueryContext(ctx, `
SELECT elf_key FROM learnings WHERE elf_key IS NOT NULL
UNION ALL SELECT elf_key FROM heuristics WHERE elf_key IS NOT NULL
UNION ALL SELECT elf_key FROM decisions WHERE elf_key IS NOT NULL`)
		if err != nil {
			return d, fmt.Errorf("read rows: %w", err)
		}
		var key sql.RawBytes
		for r.Next() {
			if err := r.Scan(&key); err != nil {
				r.Close()
				return d, err
			}
			d.Rows++
			// Looked up without copying the key (neither findEntry nor
			// m[string(b)] allocates); only a stray's path is copied.
			rel := keyFileBytes(key)
			var e *entry
			if sorted != nil {
				e = findEntry(&cur, rel)
			} else {
				e = ledger[string(rel)]
			}
			if e != nil {
				e.hasRow = true
			} else {
				strays[string(rel)] = false
			}
		}
		r.Close()
		if err := r.Err(); err != nil {
			return d, fmt.Errorf("read rows: %w", err)
		}
		if d.SearchPending, err = SearchPending(ctx, db); err != nil {
			return d, fmt.Errorf("count records not yet searchable: %w", err)
		}
		if err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM learnings WHERE elf_key IS NULL)
			+ (SELECT count(*) FROM heuristics WHERE elf_key IS NULL)`).Scan(&d.ForeignRows); err != nil {
			return d, fmt.Errorf("count foreign rows: %w", err)
		}
		// Rows another process changed whose change is not written back
		// into the file yet differ from their files.
		pending, err := db.QueryContext(ctx, `
SELECT DISTINCT r.elf_key FROM elf_changes c JOIN learnings r ON c.tbl = 'learnings' AND r.id = c.row_id WHERE r.elf_key IS NOT NULL
UNION SELECT DISTINCT r.elf_key FROM elf_changes c JOIN heuristics r ON c.tbl = 'heuristics' AND r.id = c.row_id WHERE r.elf_key IS NOT NULL`)
		if err != nil {
			return d, fmt.Errorf("read pending changes: %w", err)
		}
		stale, err := scanPaths(pending)
		if err != nil {
			return d, err
		}
		for _, key := range stale {
			d.StaleRows = append(d.StaleRows, rootRel(keyFile(key)))
		}
		// Rows whose change was refused (unsafe to write into a file).
		if d.Refused, err = queryRefused(ctx, db); err != nil {
			return d, err
		}
		invalid, err := queryInvalid(ctx, db)
		if err != nil {
			return d, err
		}
		errs := map[string]string{}
		for _, fe := range invalid {
			errs[fe.Path] = fe.Error
		}
		d.LastScan = lastScan(ctx, db)
		if t := scanStamp(memDir); t.After(d.LastScan) {
			d.LastScan = t
		}
		defer func() {
			for i := range d.Invalid {
				d.Invalid[i].Error = errs[d.Invalid[i].Path]
			}
		}()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return d, fmt.Errorf("index: %w", err)
	}

	w, err := walk()
	if err != nil {
		return d, fmt.Errorf("walk %s: %w", memDir, err)
	}
	d.Files = len(w.files)
	if opts.Walked == nil {
		d.Entries, d.Unreadable = w.entries, w.unreadable
	}
	mark := diffMarks.Add(1)
	// The files are in walk order, as is a ledger read from the
	// snapshot: most files are the entry after the last one found.
	cur := ledgerCursor{sorted: sorted}
	for _, f := range w.files {
		var e *entry
		if sorted != nil {
			e = findEntry(&cur, f.rel)
		} else {
			e = ledger[f.rel]
		}
		if e == nil {
			if len(strays) > 0 {
				if _, ok := strays[f.rel]; ok {
					strays[f.rel] = true
				}
			}
			d.MissingRows = append(d.MissingRows, rootRel(f.rel))
			continue
		}
		e.seen = mark
		if e.size != f.size || e.mtime != f.mtime {
			h, err := hashFile(filepath.Join(memDir, filepath.FromSlash(f.rel)), maxSize)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return d, fmt.Errorf("walk %s: %w", memDir, err)
			}
			if err := ix.fillHash(ctx, []*entry{e}); err != nil {
				return d, fmt.Errorf("walk %s: %w", memDir, err)
			}
			if h != e.hash {
				if e.hasRow {
					d.StaleRows = append(d.StaleRows, rootRel(f.rel))
				} else {
					d.MissingRows = append(d.MissingRows, rootRel(f.rel))
				}
				continue
			}
		}
		switch {
		case e.hasErr:
			d.Invalid = append(d.Invalid, FileError{Path: rootRel(f.rel)})
		case !e.hasRow && e.nrec > 0:
			d.MissingRows = append(d.MissingRows, rootRel(f.rel))
		}
	}
	if sorted != nil {
		for i := range sorted {
			if e := &sorted[i].entry; e.hasRow && e.seen != mark {
				d.OrphanRows = append(d.OrphanRows, rootRel(sorted[i].rel))
			}
		}
	} else {
		for rel, e := range ledger {
			if e.hasRow && e.seen != mark {
				d.OrphanRows = append(d.OrphanRows, rootRel(rel))
			}
		}
	}
	for rel, seen := range strays {
		if !seen {
			d.OrphanRows = append(d.OrphanRows, rootRel(rel))
		}
	}
	for _, rel := range w.matched {
		d.Matched = append(d.Matched, rootRel(rel))
	}
	sort.Strings(d.MissingRows)
	sort.Strings(d.OrphanRows)
	sort.Strings(d.StaleRows)
	d.StaleRows = slices.Compact(d.StaleRows) // a file's sections, a row both pending and refused
	return d, nil
}

// ledgerCursor looks paths up in a ledger in walk order (from the
// snapshot, which holds its entries strictly in that order) without a
// map: lookups in walk order find their entry at the cursor or just
// before it (a domain file's sections), others by binary search. Building
// a map of 20k entries and looking every file and key up in it cost
// status several milliseconds.
type ledgerCursor struct {
	sorted []relEntry
	next   int // the entry after the last one found
}

// findEntry returns the ledger entry of rel, nil if there is none.
func findEntry[T string | []byte](c *ledgerCursor, rel T) *entry {
	if c.next < len(c.sorted) && c.sorted[c.next].rel == string(rel) {
		c.next++
		return &c.sorted[c.next-1].entry
	}
	if c.next > 0 && c.sorted[c.next-1].rel == string(rel) {
		return &c.sorted[c.next-1].entry
	}
	i, ok := slices.BinarySearchFunc(c.sorted, rel, func(re relEntry, rel T) int { return cmpWalk(re.rel, rel) })
	if !ok {
		return nil
	}
	c.next = i + 1
	return &c.sorted[i].entry
}

// keyFileBytes is keyFile on the bytes of a key.
func keyFileBytes(key []byte) []byte {
	fp := key
	if i := lastSectionMark(key); i > 0 {
		fp = key[:i]
	}
	return bytes.TrimPrefix(fp, []byte(MemoryDir+"/"))
}

// lastSectionMark is the index of the last "#H-" in key, -1 if none:
// strings.LastIndex by its '#'s, which few keys hold (LastIndex hashes
// every byte; status looks at every key).
func lastSectionMark[T string | []byte](key T) int {
	for end := len(key); end > 0; {
		i := lastByte(key[:end], '#')
		if i < 0 {
			break
		}
		if len(key)-i >= 3 && key[i+1] == 'H' && key[i+2] == '-' {
			return i
		}
		end = i
	}
	return -1
}

// lastByte is the index of the last c in s, -1 if none.
func lastByte[T string | []byte](s T, c byte) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// queryRefused lists the refused rows with their reasons.
func queryRefused(ctx context.Context, db *sql.DB) ([]Refused, error) {
	rows, err := db.QueryContext(ctx, `
SELECT x.tbl, x.row_id, coalesce(r.elf_key, ''), coalesce(r.filepath, ''), coalesce(x.reason, '') FROM elf_refused x JOIN learnings r ON x.tbl = 'learnings' AND r.id = x.row_id
UNION ALL SELECT x.tbl, x.row_id, coalesce(r.elf_key, ''), coalesce(r.filepath, ''), coalesce(x.reason, '') FROM elf_refused x JOIN heuristics r ON x.tbl = 'heuristics' AND r.id = x.row_id
ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("read refused rows: %w", err)
	}
	defer rows.Close()
	out := []Refused{}
	for rows.Next() {
		var r Refused
		var key string
		if err := rows.Scan(&r.Table, &r.ID, &key, &r.Path, &r.Reason); err != nil {
			return nil, fmt.Errorf("read refused rows: %w", err)
		}
		if key != "" {
			r.Path = rootRel(keyFile(key))
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// hashFile hashes what the indexer hashes: at most maxSize+1 bytes.
func hashFile(path string, maxSize int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, maxSize+1)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
