package indexer

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/emergent-learning/elfsync/edit"
	"github.com/emergent-learning/elfsync/frontmatter"
)

// Nothing lives only in the database. When a record claims a row that a
// framework tool (or an adopted or salvaged database) wrote, the row may
// hold values its file does not state: a heuristic's confidence, its
// golden flag, its counters. export writes them into the file, through
// package edit (atomic, under the memory folder's write lock): as
// frontmatter keys (counters as per-host tallies, the adopted count under
// the "base" pseudo-host) or, in a framework domain file, as bold lines of
// the record's section. The edited files are then indexed again, so the
// rows and the files agree and the next scan has nothing to do.

// export writes the database-only values of claimed records into their
// files and returns the memory-relative paths it changed.
func (ix *Index) export(ctx context.Context, claims []claim) []string {
	ed := edit.New(ix.memDir, ix.opts.MaxSize)
	var changed []string
	seen := map[string]bool{}
	done := func(rel string) {
		if !seen[rel] {
			seen[rel] = true
			changed = append(changed, rel)
		}
	}
	claims = mergeClaims(claims)
	// A domain file's sections are written together: renumbering one
	// shifts the keys of the others without a usable number.
	var files []string
	sections := map[string][]claim{}
	for _, c := range claims {
		if !c.section {
			if err := ix.writeValues(ed, c); err != nil {
				ix.log.Warn().Err(err).Str("path", c.rel).Msg("export: cannot write the database's values into the file")
				continue
			}
			ix.log.Info().Str("path", c.rel).Int64("id", c.id).Msg("wrote the database's id, counters, confidence and golden flag into the file")
			done(c.rel)
			continue
		}
		if sections[c.rel] == nil {
			files = append(files, c.rel)
		}
		sections[c.rel] = append(sections[c.rel], c)
	}
	for _, rel := range files {
		if err := ix.writeSections(ctx, ed, rel, sections[rel]); err != nil {
			ix.log.Warn().Err(err).Str("path", rel).Msg("export: cannot write the database's values into the domain file")
			continue
		}
		ix.log.Info().Str("path", rel).Int("sections", len(sections[rel])).Msg("wrote the database's ids, counters, confidence and golden flags into the domain file")
		done(rel)
	}
	return changed
}

// mergeClaims returns claims with one claim per record key, holding the
// values of all the claims of that key (a claimed row's counters and, from
// adoptedIDs, its id), in the order of the keys' first claims.
func mergeClaims(claims []claim) []claim {
	at := make(map[string]int, len(claims))
	out := make([]claim, 0, len(claims))
	for _, c := range claims {
		i, ok := at[c.key]
		if !ok {
			at[c.key] = len(out)
			out = append(out, c)
			continue
		}
		m, v := &out[i].values, c.values
		for _, f := range []struct{ dst, src **int64 }{{&m.validated, &v.validated}, {&m.violated, &v.violated}, {&m.id, &v.id}} {
			if *f.src != nil {
				*f.dst = *f.src
			}
		}
		if v.conf != nil {
			m.conf = v.conf
		}
		if v.golden != nil {
			m.golden = v.golden
		}
		out[i].section = out[i].section || c.section
	}
	return out
}

// sectionKey returns the number and the occurrence (from 1) of a domain
// file's section key, "<file>#H-<n>" or "<file>#H-<n>~<nth>" (a number
// the file repeats, or 0 for sections without a usable one).
func sectionKey(key string) (n int64, nth int, ok bool) {
	i := strings.LastIndex(key, "#H-")
	if i < 0 {
		return 0, 0, false
	}
	num, occ, rep := strings.Cut(key[i+3:], "~")
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	nth = 1
	if rep {
		if nth, err = strconv.Atoi(occ); err != nil || nth < 1 {
			return 0, 0, false
		}
	}
	return n, nth, true
}

// unnumbered maps the ids of a domain file's rows whose keys do not say
// them ("<file>#H-0", "<file>#H-0~2", "<file>#H-5~2" for row 41) to
// those keys. Once writeSections has put such a row's id into its
// section's heading, the file's next read finds the section keyed
// "<file>#H-<id>": takes tells it that the row is its own.
type unnumbered map[int64]string

// loadUnnumbered reads the unnumbered rows of the domain file fp (root-
// relative); usually none.
func loadUnnumbered(ctx context.Context, tx *sql.Tx, fp string) (unnumbered, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, elf_key FROM heuristics WHERE elf_key > ?1 || '#' AND elf_key < ?1 || '$'
		AND elf_key NOT GLOB '*#H-' || id`, fp)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var u unnumbered
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			return nil, err
		}
		if u == nil {
			u = unnumbered{}
		}
		u[id] = key
	}
	return u, rows.Err()
}

// takes reports whether the section keyed key, whose heading says id,
// is row id: the row is one of the file's unnumbered ones, under another
// key, and no unnumbered row holds key (a row whose key says its own id
// and is key would be row id itself).
func (u unnumbered) takes(key string, id int64) bool {
	old, ok := u[id]
	if !ok || old == key {
		return false
	}
	if n, nth, ok := sectionKey(key); !ok || n != id || nth != 1 {
		return false
	}
	for _, k := range u {
		if k == key {
			return false
		}
	}
	return true
}

// dbValues are the values a claimed row holds that its file does not
// state, or states differently; nil fields agree with the file.
type dbValues struct {
	conf                *float64
	golden              *bool
	validated, violated *int64
	// id is the row's id, for a file that does not state it: a row a
	// framework tool inserted for the file, or an adopted one. Written as
	// the file's id (frontmatter "id:", a bold "**ID**:" line), it is
	// the id a rebuild from the files gives the row.
	id *int64
}

func (v dbValues) empty() bool {
	return v.conf == nil && v.golden == nil && v.validated == nil && v.violated == nil && v.id == nil
}

// rowValues reads a claimed heuristic row's confidence, golden flag and
// counters, returns those that differ from what rec (the file) says, and
// sets them in rec.
func rowValues(ctx context.Context, tx *sql.Tx, id int64, rec *frontmatter.Record) (dbValues, error) {
	var conf sql.NullFloat64
	var golden sql.NullBool
	var tv, tvio sql.NullInt64
	var v dbValues
	err := tx.QueryRowContext(ctx, `SELECT confidence, is_golden, times_validated, times_violated FROM heuristics WHERE id = ?`,
		id).Scan(&conf, &golden, &tv, &tvio)
	if err != nil {
		return v, fmt.Errorf("read claimed row %d: %w", id, err)
	}
	if conf.Valid && conf.Float64 >= 0 && conf.Float64 <= 1 && (rec.Confidence == nil || *rec.Confidence != conf.Float64) {
		c := conf.Float64
		v.conf, rec.Confidence = &c, &c
	}
	if golden.Valid && golden.Bool && (rec.IsGolden == nil || !*rec.IsGolden) {
		g := true
		v.golden, rec.IsGolden = &g, &g
	}
	if tv.Valid && tv.Int64 > rec.TimesValidated {
		n := tv.Int64
		v.validated = &n
		rec.TimesValidated, rec.ValidatedBy = n, frontmatter.Normalize(rec.ValidatedBy, n)
	}
	if tvio.Valid && tvio.Int64 > rec.TimesViolated {
		n := tvio.Int64
		v.violated = &n
		rec.TimesViolated, rec.ViolatedBy = n, frontmatter.Normalize(rec.ViolatedBy, n)
	}
	return v, nil
}

func (ix *Index) writeValues(ed *edit.Editor, c claim) error {
	v := c.values
	var changes []frontmatter.Change
	if v.id != nil {
		changes = append(changes, frontmatter.Change{Key: "id", Value: *v.id})
	}
	if v.conf != nil {
		changes = append(changes, frontmatter.Change{Key: "confidence", Value: *v.conf})
	}
	if v.golden != nil {
		changes = append(changes, frontmatter.Change{Key: "is_golden", Value: true})
	}
	// Counters as tallies: the adopted difference goes to the "base"
	// pseudo-host, so merges across machines keep it.
	if v.validated != nil {
		changes = append(changes, frontmatter.Change{Key: frontmatter.KeyTimesValidated, Value: *v.validated},
			frontmatter.Change{Key: frontmatter.KeyValidatedBy, Value: frontmatter.Normalize(c.file.ValidatedBy, *v.validated)})
	}
	if v.violated != nil {
		changes = append(changes, frontmatter.Change{Key: frontmatter.KeyTimesViolated, Value: *v.violated},
			frontmatter.Change{Key: frontmatter.KeyViolatedBy, Value: frontmatter.Normalize(c.file.ViolatedBy, *v.violated)})
	}
	_, err := ed.Update(c.rel, func(data []byte) ([]byte, error) {
		// In the file's style (bold lines in a bold-field file).
		out, _, err := frontmatter.EditRecord(frontmatter.Input{Path: c.rel, Data: data, MaxSize: ix.opts.MaxSize}, changes)
		return out, err
	})
	return err
}

// writeSections writes claimed rows' values into the sections of the
// domain file rel: confidence, counters and golden flag as bold lines,
// and a row's id, when its section's heading does not say it ("## H-0"
// from the framework's older scripts, a number too large, one the file
// repeats), into the heading: "## H-<id>: <rule>", the only line changed,
// so that the indexer keys the section by its id (see claimRenumbered)
// and a rebuild gives the row that id again. Renumbering one such section
// would shift the keys of the others ("<file>#H-0~2" becomes
// "<file>#H-0"): every section of the file whose key does not say its
// row's id is renumbered with it, or none is.
func (ix *Index) writeSections(ctx context.Context, ed *edit.Editor, rel string, claims []claim) error {
	type sec struct {
		n     int64
		nth   int
		newID int64
	}
	var renumber []sec
	type write struct {
		n      int64
		nth    int
		fields []frontmatter.SectionField
	}
	var writes []write
	for _, c := range claims {
		n, nth, ok := sectionKey(c.key)
		if !ok {
			return fmt.Errorf("no section number in %q", c.key)
		}
		v := c.values
		var fields []frontmatter.SectionField
		if v.conf != nil {
			s, err := frontmatter.FormatConfidence(*v.conf)
			if err != nil {
				return err
			}
			fields = append(fields, frontmatter.SectionField{Label: "Confidence", Value: s})
		}
		if v.validated != nil {
			fields = append(fields, frontmatter.SectionField{Label: "Validated", Value: strconv.FormatInt(*v.validated, 10)})
		}
		if v.violated != nil {
			fields = append(fields, frontmatter.SectionField{Label: "Violated", Value: strconv.FormatInt(*v.violated, 10)})
		}
		if v.golden != nil {
			fields = append(fields, frontmatter.SectionField{Label: "Golden", Value: "true"})
		}
		if len(fields) > 0 {
			writes = append(writes, write{n, nth, fields})
		}
		if v.id != nil && (*v.id != n || nth > 1) {
			renumber = append(renumber, sec{n, nth, *v.id})
		}
	}
	if len(renumber) > 0 {
		// Every other section of the file whose key does not say its id.
		have := map[[2]int64]bool{}
		for _, r := range renumber {
			have[[2]int64{r.n, int64(r.nth)}] = true
		}
		fp := rootRel(rel)
		rows, err := ix.db.QueryContext(ctx, `SELECT id, elf_key FROM heuristics WHERE elf_key > ?1 || '#' AND elf_key < ?1 || '$'
			AND elf_key NOT GLOB '*#H-' || id`, fp)
		if err != nil {
			return fmt.Errorf("read the sections of %s: %w", rel, err)
		}
		for rows.Next() {
			var id int64
			var key string
			if err := rows.Scan(&id, &key); err != nil {
				rows.Close()
				return err
			}
			if n, nth, ok := sectionKey(key); ok && !have[[2]int64{n, int64(nth)}] {
				renumber = append(renumber, sec{n, nth, id})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// The last of a repeated number first, so the others' places
		// among its sections stay as their keys say.
		sort.Slice(renumber, func(i, j int) bool {
			if renumber[i].n != renumber[j].n {
				return renumber[i].n < renumber[j].n
			}
			return renumber[i].nth > renumber[j].nth
		})
	}
	var renumberErr error
	_, err := ed.Update(rel, func(data []byte) ([]byte, error) {
		// The values first, by the keys' numbering, then the headings.
		out := data
		for _, w := range writes {
			var err error
			if out, err = frontmatter.SetSectionFieldsNth(out, w.n, w.nth, w.fields); err != nil {
				return nil, err
			}
		}
		renumberErr = nil
		numbered := out
		for _, r := range renumber {
			var err error
			if numbered, err = frontmatter.SetSectionNumber(numbered, r.n, r.nth, r.newID); err != nil {
				renumberErr = err
				return out, nil
			}
		}
		return numbered, nil
	})
	if err == nil && renumberErr != nil {
		ix.log.Warn().Err(renumberErr).Str("path", rel).Msg("export: cannot write the rows' ids into the domain file's headings; a rebuild may give its sections other ids")
	}
	return err
}

// adoptedIDs returns, once after a framework database was adopted (at
// the end of the first reconcile, which is a full one: Scan, or watch's
// first scan), a
// claim for every record row whose file does not state the row's id
// (rows the adoption created for files the old database had no row for;
// adopted rows are claims already): after an adoption every record file
// holds its id, so a rebuild from the files keeps them all, as the
// framework's tables refer to them.
func (ix *Index) adoptedIDs(ctx context.Context) ([]claim, error) {
	if !ix.adopted {
		return nil, nil
	}
	ix.adopted = false
	var out []claim
	for _, t := range []string{"learnings", "heuristics"} {
		// File keys end in .md; a domain file's sections ("#H-<id>")
		// hold their ids in their headings: those whose heading says
		// another number (0, none usable, a repeated one) are renumbered.
		rows, err := ix.db.QueryContext(ctx, `SELECT id, elf_key FROM `+safeTable(t)+` WHERE elf_key GLOB '*.md'
			AND coalesce(CAST(coalesce(json_extract(extra, '$.id'), json_extract(extra, '$.legacy_id')) AS INTEGER), 0) != id
			UNION ALL SELECT id, elf_key FROM `+safeTable(t)+` WHERE elf_key GLOB '*.md#H-*' AND elf_key NOT GLOB '*#H-' || id`)
		if err != nil {
			return nil, fmt.Errorf("find rows whose files lack their ids: %w", err)
		}
		for rows.Next() {
			var id int64
			var key string
			if err := rows.Scan(&id, &key); err != nil {
				rows.Close()
				return nil, err
			}
			_, _, section := sectionKey(key)
			out = append(out, claim{rel: keyFile(key), key: key, section: section, id: id, values: dbValues{id: &id}})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
