package indexer

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/emergent-learning/elfsync/edit"
	"github.com/emergent-learning/elfsync/frontmatter"
)

// Write-back: direct database writes into the files.
//
// The framework's tools write learnings and heuristics rows themselves.
// Triggers log every such write (not elfsync's own) in elf_changes, and
// WriteBack turns them into file edits, through package edit:
//
//   - an UPDATE of a record's row is written into its file: frontmatter
//     keys (counters as a bump of this host's tally, so merges across
//     machines keep them), or the bold lines and heading of a domain
//     file's section;
//   - a DELETE removes the file (or the section): git keeps it. More than
//     MassDelete rows deleted in one batch are not propagated: the rows are
//     restored from the files, with their ids, and a warning logged;
//   - an INSERT is claimed by its file when it has one (the framework's
//     write-then-INSERT); a heuristic inserted without a file gets one after
//     Grace, unless a domain file's "## H-<id>" section claimed it
//     meanwhile (the MCP server appends that section right after its
//     INSERT); a learnings row whose file inside memory/ is missing after
//     Grace gets its file written from the row. Rows pointing outside
//     memory/ are the framework's and left alone.
//
// A row whose values cannot be written safely (a path outside memory/,
// through a symlink, at index.db or .git; text a file cannot hold) is
// refused: kept in the database, logged once, and nothing else waits.

// MassDelete is the most rows deleted together that are propagated.
const MassDelete = 10

// Grace is how long a row inserted without a file waits for its file.
const Grace = 2 * time.Second

// WriteBackResult says what a write-back did.
type WriteBackResult struct {
	Changed  []string // root-relative paths written or removed
	Refused  int      // rows that could not be written back
	Restored int      // rows of a mass delete restored from their files
	Pending  int      // changes waiting for their grace period
}

// change is one logged write of another process.
type change struct {
	seq   int64
	tbl   string
	op    string
	rowID int64
	key   string
	cols  string  // an update's changed columns, "a,b,"
	at    float64 // julian day
}

// HasChanges reports, cheaply, whether other processes wrote rows that
// are not written back yet. watch asks every 50 ms, so it looks at the
// index's files first: every commit of any connection writes the WAL file
// (or, with a rollback journal, the database file), which changes its
// size or modification time. While both files are as they were when the
// last query found nothing, the answer is still no and no query runs (an
// idle watcher spent 0.9% of a core on a query every 50 ms). A file
// system's coarse timestamps could hide a commit that rewrote a reset WAL
// to the same size within one tick, so the query still runs at least
// once a second.
func (ix *Index) HasChanges(ctx context.Context) (bool, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.db == nil {
		return false, nil
	}
	// The files are looked at before the query: a commit after this
	// point either shows in the query or changes them for the next call.
	sig := ix.indexFilesSig()
	now := time.Now()
	if ix.quiet.none && sig == ix.quiet.sig && now.Sub(ix.quiet.at) < quietRecheck {
		return false, nil
	}
	return ix.queryChanges(ctx, sig, now)
}

// HasChangesNow is HasChanges without the look at the files: it always
// asks the database (write-back calls it when a write to the WAL woke it,
// and once more shortly after, since a commit is visible only once its
// last frame and the WAL index are written).
func (ix *Index) HasChangesNow(ctx context.Context) (bool, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.db == nil {
		return false, nil
	}
	return ix.queryChanges(ctx, ix.indexFilesSig(), time.Now())
}

// queryChanges asks the change log, remembering a "none" with the file
// signature sig taken before the query.
func (ix *Index) queryChanges(ctx context.Context, sig [2]fileSig, now time.Time) (bool, error) {
	var ok bool
	err := ix.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM elf_changes)`).Scan(&ok)
	ix.quiet.none = err == nil && !ok
	ix.quiet.sig, ix.quiet.at = sig, now
	return ok, err
}

// quietRecheck is the longest HasChanges trusts unchanged index files.
const quietRecheck = time.Second

// fileSig is what a write to a file changes: its size and modification
// time.
type fileSig struct{ size, mtime int64 }

// indexFilesSig returns the signatures of the index and its WAL file (the
// zero fileSig for one that is not there).
func (ix *Index) indexFilesSig() [2]fileSig {
	var sig [2]fileSig
	for i, p := range [2]string{ix.dbPath, ix.dbPath + "-wal"} {
		if info, err := os.Stat(p); err == nil {
			sig[i] = fileSig{info.Size(), info.ModTime().UnixNano()}
		}
	}
	return sig
}

// WriteBack writes the logged changes of other processes into the files
// and indexes the files it changed. host is this machine's tally key.
func (ix *Index) WriteBack(ctx context.Context, host string) (WriteBackResult, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	reopened, err := ix.checkFile(ctx)
	if err != nil {
		return WriteBackResult{}, err
	}
	if reopened {
		// A new index: the next reconcile rebuilds it (and has no log).
		ix.rebuild = true
		return WriteBackResult{}, nil
	}
	return ix.writeBack(ctx, host)
}

func (ix *Index) writeBack(ctx context.Context, host string) (WriteBackResult, error) {
	var res WriteBackResult
	changes, err := ix.loadChanges(ctx)
	if err != nil || len(changes) == 0 {
		return res, err
	}
	var now float64
	if err := ix.db.QueryRowContext(ctx, `SELECT julianday('now')`).Scan(&now); err != nil {
		return res, err
	}
	grace := ix.opts.Grace.Hours() / 24
	ed := edit.New(ix.memDir, ix.opts.MaxSize)
	var done []int64
	refusedNow := map[string]bool{} // rows refused in this round
	touched := map[string]bool{}
	touch := func(rel string) {
		if rel != "" {
			touched[rel] = true
		}
	}

	// Deletes of elfsync's rows, by key (the row's last state).
	deleted := map[string]change{}
	for _, c := range changes {
		if c.op == "delete" && c.key != "" {
			deleted[c.key] = c
		}
	}
	mass := len(deleted) > MassDelete
	if mass {
		ix.log.Warn().Int("rows", len(deleted)).Int("limit", MassDelete).
			Msg("mass delete of records in the database: not propagated to the files; restoring the rows from the files")
	}
	// The last op per row decides; earlier ones are done with it.
	last := map[string]change{}
	colsOf := map[string]string{}
	for _, c := range changes {
		id := c.tbl + "\x00" + strconv.FormatInt(c.rowID, 10)
		last[id] = c
		colsOf[id] += c.cols
	}
	handled := map[string]bool{}
	for _, c := range changes {
		id := c.tbl + "\x00" + strconv.FormatInt(c.rowID, 10)
		if last[id].seq != c.seq {
			done = append(done, c.seq)
			continue
		}
		if handled[id] {
			done = append(done, c.seq)
			continue
		}
		handled[id] = true
		switch c.op {
		case "delete":
			if c.key == "" {
				done = append(done, c.seq) // a framework row: not ours
				continue
			}
			rel := keyFile(c.key)
			if mass {
				ix.restoreIDs[c.key] = c.rowID
				res.Restored++
				touch(rel)
				done = append(done, c.seq)
				continue
			}
			if err := ix.removeRecord(ctx, ed, c); err != nil {
				ix.refuse(ctx, c, err)
				refusedNow[c.tbl+"\x00"+strconv.FormatInt(c.rowID, 10)] = true
				res.Refused++
			} else {
				touch(rel)
			}
			done = append(done, c.seq)
		case "insert", "update":
			row, err := ix.loadRow(ctx, c.tbl, c.rowID)
			if errors.Is(err, sql.ErrNoRows) {
				done = append(done, c.seq) // gone since
				continue
			}
			if err != nil {
				return res, err
			}
			if row.key == "" {
				// A framework row no file claimed yet. If its file is
				// there (the framework wrote it, then INSERTed, after
				// elfsync indexed it), the file claims it now.
				if rel, ok := ix.existingFile(row.filepath); ok {
					if err := ix.forceReread(ctx, rootRel(rel)); err != nil {
						return res, err
					}
					touch(rel)
					done = append(done, c.seq)
					continue
				}
				rel, wait, err := ix.placeUnclaimed(ctx, row, now-c.at < grace)
				switch {
				case err != nil:
					ix.refuse(ctx, c, err)
					refusedNow[id] = true
					res.Refused++
				case wait:
					res.Pending++
					continue // keep the change
				default:
					touch(rel)
				}
				done = append(done, c.seq)
				continue
			}
			if c.op == "insert" && c.key == "" {
				// Claimed by its file since (a domain file's section, or
				// the file the framework wrote first): the file's values
				// win. The claim kept the row as the framework wrote it
				// (no filepath, title, ...) while this change was logged,
				// so the file is read again even though it is unchanged.
				if err := ix.forceReread(ctx, row.key); err != nil {
					return res, err
				}
				if n, ok := keySection(row.key); ok {
					ix.noteAppended(keyFile(row.key), n)
				}
				touch(keyFile(row.key))
				done = append(done, c.seq)
				continue
			}
			row.changed = colsOf[id]
			if c.op == "insert" {
				row.changed = "*"
			}
			if err := ix.writeRow(ed, host, row); err != nil {
				ix.refuse(ctx, c, err)
				refusedNow[id] = true
				res.Refused++
			}
			touch(keyFile(row.key))
			done = append(done, c.seq)
		default:
			done = append(done, c.seq)
		}
	}
	if err := ix.forget(ctx, done); err != nil {
		return res, err
	}
	// A row handled without refusal is no longer refused.
	for id := range handled {
		if refusedNow[id] {
			continue
		}
		tbl, rowID, _ := strings.Cut(id, "\x00")
		if _, err := ix.db.ExecContext(ctx, `DELETE FROM elf_refused WHERE tbl = ? AND row_id = ?`, tbl, rowID); err != nil {
			return res, err
		}
	}
	paths := make([]string, 0, len(touched))
	for rel := range touched {
		paths = append(paths, rel)
		res.Changed = append(res.Changed, rootRel(rel))
	}
	sort.Strings(paths)
	sort.Strings(res.Changed)
	if len(paths) > 0 {
		if _, err := ix.syncPaths(ctx, paths); err != nil {
			return res, err
		}
		// An adoption's ids wait for the first full reconcile (adoptedIDs).
		adopted := ix.adopted
		ix.adopted = false
		_, err := ix.exportClaimed(ctx, Result{})
		ix.adopted = adopted
		if err != nil {
			return res, err
		}
	}
	if mass {
		// Restore what is still missing (the ledger says the files hold
		// the rows).
		if _, err := ix.reconcileTree(ctx, "", nil); err != nil {
			return res, err
		}
	}
	return res, nil
}

// loadChanges reads the change log, oldest first.
func (ix *Index) loadChanges(ctx context.Context) ([]change, error) {
	rows, err := ix.db.QueryContext(ctx, `SELECT seq, tbl, op, row_id, coalesce(elf_key, ''), coalesce(cols, ''), at FROM elf_changes ORDER BY seq LIMIT 10000`)
	if err != nil {
		return nil, fmt.Errorf("read the change log: %w", err)
	}
	defer rows.Close()
	var out []change
	for rows.Next() {
		var c change
		if err := rows.Scan(&c.seq, &c.tbl, &c.op, &c.rowID, &c.key, &c.cols, &c.at); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// forget drops handled changes from the log.
func (ix *Index) forget(ctx context.Context, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	parts := make([]string, len(seqs))
	for i, s := range seqs {
		parts[i] = strconv.FormatInt(s, 10)
	}
	_, err := ix.db.ExecContext(ctx, `DELETE FROM elf_changes WHERE seq IN (SELECT value FROM json_each(?))`, "["+strings.Join(parts, ",")+"]")
	if err != nil {
		return fmt.Errorf("clear the change log: %w", err)
	}
	return nil
}

// refuse records a row that cannot be written back (status reports it)
// and logs it, once per row and reason.
func (ix *Index) refuse(ctx context.Context, c change, err error) {
	if _, xerr := ix.db.ExecContext(ctx, `INSERT OR REPLACE INTO elf_refused (tbl, row_id, reason) VALUES (?, ?, ?)`,
		c.tbl, c.rowID, err.Error()); xerr != nil {
		ix.log.Warn().Err(xerr).Msg("record a refused row")
	}
	k := fmt.Sprintf("%s/%d/%v", c.tbl, c.rowID, err)
	if ix.refused[k] {
		return
	}
	ix.refused[k] = true
	ix.log.Warn().Err(err).Str("table", c.tbl).Int64("id", c.rowID).Str("op", c.op).
		Msg("a database write cannot be written back into the files; the row is kept as it is")
}

// forceReread makes the next sync of a record's file read it even when
// its content is unchanged (key: an elf_key or a root-relative path).
func (ix *Index) forceReread(ctx context.Context, key string) error {
	_, err := ix.db.ExecContext(ctx, `UPDATE files SET hash = '' WHERE filepath = ?`, rootRel(keyFile(key)))
	return err
}

// keyFile returns the memory-relative file of an elf_key.
func keyFile(key string) string {
	fp := key
	if i := lastSectionMark(key); i > 0 {
		fp = key[:i]
	}
	return strings.TrimPrefix(fp, MemoryDir+"/")
}

// keySection returns the section number of a domain-file key.
func keySection(key string) (int64, bool) {
	i := strings.LastIndex(key, "#H-")
	if i < 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.SplitN(key[i+3:], "~", 2)[0], 10, 64)
	return n, err == nil
}

// row is a learnings or heuristics row as write-back reads it.
type row struct {
	tbl                                string
	id                                 int64
	key, filepath                      string
	typ, title, summary, tags, domain  string
	severity                           sql.NullInt64
	rule, explanation, source, project string
	confidence                         sql.NullFloat64
	golden                             sql.NullBool
	validated, violated                sql.NullInt64
	created                            string
	changed                            string // the columns to write back: "a,b," or "*"
}

// has reports whether column col is one to write back.
func (r row) has(col string) bool {
	return r.changed == "*" || strings.Contains(","+r.changed, ","+col+",")
}

func (ix *Index) loadRow(ctx context.Context, tbl string, id int64) (row, error) {
	r := row{tbl: tbl, id: id}
	var err error
	if tbl == "learnings" {
		err = ix.db.QueryRowContext(ctx, `SELECT coalesce(elf_key, ''), coalesce(filepath, ''), coalesce(type, ''), coalesce(title, ''),
			coalesce(summary, ''), coalesce(tags, ''), coalesce(domain, ''), severity, coalesce(created_at, '')
			FROM learnings WHERE id = ?`, id).Scan(&r.key, &r.filepath, &r.typ, &r.title, &r.summary, &r.tags, &r.domain, &r.severity, &r.created)
	} else {
		r.typ = frontmatter.TypeHeuristic
		err = ix.db.QueryRowContext(ctx, `SELECT coalesce(elf_key, ''), coalesce(filepath, ''), coalesce(title, ''), coalesce(tags, ''),
			coalesce(domain, ''), coalesce(rule, ''), coalesce(explanation, ''), coalesce(source_type, ''), coalesce(project_path, ''),
			confidence, is_golden, times_validated, times_violated, coalesce(created_at, '')
			FROM heuristics WHERE id = ?`, id).Scan(&r.key, &r.filepath, &r.title, &r.tags, &r.domain, &r.rule, &r.explanation,
			&r.source, &r.project, &r.confidence, &r.golden, &r.validated, &r.violated, &r.created)
	}
	return r, err
}

// badText reports text a record field must not hold: control characters
// (a newline in a one-line field would end it) or invalid UTF-8.
func badText(s string, multiline bool) error {
	for _, r := range s {
		if r == '\n' || r == '\t' || r == '\r' {
			if multiline {
				continue
			}
		}
		if r == 0xFFFD || r < 0x20 || r == 0x7f {
			return fmt.Errorf("a field holds a control character or invalid text")
		}
	}
	return nil
}

// writeRow writes a changed row's values into its record's file.
func (ix *Index) writeRow(ed *edit.Editor, host string, r row) error {
	rel := keyFile(r.key)
	for _, s := range []string{r.title, r.summary, r.tags, r.domain, r.rule, r.source, r.project} {
		if err := badText(s, false); err != nil {
			return err
		}
	}
	if err := badText(r.explanation, true); err != nil {
		return err
	}
	if n, nth, ok := sectionKey(r.key); ok {
		return ix.writeSection(ed, host, rel, n, nth, r)
	}
	var file frontmatter.Record
	_, err := ed.Update(rel, func(data []byte) ([]byte, error) {
		rec, err := frontmatter.Parse(frontmatter.Input{Path: rel, Data: data, MaxSize: ix.opts.MaxSize})
		if err != nil {
			return nil, fmt.Errorf("the file does not parse: %w", err)
		}
		file = rec
		var ch []frontmatter.Change
		set := func(key string, v any) { ch = append(ch, frontmatter.Change{Key: key, Value: v}) }
		if r.tbl == "learnings" {
			if r.has("title") && r.title != rec.Title && r.title != "" {
				set("title", r.title)
			}
			if r.has("summary") && r.summary != rec.Summary {
				set("summary", r.summary)
			}
			if r.has("severity") && r.severity.Valid && r.severity.Int64 != int64(rec.Severity) && r.severity.Int64 >= 1 && r.severity.Int64 <= 5 {
				set("severity", int(r.severity.Int64))
			}
		} else {
			if r.has("rule") && r.rule != rec.Rule && r.rule != "" {
				set("rule", r.rule)
			}
			if r.has("explanation") && r.explanation != rec.Explanation {
				set("explanation", r.explanation)
			}
			if r.has("confidence") && r.confidence.Valid && (rec.Confidence == nil || *rec.Confidence != r.confidence.Float64) {
				set("confidence", r.confidence.Float64)
			}
			if r.has("is_golden") && r.golden.Valid && (rec.IsGolden == nil || *rec.IsGolden != r.golden.Bool) {
				set("is_golden", r.golden.Bool)
			}
			if r.has("project_path") && r.project != rec.ProjectPath && r.project != "" {
				set("project_path", r.project)
			}
		}
		if r.has("domain") && r.domain != rec.Domain && r.domain != "" {
			set("domain", r.domain)
		}
		if r.has("tags") && r.tags != rec.TagString() {
			set("tags", splitTagString(r.tags))
		}
		if len(ch) == 0 {
			return data, nil
		}
		// In the file's own style: a bold-field file (the framework's)
		// keeps its bold lines, edited in place, unless a value cannot be
		// one; EditRecord checks that the result reads back as the file
		// with exactly these changes.
		out, _, err := frontmatter.EditRecord(frontmatter.Input{Path: rel, Data: data, MaxSize: ix.opts.MaxSize}, ch)
		return out, err
	})
	if err != nil {
		return err
	}
	if r.tbl != "heuristics" {
		return nil
	}
	// Counters: the difference goes into this host's tally.
	for _, c := range []struct {
		counter edit.Counter
		row     sql.NullInt64
		file    int64
		col     string
	}{{edit.Validated, r.validated, file.TimesValidated, "times_validated"}, {edit.Violated, r.violated, file.TimesViolated, "times_violated"}} {
		if !r.has(c.col) || !c.row.Valid || c.row.Int64 == c.file {
			continue
		}
		if _, err := ed.Bump(rel, c.counter, host, c.row.Int64-c.file); err != nil {
			return err
		}
	}
	return nil
}

func splitTagString(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// writeSection writes a heuristic row into its domain-file section: the
// rule into the heading, the rest as bold lines (counters with this
// host's tally).
func (ix *Index) writeSection(ed *edit.Editor, host, rel string, n int64, nth int, r row) error {
	var before []byte
	var what []string // for the commit message
	out, err := ed.Update(rel, func(data []byte) ([]byte, error) {
		before, what = data, nil
		_, secs := frontmatter.ParseSections(data)
		var cur *frontmatter.Section
		seen := 0
		for i := range secs {
			if secs[i].ID == n {
				if seen++; seen == nth {
					cur = &secs[i]
					break
				}
			}
		}
		if cur == nil {
			return nil, fmt.Errorf("no section H-%d in %s", n, rel)
		}
		var fields []frontmatter.SectionField
		if r.has("confidence") && r.confidence.Valid && (cur.Confidence == nil || *cur.Confidence != r.confidence.Float64) {
			s, err := frontmatter.FormatConfidence(r.confidence.Float64)
			if err != nil {
				return nil, err
			}
			fields = append(fields, frontmatter.SectionField{Label: "Confidence", Value: s})
			what = append(what, "confidence")
		}
		// Counters: the difference goes into this host's tally, as in a
		// frontmatter file, so a merge with another machine's bumps keeps
		// both.
		for _, c := range []struct {
			col, label string
			row        sql.NullInt64
			plain      *int64
			tally      frontmatter.Tally
		}{{"times_validated", "Validated", r.validated, cur.Validated, cur.ValidatedBy}, {"times_violated", "Violated", r.violated, cur.Violated, cur.ViolatedBy}} {
			have, tally := frontmatter.SectionCounter(c.plain, c.tally)
			if !r.has(c.col) || !c.row.Valid || c.row.Int64 == have {
				continue
			}
			t, err := frontmatter.Bump(tally, have, host, c.row.Int64-have)
			if err != nil {
				return nil, err
			}
			fields = append(fields, frontmatter.SectionField{Label: c.label, Value: strconv.FormatInt(t.Sum(), 10)},
				frontmatter.SectionField{Label: c.label + " by", Value: t.String()})
			what = append(what, strings.ToLower(c.label))
		}
		if r.has("is_golden") && r.golden.Valid && (cur.Golden != nil || r.golden.Bool) && (cur.Golden == nil || *cur.Golden != r.golden.Bool) {
			fields = append(fields, frontmatter.SectionField{Label: "Golden", Value: strconv.FormatBool(r.golden.Bool)})
			what = append(what, "golden")
		}
		out := data
		if len(fields) > 0 {
			var err error
			if out, err = frontmatter.SetSectionFieldsNth(out, n, nth, fields); err != nil {
				return nil, err
			}
		}
		if r.has("rule") && r.rule != "" && r.rule != cur.Rule {
			var err error
			if out, err = frontmatter.SetSectionRuleNth(out, n, nth, r.rule); err != nil {
				return nil, err
			}
			what = append(what, "rule")
		}
		return out, nil
	})
	if err == nil && len(what) > 0 && !bytes.Equal(before, out) {
		ix.noteSection(rel, before, out, n, what...)
	}
	return err
}

// removeRecord removes a deleted row's file, or its section.
func (ix *Index) removeRecord(ctx context.Context, ed *edit.Editor, c change) error {
	rel := keyFile(c.key)
	if n, nth, ok := sectionKey(c.key); ok {
		var before []byte
		out, err := ed.Update(rel, func(data []byte) ([]byte, error) {
			before = data
			return frontmatter.RemoveSectionNth(data, n, nth)
		})
		if errors.Is(err, edit.ErrNotFound) {
			return nil
		}
		if err == nil && !bytes.Equal(before, out) {
			ix.noteSection(rel, before, out, n, "removed")
		}
		return err
	}
	_, abs, err := edit.Resolve(ix.memDir, rel)
	if err != nil {
		return err
	}
	if err := os.Remove(abs); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", rel, err)
	}
	ix.log.Info().Str("path", rel).Int64("id", c.rowID).Msg("row deleted in the database: file removed")
	return nil
}

// existingFile returns the memory-relative path of a row's filepath when
// it names a record file that exists inside memory/.
func (ix *Index) existingFile(fp string) (string, bool) {
	if !strings.HasPrefix(fp, MemoryDir+"/") {
		return "", false
	}
	rel, abs, err := edit.Resolve(ix.memDir, strings.TrimPrefix(fp, MemoryDir+"/"))
	if err != nil {
		return "", false
	}
	info, err := os.Lstat(abs)
	return rel, err == nil && info.Mode().IsRegular()
}

// placeUnclaimed gives a framework-inserted row without a file one, once
// its grace is over (wait reports that it is not). It returns the
// memory-relative path of the file written, or "" when the row is left as
// the framework's (it points outside memory/).
func (ix *Index) placeUnclaimed(ctx context.Context, r row, inGrace bool) (rel string, wait bool, err error) {
	if r.filepath != "" && !strings.HasPrefix(r.filepath, MemoryDir+"/") {
		return "", false, nil // the framework's own, outside memory/
	}
	if inGrace {
		return "", true, nil
	}
	for _, s := range []string{r.filepath, r.title, r.summary, r.tags, r.domain, r.rule, r.source} {
		if err := badText(s, false); err != nil {
			return "", false, err
		}
	}
	if err := badText(r.explanation, true); err != nil {
		return "", false, err
	}
	created := time.Now().UTC()
	if t, err := time.Parse(sqlTime, r.created); err == nil {
		created = t
	} else if t, ok := frontmatter.ParseTime(r.created); ok {
		created = t
	}
	rec := frontmatter.Record{Type: r.typ, Title: r.title, Summary: r.summary, Domain: r.domain,
		Tags: splitTagString(r.tags), Created: created.Truncate(time.Second)}
	if r.severity.Valid && r.severity.Int64 >= 1 && r.severity.Int64 <= 5 {
		rec.Severity = int(r.severity.Int64)
	}
	if r.tbl == "heuristics" {
		rec.Title, rec.Rule, rec.Explanation, rec.SourceType = r.rule, r.rule, r.explanation, r.source
		if r.confidence.Valid && r.confidence.Float64 >= 0 && r.confidence.Float64 <= 1 {
			c := r.confidence.Float64
			rec.Confidence = &c
		}
	}
	if rec.Title == "" {
		return "", false, fmt.Errorf("the row has no title")
	}
	data, err := frontmatter.Encode(rec)
	if err != nil {
		return "", false, err
	}
	ch := []frontmatter.Change{{Key: "id", Value: r.id}}
	if r.golden.Valid && r.golden.Bool {
		ch = append(ch, frontmatter.Change{Key: "is_golden", Value: true})
	}
	if r.validated.Int64 > 0 {
		ch = append(ch, frontmatter.Change{Key: frontmatter.KeyTimesValidated, Value: r.validated.Int64},
			frontmatter.Change{Key: frontmatter.KeyValidatedBy, Value: frontmatter.Tally{frontmatter.TallyBase: r.validated.Int64}})
	}
	if r.violated.Int64 > 0 {
		ch = append(ch, frontmatter.Change{Key: frontmatter.KeyTimesViolated, Value: r.violated.Int64},
			frontmatter.Change{Key: frontmatter.KeyViolatedBy, Value: frontmatter.Tally{frontmatter.TallyBase: r.violated.Int64}})
	}
	if data, err = frontmatter.SetFields(data, ch); err != nil {
		return "", false, err
	}
	if r.filepath != "" {
		// A writer that died between its INSERT and its file: the file at
		// the row's own path, from the row.
		rel = strings.TrimPrefix(r.filepath, MemoryDir+"/")
		if _, _, err := edit.Resolve(ix.memDir, rel); err != nil {
			return "", false, err
		}
	} else {
		folder := typeFolder[r.typ]
		if folder == "" {
			return "", false, fmt.Errorf("unknown type %q", r.typ)
		}
		rel = ""
		slug := frontmatter.Slug(rec.Title)
		for n := 1; n < 1000; n++ {
			cand := folder + "/" + frontmatter.FileName(rec.Created, slug, n)
			if _, err := os.Lstat(filepath.Join(ix.memDir, filepath.FromSlash(cand))); errors.Is(err, fs.ErrNotExist) {
				rel = cand
				break
			}
		}
		if rel == "" {
			return "", false, fmt.Errorf("no free file name for %q", slug)
		}
	}
	if _, err := frontmatter.Parse(frontmatter.Input{Path: rel, Data: data, MaxSize: ix.opts.MaxSize}); err != nil {
		return "", false, fmt.Errorf("the file written from the row would not parse: %w", err)
	}
	if err := writeNew(ix.memDir, rel, data); err != nil {
		return "", false, err
	}
	if r.tbl == "heuristics" && r.filepath == "" {
		ix.placed[r.id] = placedFile{rel: rel, rule: r.rule, at: time.Now()}
	}
	ix.log.Info().Str("path", rel).Int64("id", r.id).Str("table", r.tbl).Msg("row inserted without a file: file written")
	return rel, false, nil
}

// placedFile is a heuristic's file write-back wrote from its row.
type placedFile struct {
	rel, rule string
	at        time.Time
}

// placedFor is how long a placed file may still be taken over by a late
// "## H-<id>" section.
const placedFor = 10 * time.Minute

// takeOverPlaced lets a domain-file section "## H-<id>" appended after the
// grace (a slow MCP server) take over row <id>, which write-back had given
// a file of its own meanwhile: the section's row becomes row <id> (its
// counters, confidence and golden flag kept and written into the section)
// and the placed file, still holding the same rule, is removed. One
// record for one id, as if the section had come in time.
func (ix *Index) takeOverPlaced(ctx context.Context) error {
	for id, p := range ix.placed {
		if time.Since(p.at) > placedFor {
			delete(ix.placed, id)
			continue
		}
		var key string
		var other int64
		err := ix.db.QueryRowContext(ctx, `SELECT id, elf_key FROM heuristics WHERE elf_key GLOB ? AND id != ? LIMIT 1`,
			"*#H-"+strconv.FormatInt(id, 10), id).Scan(&other, &key)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return err
		}
		delete(ix.placed, id)
		soloKey := rootRel(p.rel)
		var have, rule string
		if err := ix.db.QueryRowContext(ctx, `SELECT coalesce(elf_key, ''), coalesce(rule, '') FROM heuristics WHERE id = ?`, id).Scan(&have, &rule); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			return err
		}
		var secRule string
		if err := ix.db.QueryRowContext(ctx, `SELECT coalesce(rule, '') FROM heuristics WHERE id = ?`, other).Scan(&secRule); err != nil {
			return err
		}
		if have != soloKey || strings.TrimSpace(secRule) != strings.TrimSpace(p.rule) {
			continue // edited or moved since: two records, as the files say
		}
		_, abs, err := edit.Resolve(ix.memDir, p.rel)
		if err != nil {
			return err
		}
		if err := os.Remove(abs); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", p.rel, err)
		}
		domain := keyFile(key)
		if err := writeTx(ctx, ix.db, func(tx *sql.Tx) error {
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{`DELETE FROM search_docs WHERE elf_key = ?`, []any{soloKey}},
				{`DELETE FROM heuristics WHERE id = ?`, []any{other}},
				{`UPDATE heuristics SET elf_key = ?, filepath = ? WHERE id = ?`, []any{key, rootRel(domain), id}},
				{`UPDATE search_docs SET row_id = ? WHERE elf_key = ?`, []any{id, key}},
				{`UPDATE files SET hash = '' WHERE filepath = ?`, []any{rootRel(domain)}},
			} {
				if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("hand row %d to its section: %w", id, err)
		}
		ix.log.Info().Int64("id", id).Str("section", key).Str("removed", p.rel).
			Msg("a heuristic's section came after it got a file of its own: the section took the row over, the file was removed")
		if _, err := ix.syncPaths(ctx, []string{p.rel, domain}); err != nil {
			return err
		}
		// What the row counted meanwhile goes into the section.
		r, err := ix.loadRow(ctx, "heuristics", id)
		if err != nil {
			return err
		}
		r.changed = "times_validated,times_violated,is_golden,"
		ed := edit.New(ix.memDir, ix.opts.MaxSize)
		host, err := edit.HostID(ix.memDir)
		if err != nil {
			return err
		}
		if err := ix.writeRow(ed, host, r); err != nil {
			return err
		}
		if _, err := ix.syncPaths(ctx, []string{domain}); err != nil {
			return err
		}
	}
	return nil
}

// typeFolder is the folder of a record type.
var typeFolder = map[string]string{
	frontmatter.TypeFailure: "failures", frontmatter.TypeSuccess: "successes", frontmatter.TypeHeuristic: "heuristics",
	frontmatter.TypeObservation: "observations", frontmatter.TypeExperiment: "experiments", frontmatter.TypeDecision: "decisions",
}

// writeNew writes a new file atomically (temp file, then a link that fails
// if the name was taken meanwhile).
func writeNew(memDir, rel string, data []byte) error {
	_, abs, err := edit.Resolve(memDir, rel)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(abs), ".elfsync-new-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp, abs); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s exists already", rel)
		}
		// No hard links (some file systems): rename, after checking.
		if _, serr := os.Lstat(abs); serr == nil {
			return fmt.Errorf("%s exists already", rel)
		}
		return os.Rename(tmp, abs)
	}
	return nil
}
