package query

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	// The pure-Go SQLite driver, registered as "sqlite".
	_ "modernc.org/sqlite"

	"github.com/emergent-learning/elfsync/edit"
	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/indexer"
)

// ErrNoIndex means the root has no index yet.
var ErrNoIndex = errors.New("no index")

// ErrOtherSchema means the index has another schema version than the one
// this elfsync reads (an older one a scan migrates, or a newer one).
var ErrOtherSchema = errors.New("index of another schema version")

// busyTimeout is how long a read waits for a writer's lock.
const busyTimeout = 10 * time.Second

// maxBodyRead bounds how much of a record file a snippet reads.
const maxBodyRead = 256 << 10

// DB is an open, read-only view of a root's index. Its methods may be
// called from several goroutines.
type DB struct {
	root   string
	memDir string
	db     *sql.DB
	// MaxSize bounds the record files Get returns whole.
	maxSize int64
}

// Open opens ROOT/memory/index.db read-only. It returns an error wrapping
// ErrNoIndex when there is none (run `elfsync scan` first).
func Open(ctx context.Context, root string) (*DB, error) {
	memDir := filepath.Join(root, "memory")
	path := filepath.Join(memDir, "index.db")
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w at %s: run 'elfsync scan' (or 'elfsync watch') first", ErrNoIndex, path)
		}
		return nil, fmt.Errorf("open index: %w", err)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "query_only(1)")
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	// The read side never migrates (it opens read-only): an index of
	// another schema version is refused here, with what to do, rather
	// than failing later on a table it does not have.
	var v int
	if err := db.QueryRowContext(ctx, sqlSchemaVersion).Scan(&v); err != nil {
		db.Close()
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	if v != indexer.SchemaVersion {
		db.Close()
		if v > indexer.SchemaVersion {
			return nil, fmt.Errorf("%w: %s has schema version %d, newer than this elfsync's %d: run a newer elfsync", ErrOtherSchema, path, v, indexer.SchemaVersion)
		}
		return nil, fmt.Errorf("%w: %s has schema version %d, this elfsync reads %d: run 'elfsync scan' (or 'elfsync watch') to bring it in line", ErrOtherSchema, path, v, indexer.SchemaVersion)
	}
	return &DB{root: root, memDir: memDir, db: db, maxSize: frontmatter.DefaultMaxSize}, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// MemoryDir returns ROOT/memory.
func (d *DB) MemoryDir() string { return d.memDir }

// Item is one memory as the index has it: a learning (failure, success,
// observation, experiment, decision) or a heuristic.
type Item struct {
	ID         int64    `json:"id"`
	Ref        string   `json:"ref"` // "L-<id>", "D-<id>" (a decision) or "H-<id>": what Get and the MCP tools take
	Table      string   `json:"table"`
	Type       string   `json:"type"`
	Title      string   `json:"title"`
	Path       string   `json:"path"` // root-relative, e.g. memory/failures/x.md
	Domain     string   `json:"domain,omitempty"`
	Tags       []string `json:"tags,omitempty"`
	Summary    string   `json:"summary,omitempty"`
	Rule       string   `json:"rule,omitempty"`
	Explain    string   `json:"explanation,omitempty"`
	Severity   int      `json:"severity,omitempty"`
	Confidence float64  `json:"confidence,omitempty"`
	Validated  int64    `json:"times_validated,omitempty"`
	Violated   int64    `json:"times_violated,omitempty"`
	Golden     bool     `json:"is_golden,omitempty"`
	Created    string   `json:"created,omitempty"`
}

// scanItem reads one row of the rowColumns shape, preceded by a score.
func scanItem(rows interface{ Scan(...any) error }) (Item, float64, error) {
	var it Item
	var score float64
	var tags string
	var golden int64
	err := rows.Scan(&score, &it.ID, &it.Table, &it.Type, &it.Title, &it.Path, &it.Domain, &tags,
		&it.Summary, &it.Rule, &it.Explain, &it.Severity, &it.Confidence, &it.Validated, &it.Violated,
		&golden, &it.Created)
	if err != nil {
		return it, 0, err
	}
	it.Golden = golden != 0
	if tags != "" {
		for _, t := range strings.Split(tags, ",") {
			if t = strings.TrimSpace(t); t != "" {
				it.Tags = append(it.Tags, t)
			}
		}
	}
	it.Ref = "L-"
	if it.Table == "decisions" {
		it.Ref = "D-"
	}
	if it.Table == "heuristics" {
		it.Ref = "H-"
	}
	it.Ref += fmt.Sprint(it.ID)
	return it, score, nil
}

// querier is the database or a read transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// snapshot begins a read transaction: the statements of one search or one
// briefing see one state of the index, whatever a writer commits between
// them. (It also spares each statement its own implicit transaction,
// about a tenth of a BM25 pass over every row.) The caller rolls it back.
func (d *DB) snapshot(ctx context.Context) (*sql.Tx, error) {
	tx, err := d.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	return tx, nil
}

// queryItems runs a statement of the rowColumns shape on the database.
func (d *DB) queryItems(ctx context.Context, q string, args ...any) ([]Item, []float64, error) {
	return queryItemsIn(ctx, d.db, q, args...)
}

// queryItemsIn runs a statement of the rowColumns shape on db (the
// database or a snapshot).
func queryItemsIn(ctx context.Context, db querier, q string, args ...any) ([]Item, []float64, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var items []Item
	var scores []float64
	for rows.Next() {
		it, s, err := scanItem(rows)
		if err != nil {
			return nil, nil, err
		}
		items = append(items, it)
		scores = append(scores, s)
	}
	return items, scores, rows.Err()
}

// readRecord reads a record file named by its root-relative filepath, at
// most limit bytes, refusing any path edit.Resolve refuses (outside
// memory/, through a symlink, the index). It returns the bytes and
// whether the file was longer than limit.
func (d *DB) readRecord(path string, limit int64) ([]byte, bool, error) {
	_, abs, err := edit.Resolve(d.memDir, path)
	if err != nil {
		return nil, false, err
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(data)) > limit {
		return data[:limit], true, nil
	}
	return data, false, nil
}

// body returns the markdown body of a record file (bounded), or "" when it
// cannot be read.
func (d *DB) body(path string) string {
	data, _, err := d.readRecord(path, maxBodyRead)
	if err != nil {
		return ""
	}
	return stripFrontmatter(string(data))
}

// stripFrontmatter drops a leading "---" YAML block; a cheap cut, enough
// for snippets (the indexer's parse is the real one).
func stripFrontmatter(s string) string {
	s = strings.TrimPrefix(s, "\uFEFF")
	if !strings.HasPrefix(s, "---") {
		return s
	}
	rest := s[3:]
	if i := strings.Index(rest, "\n---"); i >= 0 {
		rest = rest[i+4:]
		if j := strings.IndexByte(rest, '\n'); j >= 0 {
			return rest[j+1:]
		}
		return ""
	}
	return s
}

// resolvePath checks a record path from outside with edit.Resolve.
func resolvePath(memDir, ref string) (string, string, error) {
	return edit.Resolve(memDir, strings.TrimSpace(ref))
}
