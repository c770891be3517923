package legacy

import (
	"github.com/emergent-learning/elfsync/indexer"

	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The old framework's index.db, read for `elfsync import`. Its schema
// (sqlite3 .schema of a framework install) is
//
//	learnings(id, type, filepath, title, summary, tags, domain, severity,
//	          created_at, updated_at)
//	heuristics(id, domain, rule, explanation, source_type, source_id,
//	           confidence, times_validated, times_violated, is_golden,
//	           created_at, updated_at)
//
// with no filepath for heuristics: a heuristic lived as a "## H-<id>: rule"
// section of memory/heuristics/<domain>.md. Installs differ (columns were
// added over time, hooks wrote rows by hand), so ReadDB reads whatever
// of this it finds and never fails over a missing table or column.

// DB is what an old framework index.db holds.
type DB struct {
	Learnings  []Learning
	Heuristics []Heuristic
	// Warnings say what was missing or odd (a table, a column, a value
	// that could not be read); the rows are read all the same.
	Warnings []string
}

// Learning is one row of the old learnings table. Text columns that
// are NULL or missing are "".
type Learning struct {
	ID       int64
	Type     string
	Filepath string // as the framework stored it, usually "memory/failures/x.md"
	Title    string
	Summary  string
	Tags     string // comma-separated
	Domain   string
	Severity int       // 0 when missing or not a number
	Created  time.Time // zero when missing or unreadable
}

// Heuristic is one row of the old heuristics table.
type Heuristic struct {
	ID             int64
	Domain         string
	Rule           string
	Explanation    string
	SourceType     string
	Confidence     *float64 // nil when NULL, missing or not a number
	TimesValidated int
	TimesViolated  int
	IsGolden       bool
	Created        time.Time
}

// ErrMissing means the old index file does not exist.
var ErrMissing = errors.New("no old index")

// ReadDB reads the old framework's index.db at path. The file is opened
// read-only (see readOnlyDSN): importing must never change the old install,
// not even by leaving -wal or -shm files beside its index. Rows come sorted
// by id.
func ReadDB(ctx context.Context, path string) (DB, error) {
	var out DB
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return out, fmt.Errorf("%s: %w", path, ErrMissing)
		}
		return out, fmt.Errorf("old index: %w", err)
	}
	dsn, warning := readOnlyDSN(path)
	if warning != "" {
		out.Warnings = append(out.Warnings, warning)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return out, fmt.Errorf("open old index %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	learnCols, err := tableColumns(ctx, db, "learnings")
	if err != nil {
		return out, fmt.Errorf("read old index %s: %w", path, err)
	}
	heurCols, err := tableColumns(ctx, db, "heuristics")
	if err != nil {
		return out, fmt.Errorf("read old index %s: %w", path, err)
	}

	if learnCols == nil {
		out.Warnings = append(out.Warnings, "no learnings table")
	} else {
		err := readRows(ctx, db, "learnings", learnCols,
			[]string{"id", "type", "filepath", "title", "summary", "tags", "domain", "severity", "created_at"},
			&out.Warnings, func(v legacyRow) {
				out.Learnings = append(out.Learnings, Learning{
					ID: v.int("id"), Type: v.str("type"), Filepath: v.str("filepath"),
					Title: v.str("title"), Summary: v.str("summary"), Tags: v.str("tags"),
					Domain: v.str("domain"), Severity: int(v.int("severity")), Created: v.time("created_at"),
				})
			})
		if err != nil {
			return out, fmt.Errorf("read learnings of %s: %w", path, err)
		}
	}
	if heurCols == nil {
		out.Warnings = append(out.Warnings, "no heuristics table")
	} else {
		err := readRows(ctx, db, "heuristics", heurCols,
			[]string{"id", "domain", "rule", "explanation", "source_type", "confidence",
				"times_validated", "times_violated", "is_golden", "created_at"},
			&out.Warnings, func(v legacyRow) {
				out.Heuristics = append(out.Heuristics, Heuristic{
					ID: v.int("id"), Domain: v.str("domain"), Rule: v.str("rule"),
					Explanation: v.str("explanation"), SourceType: v.str("source_type"),
					Confidence: v.float("confidence"), TimesValidated: int(v.int("times_validated")),
					TimesViolated: int(v.int("times_violated")), IsGolden: v.bool("is_golden"),
					Created: v.time("created_at"),
				})
			})
		if err != nil {
			return out, fmt.Errorf("read heuristics of %s: %w", path, err)
		}
	}
	return out, nil
}

// readOnlyDSN returns a DSN that reads the database at path without
// creating any file, and a warning when that costs something.
//
// A database in journal_mode=delete (the old framework's) is opened with
// mode=ro, which takes SQLite's shared lock and creates nothing. A
// read-only connection to a WAL database, though, creates the -wal and
// -shm files when they are missing (the last connection to close removes
// them), so a WAL database without both is opened immutable: with no -wal
// file the database file holds every committed change. A -wal file without
// its -shm is the leftover of a crash; its changes cannot be read without
// writing, and are skipped with a warning.
func readOnlyDSN(path string) (dsn, warning string) {
	dsn = legacyDSN(path)
	if !isWALFile(path) {
		return dsn, ""
	}
	_, werr := os.Stat(path + "-wal")
	_, serr := os.Stat(path + "-shm")
	switch {
	case werr == nil && serr == nil:
		return dsn, ""
	case werr == nil:
		return dsn + "&immutable=1", fmt.Sprintf("%s-wal has no -shm beside it: its changes are not read (open the database once with sqlite3 to recover them)", path)
	}
	return dsn + "&immutable=1", ""
}

// isWALFile reports whether the database file's header says WAL mode
// (file format versions 2 at offsets 18 and 19).
func isWALFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var hdr [20]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return false
	}
	return hdr[18] == 2 && hdr[19] == 2
}

// legacyDSN opens path read-only. Characters that mean something in a URI
// ('?', '#', '%') are escaped, so any file name works.
func legacyDSN(path string) string {
	p := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(path))
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", indexer.BusyTimeout.Milliseconds()))
	return "file:" + p + "?" + q.Encode()
}

// tableColumns returns the lower-cased column names of table, or nil when
// there is no such table. table is one of our own constants.
func tableColumns(ctx context.Context, db *sql.DB, table string) (map[string]bool, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols map[string]bool
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		if cols == nil {
			cols = make(map[string]bool)
		}
		cols[strings.ToLower(name)] = true
	}
	return cols, rows.Err()
}

// legacyRow is one row by column name; absent columns read as NULL.
type legacyRow struct {
	vals map[string]any
	warn func(col, msg string)
}

// readRows selects the wanted columns that exist (the rest read as NULL)
// and calls fn for each row, in id order when there is an id.
func readRows(ctx context.Context, db *sql.DB, table string, have map[string]bool, want []string, warnings *[]string, fn func(legacyRow)) error {
	var cols []string
	for _, c := range want {
		if have[c] {
			cols = append(cols, c)
		} else {
			*warnings = append(*warnings, fmt.Sprintf("%s has no %s column", table, c))
		}
	}
	if len(cols) == 0 {
		return nil
	}
	// Column and table names come from the fixed lists above, never from
	// the file; quoting keeps a name like "type" a plain identifier.
	q := `SELECT "` + strings.Join(cols, `", "`) + `" FROM "` + table + `"`
	if have["id"] {
		q += ` ORDER BY "id"`
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		dst := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range dst {
			ptrs[i] = &dst[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		r := legacyRow{vals: make(map[string]any, len(cols))}
		for i, c := range cols {
			r.vals[c] = dst[i]
		}
		row := n
		r.warn = func(col, msg string) {
			*warnings = append(*warnings, fmt.Sprintf("%s row %d: %s: %s", table, row, col, msg))
		}
		fn(r)
	}
	return rows.Err()
}

func (r legacyRow) str(col string) string {
	switch v := r.vals[col].(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	case time.Time:
		return v.UTC().Format(sqlTime)
	default:
		return fmt.Sprint(v)
	}
}

func (r legacyRow) int(col string) int64 {
	switch v := r.vals[col].(type) {
	case nil:
		return 0
	case int64:
		return v
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return int64(v)
		}
	case bool:
		if v {
			return 1
		}
		return 0
	case string, []byte:
		s := strings.TrimSpace(r.str(col))
		if s == "" {
			return 0
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	}
	r.warn(col, fmt.Sprintf("%q is not a whole number; read as 0", r.str(col)))
	return 0
}

func (r legacyRow) float(col string) *float64 {
	var f float64
	switch v := r.vals[col].(type) {
	case nil:
		return nil
	case int64:
		f = float64(v)
	case float64:
		f = v
	case string, []byte:
		s := strings.TrimSpace(r.str(col))
		if s == "" {
			return nil
		}
		var err error
		if f, err = strconv.ParseFloat(s, 64); err != nil {
			r.warn(col, fmt.Sprintf("%q is not a number; ignored", s))
			return nil
		}
	default:
		r.warn(col, fmt.Sprintf("%v is not a number; ignored", v))
		return nil
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		r.warn(col, "not a finite number; ignored")
		return nil
	}
	return &f
}

func (r legacyRow) bool(col string) bool {
	switch v := r.vals[col].(type) {
	case nil:
		return false
	case bool:
		return v
	case int64:
		return v != 0
	case float64:
		return v != 0
	case string, []byte:
		switch strings.ToLower(strings.TrimSpace(r.str(col))) {
		case "1", "true", "yes", "t", "y":
			return true
		case "", "0", "false", "no", "f", "n":
			return false
		}
	}
	r.warn(col, fmt.Sprintf("%q is not a boolean; read as false", r.str(col)))
	return false
}

// legacyTimeLayouts are the forms SQLite's CURRENT_TIMESTAMP, date() and
// the framework's scripts wrote; a time without a zone is UTC.
var legacyTimeLayouts = []string{
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	time.RFC3339Nano,
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

func (r legacyRow) time(col string) time.Time {
	switch v := r.vals[col].(type) {
	case nil:
		return time.Time{}
	case time.Time:
		return v.UTC()
	case int64:
		return time.Unix(v, 0).UTC() // unixepoch()
	}
	s := strings.TrimSpace(r.str(col))
	if s == "" {
		return time.Time{}
	}
	for _, layout := range legacyTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	r.warn(col, fmt.Sprintf("%q is not a date; ignored", s))
	return time.Time{}
}

// sqlTime is SQLite's DATETIME text form.
const sqlTime = "2006-01-02 15:04:05"

// HeuristicCounters returns the database-owned counters (times_validated,
// times_violated) of the heuristic at each root-relative filepath that has
// a row, read-only from the index file at dbPath. A missing index file
// gives an empty map. import reads them to carry an old index's counters
// over only where the new index has none yet, and to say what a dry run
// would do without opening the index for writing.
// It creates no file (see readOnlyDSN).
func HeuristicCounters(ctx context.Context, dbPath string) (map[string][2]int, error) {
	out := map[string][2]int{}
	if _, err := os.Stat(dbPath); errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	dsn, _ := readOnlyDSN(dbPath)
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open index %s: %w", dbPath, err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT filepath, coalesce(times_validated, 0), coalesce(times_violated, 0) FROM heuristics WHERE filepath IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("read counters from %s: %w", dbPath, err)
	}
	defer rows.Close()
	for rows.Next() {
		var fp string
		var c [2]int
		if err := rows.Scan(&fp, &c[0], &c[1]); err != nil {
			return nil, fmt.Errorf("read counters from %s: %w", dbPath, err)
		}
		out[fp] = c
	}
	return out, rows.Err()
}
