package indexer

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// copyDir copies a fixture tree.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, in); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		return os.Chtimes(out, info.ModTime(), info.ModTime())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// frameworkRows adds the framework's other tables, with rows that refer
// to heuristic and learning ids, to a legacy index.db, as a live install
// has them.
const frameworkRows = `
CREATE TABLE metrics (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp DATETIME DEFAULT CURRENT_TIMESTAMP,
	metric_type TEXT NOT NULL, metric_name TEXT NOT NULL, metric_value REAL NOT NULL, tags TEXT, context TEXT);
INSERT INTO metrics (metric_type, metric_name, metric_value, tags) VALUES
	('heuristic_validated', 'validation', 1, 'heuristic_id:1'), ('task_outcome', 'success', 1, NULL);
CREATE TABLE violations (id INTEGER PRIMARY KEY AUTOINCREMENT, rule_id INTEGER NOT NULL, rule_name TEXT NOT NULL,
	violation_date DATETIME DEFAULT CURRENT_TIMESTAMP, description TEXT, session_id TEXT, acknowledged INTEGER DEFAULT 0);
INSERT INTO violations (rule_id, rule_name, description) VALUES (1, 'Never delete a lock file you did not create', 'x');
CREATE TABLE cycles (id INTEGER PRIMARY KEY AUTOINCREMENT, experiment_id INTEGER, cycle_number INTEGER,
	try_summary TEXT, break_summary TEXT, analysis TEXT, learning_extracted TEXT, heuristic_id INTEGER,
	created_at DATETIME DEFAULT CURRENT_TIMESTAMP, FOREIGN KEY (heuristic_id) REFERENCES heuristics(id));
INSERT INTO cycles (cycle_number, heuristic_id) VALUES (1, 2);
CREATE TABLE building_queries (id INTEGER PRIMARY KEY AUTOINCREMENT, query_type TEXT NOT NULL, created_at DATETIME DEFAULT CURRENT_TIMESTAMP);
INSERT INTO building_queries (query_type) VALUES ('build_context'), ('get_golden_rules');
CREATE TABLE dashboard_prefs (k TEXT PRIMARY KEY, v TEXT);
INSERT INTO dashboard_prefs VALUES ('theme', 'dark');
`

// dumpTables returns every row of every table except elfsync's, as text.
func dumpTables(t *testing.T, db *sql.DB, tables []string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, tb := range tables {
		rows, err := db.Query(`SELECT * FROM "` + tb + `"`)
		if err != nil {
			t.Fatalf("read %s: %v", tb, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := scanAll(t, rows, len(cols))
			var b strings.Builder
			for i, v := range vals {
				b.WriteString(cols[i] + "=")
				switch v := v.(type) {
				case []byte:
					b.WriteString(string(v))
				case nil:
					b.WriteString("NULL")
				default:
					fmt.Fprint(&b, v)
				}
				b.WriteString(";")
			}
			out[tb] = append(out[tb], b.String())
		}
		rows.Close()
		sort.Strings(out[tb])
	}
	return out
}

// frameworkTablesOf lists the tables of db that elfsync does not own.
func frameworkTablesOf(t *testing.T, db *sql.DB) []string {
	t.Helper()
	set, err := tableSet(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for tb := range set {
		if !elfsyncOwned[tb] && !strings.HasPrefix(tb, "sqlite_") && tb != "learnings" && tb != "heuristics" && tb != "decisions" {
			out = append(out, tb)
		}
	}
	sort.Strings(out)
	return out
}

func TestAdoptFrameworkHome(t *testing.T) {
	for _, src := range []string{"../testdata/elf-legacy", "/work/shared/samples/elf-legacy"} {
		t.Run(filepath.Base(filepath.Dir(src))+"/"+filepath.Base(src), func(t *testing.T) {
			if _, err := os.Stat(src); err != nil {
				t.Skip("no fixture at", src)
			}
			root := t.TempDir()
			copyDir(t, src, root)
			dbPath := filepath.Join(root, MemoryDir, DBName)
			{
				db, err := sql.Open("sqlite", "file:"+dbPath)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := db.Exec(frameworkRows); err != nil {
					t.Fatal(err)
				}
				db.Close()
			}
			before := func() (map[string][]string, []string, map[int64]string) {
				db, err := sql.Open("sqlite", readerDSN(dbPath))
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				tables := frameworkTablesOf(t, db)
				h := map[int64]string{}
				rows, err := db.Query(`SELECT id, rule, confidence, times_validated, times_violated, is_golden FROM heuristics`)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var id int64
					var rule string
					var conf float64
					var v, x, g int
					if err := rows.Scan(&id, &rule, &conf, &v, &x, &g); err != nil {
						t.Fatal(err)
					}
					h[id] = fmt.Sprintf("%s|%.2f|%d|%d|%d", rule, conf, v, x, g)
				}
				rows.Close()
				return dumpTables(t, db, tables), tables, h
			}
			wantTables, tables, wantHeur := before()
			wantLearn := map[int64]string{}
			{
				db, _ := sql.Open("sqlite", readerDSN(dbPath))
				rows, err := db.Query(`SELECT id, filepath FROM learnings`)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var id int64
					var fp string
					rows.Scan(&id, &fp)
					wantLearn[id] = fp
				}
				rows.Close()
				db.Close()
			}

			ix := openIndex(t, root)
			res := scan(t, ix)
			if len(res.Errors) > 0 {
				t.Errorf("invalid files: %+v", res.Errors)
			}
			if b, _ := filepath.Glob(dbPath + ".bak-*"); len(b) != 1 {
				t.Errorf("backups: %v, want one", b)
			}
			if b, _ := filepath.Glob(dbPath + ".broken-*"); len(b) != 0 {
				t.Errorf("the framework's database was set aside: %v", b)
			}
			check := func(when string) {
				r := reader(t, root)
				defer r.Close()
				got := dumpTables(t, r, tables)
				for _, tb := range tables {
					if strings.Join(got[tb], "\n") != strings.Join(wantTables[tb], "\n") {
						t.Errorf("%s: table %s changed:\n got %q\nwant %q", when, tb, got[tb], wantTables[tb])
					}
				}
				for id, want := range wantHeur {
					var rule, key string
					var conf float64
					var v, x, g int
					err := r.QueryRow(`SELECT rule, confidence, times_validated, times_violated, is_golden, coalesce(elf_key, '') FROM heuristics WHERE id = ?`, id).
						Scan(&rule, &conf, &v, &x, &g, &key)
					if err != nil {
						t.Errorf("%s: heuristic %d: %v", when, id, err)
						continue
					}
					if got := fmt.Sprintf("%s|%.2f|%d|%d|%d", rule, conf, v, x, g); got != want {
						t.Errorf("%s: heuristic %d = %s, want %s", when, id, got, want)
					}
					if key == "" {
						t.Errorf("%s: heuristic %d is not claimed by its section", when, id)
					}
				}
				for id, fp := range wantLearn {
					var got, key string
					if err := r.QueryRow(`SELECT filepath, coalesce(elf_key, '') FROM learnings WHERE id = ?`, id).Scan(&got, &key); err != nil {
						t.Errorf("%s: learning %d: %v", when, id, err)
						continue
					}
					if got != fp {
						t.Errorf("%s: learning %d filepath %s, want %s", when, id, got, fp)
					}
					inside := strings.HasPrefix(fp, "memory/")
					if inside != (key != "") {
						t.Errorf("%s: learning %d (%s) key %q", when, id, fp, key)
					}
				}
				if n := count(t, r, `SELECT count(*) FROM heuristics`); n != len(wantHeur) {
					t.Errorf("%s: %d heuristics, want %d", when, n, len(wantHeur))
				}
				if n := count(t, r, `SELECT count(*) - count(DISTINCT filepath) FROM learnings`); n != 0 {
					t.Errorf("%s: %d learnings share a filepath", when, n)
				}
			}
			check("after adoption")
			if res := scan(t, ix); res.Added+res.Updated+res.Removed != 0 {
				t.Errorf("second scan = %+v, want a no-op", res)
			}
			// Every record's id, by its key (rows outside memory/ have no
			// file and no key: a rebuild from the files cannot have them).
			ids := func(r *sql.DB) map[string]int64 {
				out := map[string]int64{}
				rows, err := r.Query(`SELECT elf_key, id FROM learnings WHERE elf_key IS NOT NULL UNION ALL SELECT elf_key, id FROM heuristics WHERE elf_key IS NOT NULL`)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				for rows.Next() {
					var k string
					var id int64
					rows.Scan(&k, &id)
					out[k] = id
				}
				return out
			}
			r0 := reader(t, root)
			wantIDs := ids(r0)
			r0.Close()
			ix.Close()

			// Rebuilt from the files alone: the counters, confidence and
			// golden flags are in the files now.
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(dbPath + suffix)
			}
			ix = openIndex(t, root)
			scan(t, ix)
			r := reader(t, root)
			defer r.Close()
			gotIDs := ids(r)
			for k, id := range wantIDs {
				if gotIDs[k] != id {
					t.Errorf("rebuilt: %s has id %d, want %d", k, gotIDs[k], id)
				}
			}
			if len(gotIDs) != len(wantIDs) {
				t.Errorf("rebuilt: %d records, want %d", len(gotIDs), len(wantIDs))
			}
			for id, want := range wantHeur {
				var rule string
				var conf float64
				var v, x, g int
				if err := r.QueryRow(`SELECT rule, confidence, times_validated, times_violated, is_golden FROM heuristics WHERE id = ?`, id).
					Scan(&rule, &conf, &v, &x, &g); err != nil {
					t.Errorf("rebuilt: heuristic %d: %v", id, err)
					continue
				}
				if got := fmt.Sprintf("%s|%.2f|%d|%d|%d", rule, conf, v, x, g); got != want {
					t.Errorf("rebuilt: heuristic %d = %s, want %s", id, got, want)
				}
			}
		})
	}
}

// scanAll scans the current row's n columns, whatever their types.
func scanAll(t *testing.T, rows *sql.Rows, n int) []any {
	t.Helper()
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	return vals
}
