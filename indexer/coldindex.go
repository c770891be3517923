package indexer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// A cold scan fills empty record tables with tens of thousands of rows.
// The framework's secondary indexes on them (domain, type, created_at,
// confidence, ...) are then built once, after the rows, instead of entry
// by entry: on 20k real-prose notes the entry-by-entry upkeep was ~0.4 s
// of 3.6 s CPU, the build afterwards takes a few tens of milliseconds.
//
// The indexes dropped for the load are named, with their CREATE
// statements as sqlite_master had them, in meta.deferred_indexes, in the
// transaction that drops them; the transaction that builds them again
// deletes the entry. A crash between the two leaves the entry, and the
// next Open builds them (restoreIndexes). Unique indexes and elfsync's
// own (elf_*) are never dropped: upserts and lookups need them. Triggers
// are never touched.

// deferredIndexesKey is the meta key of the indexes a cold load dropped.
const deferredIndexesKey = "deferred_indexes"

// deferrableIndexes are the names of the framework's indexes on the
// record tables, from frameworkIndexes.
var deferrableIndexes = func() []string {
	re := regexp.MustCompile(`^CREATE INDEX IF NOT EXISTS (\w+) ON (learnings|heuristics|decisions)\(`)
	var names []string
	for _, line := range strings.Split(frameworkIndexes, "\n") {
		if m := re.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			names = append(names, m[1])
		}
	}
	return names
}()

// plainIndexRE is the only shape of index statement a cold load drops
// and builds again: a named index on a record table over plain columns,
// each optionally ASC or DESC. No expression, no WHERE clause, no second
// statement: meta is a table any process can write, so what restore
// runs from it must be no more than this.
var plainIndexRE = regexp.MustCompile(`^CREATE INDEX (?:IF NOT EXISTS )?(\w+) ON (learnings|heuristics|decisions) ?\((\s*"?\w+"?(?: (?:ASC|DESC))?\s*(?:,\s*"?\w+"?(?: (?:ASC|DESC))?\s*)*)\)$`)

// plainIndex returns the name an index statement creates when it has
// plainIndexRE's shape and that name is one of deferrableIndexes.
func plainIndex(stmt string) (string, bool) {
	m := plainIndexRE.FindStringSubmatch(strings.TrimSpace(stmt))
	if m == nil || !slices.Contains(deferrableIndexes, m[1]) {
		return "", false
	}
	return m[1], true
}

// deferIndexes drops the framework's secondary indexes of the record
// tables when all three are empty, and records them for restoreIndexes.
// It reports whether it dropped any.
func deferIndexes(ctx context.Context, db *sql.DB) (bool, error) {
	// Left by a crash: the drop below would record nothing.
	if err := restoreIndexes(ctx, db); err != nil {
		return false, err
	}
	dropped := false
	err := withTx(ctx, db, func(tx *sql.Tx) error {
		var empty bool
		if err := tx.QueryRowContext(ctx, `SELECT NOT EXISTS (SELECT 1 FROM learnings)
			AND NOT EXISTS (SELECT 1 FROM heuristics) AND NOT EXISTS (SELECT 1 FROM decisions)`).Scan(&empty); err != nil {
			return err
		}
		if !empty {
			return nil
		}
		names, err := json.Marshal(deferrableIndexes)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT m.name, m.sql FROM sqlite_master m
			WHERE m.type = 'index' AND m.tbl_name IN ('learnings', 'heuristics', 'decisions') AND m.sql IS NOT NULL
				AND m.name IN (SELECT value FROM json_each(?))
				AND NOT EXISTS (SELECT 1 FROM pragma_index_list(m.tbl_name) il WHERE il.name = m.name AND il."unique")
			ORDER BY m.rowid`, string(names))
		if err != nil {
			return err
		}
		var drop []string
		var stmts []string
		for rows.Next() {
			var name, stmt string
			if err := rows.Scan(&name, &stmt); err != nil {
				rows.Close()
				return err
			}
			if n, ok := plainIndex(stmt); !ok || n != name {
				// A partial or expression index stays where it is.
				continue
			}
			drop = append(drop, name)
			stmts = append(stmts, stmt)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if len(drop) == 0 {
			return nil
		}
		sj, err := json.Marshal(stmts)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
			ON CONFLICT(key) DO UPDATE SET value = excluded.value`, deferredIndexesKey, string(sj)); err != nil {
			return err
		}
		for _, name := range drop {
			// name is one of deferrableIndexes (a plain identifier),
			// never input.
			if _, err := tx.ExecContext(ctx, `DROP INDEX `+name); err != nil {
				return err
			}
		}
		dropped = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("defer indexes: %w", err)
	}
	return dropped, nil
}

// restoreIndexes builds the indexes deferIndexes dropped, if any are
// still missing, in one transaction.
func restoreIndexes(ctx context.Context, db *sql.DB) error {
	var v string
	err := db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, deferredIndexesKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("restore indexes: %w", err)
	}
	var stmts []string
	if err := json.Unmarshal([]byte(v), &stmts); err != nil {
		return fmt.Errorf("restore indexes: meta.%s: %w", deferredIndexesKey, err)
	}
	refused := false
	err = withTx(ctx, db, func(tx *sql.Tx) error {
		for _, stmt := range stmts {
			// The statements sqlite_master held for these indexes (see
			// deferIndexes), of plainIndexRE's shape only; an index that
			// exists again is left alone.
			if _, ok := plainIndex(stmt); !ok {
				// Not what deferIndexes wrote: none of it runs, and the
				// framework's own definitions of the deferrable indexes
				// are built instead.
				refused = true
				continue
			}
			stmt = strings.TrimSpace(stmt)
			if !strings.HasPrefix(stmt, "CREATE INDEX IF NOT EXISTS ") {
				stmt = "CREATE INDEX IF NOT EXISTS " + strings.TrimPrefix(stmt, "CREATE INDEX ")
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		if refused {
			for _, line := range strings.Split(strings.TrimSpace(frameworkIndexes), "\n") {
				stmt := strings.TrimSuffix(strings.TrimSpace(line), ";")
				if _, ok := plainIndex(stmt); ok {
					if _, err := tx.ExecContext(ctx, stmt); err != nil {
						return err
					}
				}
			}
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM meta WHERE key = ?`, deferredIndexesKey)
		return err
	})
	if err != nil {
		return fmt.Errorf("restore indexes: %w", err)
	}
	return nil
}
