package indexer

import (
	"context"
	"database/sql"
	"fmt"
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
	for _, c := range claims {
		if err := ix.writeValues(ed, c); err != nil {
			ix.log.Warn().Err(err).Str("path", c.rel).Msg("export: cannot write the database's values into the file")
			continue
		}
		ix.log.Info().Str("path", c.rel).Int64("id", c.id).Msg("wrote the database's id, counters, confidence and golden flag into the file")
		if !seen[c.rel] {
			seen[c.rel] = true
			changed = append(changed, c.rel)
		}
	}
	return changed
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
	if c.section {
		i := strings.LastIndex(c.key, "#H-")
		id, err := strconv.ParseInt(strings.SplitN(c.key[i+3:], "~", 2)[0], 10, 64)
		if i < 0 || err != nil {
			return fmt.Errorf("no section number in %q", c.key)
		}
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
		_, err = ed.Update(c.rel, func(data []byte) ([]byte, error) {
			return frontmatter.SetSectionFields(data, id, fields)
		})
		return err
	}
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
		// hold their ids in their headings.
		rows, err := ix.db.QueryContext(ctx, `SELECT id, elf_key FROM `+safeTable(t)+` WHERE elf_key GLOB '*.md'
			AND coalesce(CAST(coalesce(json_extract(extra, '$.id'), json_extract(extra, '$.legacy_id')) AS INTEGER), 0) != id`)
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
			out = append(out, claim{rel: keyFile(key), key: key, id: id, values: dbValues{id: &id}})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
