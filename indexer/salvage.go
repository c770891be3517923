package indexer

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// elfsyncOwned are the tables salvage never copies: elfsync rebuilds them
// from the files.
var elfsyncOwned = map[string]bool{
	"files": true, "search": true, "search_docs": true, "meta": true, "sqlite_sequence": true,
	"search_data": true, "search_idx": true, "search_content": true, "search_docsize": true, "search_config": true,
}

// salvage copies every table it can still read from a set-aside database
// into the fresh index db, ids included, so a corrupt index costs the
// framework's tables nothing. Rows of learnings and heuristics come across
// without their elfsync key: the next scan claims them for their files (by
// filepath, or by id for a domain file's sections), so they keep their ids
// and database-only values. What cannot be read is logged and left in the
// set-aside file, which is kept.
func (ix *Index) salvage(ctx context.Context, db *sql.DB, aside string) {
	src, err := sql.Open("sqlite", readerDSN(aside))
	if err != nil {
		ix.log.Warn().Err(err).Str("from", aside).Msg("salvage: cannot open the set-aside index")
		return
	}
	defer src.Close()
	src.SetMaxOpenConns(1)
	tables, err := tableSet(ctx, src)
	if err != nil {
		ix.log.Warn().Err(err).Str("from", aside).Msg("salvage: cannot read its schema")
		return
	}
	if !hasFrameworkTables(tables) {
		return
	}
	names := make([]string, 0, len(tables))
	for t := range tables {
		if !elfsyncOwned[t] && !strings.HasPrefix(t, "sqlite_") {
			names = append(names, t)
		}
	}
	sort.Strings(names)
	for _, t := range names {
		n, err := ix.copyTable(ctx, src, db, t)
		ev := ix.log.Info()
		if err != nil {
			ev = ix.log.Warn().Err(err)
		}
		ev.Str("table", t).Int("rows", n).Str("from", aside).Msg("salvaged")
	}
}

// copyTable copies the rows of one table, the columns both sides have,
// creating the table from the old definition when the new index lacks it.
func (ix *Index) copyTable(ctx context.Context, src, dst *sql.DB, table string) (int, error) {
	have, err := columns(ctx, dst, table)
	if err != nil {
		return 0, err
	}
	if have == nil {
		var ddl string
		if err := src.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'table' AND lower(name) = ?`, table).Scan(&ddl); err != nil {
			return 0, err
		}
		if _, err := dst.ExecContext(ctx, ddl); err != nil {
			return 0, fmt.Errorf("create: %w", err)
		}
		if have, err = columns(ctx, dst, table); err != nil {
			return 0, err
		}
	}
	old, err := columns(ctx, src, table)
	if err != nil {
		return 0, err
	}
	var cols []string
	for c := range old {
		if have[c] && c != "elf_key" {
			cols = append(cols, c)
		}
	}
	sort.Strings(cols)
	if len(cols) == 0 {
		return 0, nil
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
	}
	qt := `"` + strings.ReplaceAll(table, `"`, `""`) + `"`
	rows, err := src.QueryContext(ctx, `SELECT `+strings.Join(quoted, ",")+` FROM `+qt)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	err = withTx(ctx, dst, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO `+qt+` (`+strings.Join(quoted, ",")+`) VALUES (`+
			strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",")+`)`)
		if err != nil {
			return err
		}
		defer st.Close()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			if _, err := st.ExecContext(ctx, vals...); err != nil {
				return err
			}
			n++
		}
		// A read error part-way keeps what was read.
		if err := rows.Err(); err != nil {
			ix.log.Warn().Err(err).Str("table", table).Int("rows", n).Msg("salvage: stopped reading")
		}
		return nil
	})
	return n, err
}
