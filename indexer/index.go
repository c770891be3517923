package indexer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/edit"
	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/layout"
)

// DBName is the index file's name inside the memory folder.
const DBName = layout.IndexFile

// MemoryDir is the watched folder's name under ROOT, and the prefix of every
// filepath in the index.
const MemoryDir = layout.MemoryDir

// Options configure an Index.
type Options struct {
	// Root is ROOT: the memory folder is Root/memory and the index is
	// Root/memory/index.db.
	Root string
	// MaxSize bounds a record file; larger files are tracked as invalid.
	// 0 means frontmatter.DefaultMaxSize.
	MaxSize int64
	// Workers read, hash and parse files in parallel; 0 means GOMAXPROCS.
	Workers int
	// Logger receives state changes (Info) and trouble (Warn, Error).
	Logger zerolog.Logger
	// Grace is how long a row a tool inserted without a file waits for
	// its file before write-back writes one; 0 means indexer.Grace.
	Grace time.Duration
	// WantIDs gives the id a new row of a file (root-relative path) should
	// get when it is free: import passes the old index's ids.
	WantIDs map[string]int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// RowsDone, when set, is called when a reconcile that defers the
	// full-text index has every row in, before it builds the index.
	RowsDone func()
}

// Index is an open index of one memory folder. Its methods may be called
// from several goroutines; writes are serialised on one connection.
type Index struct {
	opts   Options
	memDir string
	dbPath string
	log    zerolog.Logger

	mu sync.Mutex // serialises writes and reopening
	db *sql.DB    // the one writer connection
	// dbFile is the index file, open for as long as db is: its identity
	// tells a replaced or deleted index, its header an overwritten one.
	// It must stay open: closing any descriptor of a file drops all of
	// the process's POSIX locks on it, SQLite's WAL read lock included,
	// and then another process closing the database deletes the WAL
	// that db still writes to.
	dbFile *os.File
	// quiet is what HasChanges last found: no foreign change, with the
	// index files as they were then (see HasChanges).
	quiet struct {
		none bool
		sig  [2]fileSig
		at   time.Time
	}
	// claimed collects, during one reconcile, the records that took over
	// a row another tool wrote; see export.
	claimed []claim
	// chainGen is, during a full reconcile, the ledger generation the
	// ledger was loaded at, then the one the last flush left, as long as
	// every change to the ledger since it was loaded was one of those
	// flushes; "" once that is not known (see snapshotAfter).
	chainGen string
	// bg is the snapshot write a changed scan leaves running (see
	// snapshotAfter); Close and the next reconcile wait for it.
	bg sync.WaitGroup
	// restoreIDs are the ids of rows a mass delete removed, by elf_key:
	// restored from their files, they get them back.
	restoreIDs map[string]int64
	// refused remembers rows write-back refused, to log each once.
	refused map[string]bool
	// placed are the heuristics write-back gave a file of their own after
	// their grace, by id, so a "## H-<id>" section appended late takes
	// the row over (see takeOverPlaced).
	placed map[int64]placedFile
	// tombs keep the ids of vanished files' rows for a while, by content
	// hash, so a file moved in two watcher batches keeps its id.
	tombs map[string]tomb
	// rebuild is set when write-back found the index replaced: the next
	// reconcile is a rebuild.
	rebuild bool
	// adopted is set when Open adopted a framework database: the first
	// export writes every record row's id into its file (adoptedIDs).
	adopted bool
	// notes say what write-back changed in each domain file, for commit
	// messages (see describe.go).
	notes map[string]*sectionNote
}

// Open opens (creating it if needed) the index of the memory folder under
// opts.Root. An index that is corrupt, not an elfsync index, or from a newer
// schema is set aside and a fresh one created; the caller's next Scan
// rebuilds it from the files.
func Open(ctx context.Context, opts Options) (*Index, error) {
	if opts.MaxSize <= 0 {
		opts.MaxSize = frontmatter.DefaultMaxSize
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Grace <= 0 {
		opts.Grace = Grace
	}
	ix := &Index{
		opts:   opts,
		memDir: filepath.Join(opts.Root, MemoryDir),
		log:    opts.Logger.With().Str("component", "indexer").Logger(),

		restoreIDs: map[string]int64{},
		tombs:      map[string]tomb{},
		refused:    map[string]bool{},
		placed:     map[int64]placedFile{},
	}
	ix.dbPath = filepath.Join(ix.memDir, DBName)
	if err := os.MkdirAll(ix.memDir, 0o755); err != nil {
		return nil, fmt.Errorf("create memory folder: %w", err)
	}
	if err := ix.open(ctx); err != nil {
		return nil, err
	}
	if err := ix.reserveWantIDs(ctx); err != nil {
		ix.Close()
		return nil, err
	}
	// The merge settings of small writes, in case a crash at the end of a
	// large build left its own (see mergeStep). Not while entries are
	// pending: a build may be running in another process, and a crash
	// during one is the next scan's completeSearch's to finish.
	if n, err := SearchPending(ctx, ix.db); err != nil || n == 0 {
		if err == nil {
			err = setMergeConfig(ctx, ix.db, ftsCrisis)
		}
		if err != nil {
			ix.Close()
			return nil, fmt.Errorf("full-text index: %w", err)
		}
	}
	return ix, nil
}

// reserveWantIDs moves learnings' AUTOINCREMENT counter past every wanted
// id, so rows of other files never take one first.
func (ix *Index) reserveWantIDs(ctx context.Context) error {
	var top int64
	for _, id := range ix.opts.WantIDs {
		top = max(top, id)
	}
	if top == 0 {
		return nil
	}
	return writeTx(ctx, ix.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE sqlite_sequence SET seq = max(seq, ?1) WHERE name = 'learnings'`, top); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sqlite_sequence (name, seq) SELECT 'learnings', ?1
			WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'learnings')`, top)
		return err
	})
}

// DBPath returns the index file's path.
func (ix *Index) DBPath() string { return ix.dbPath }

// open opens the writer connection, setting aside an unusable file once.
// A set-aside file that holds framework tables is salvaged: every table it
// can still read is copied into the new index.
func (ix *Index) open(ctx context.Context) error {
	db, bak, err := openWriter(ctx, ix.dbPath, ix.opts.Now())
	if bak != "" {
		ix.adopted = true
		ix.log.Info().Str("backup", bak).Msg("adopted the framework's database in place: its tables, rows and ids are kept")
	}
	if errors.Is(err, errUnusable) {
		aside, aerr := setAside(ix.dbPath, ix.opts.Now())
		if aerr != nil {
			return aerr
		}
		ix.log.Warn().Err(err).Str("set_aside", aside).Msg("index unusable: set aside, rebuilding from the files")
		db, _, err = openWriter(ctx, ix.dbPath, ix.opts.Now())
		if err == nil {
			ix.salvage(ctx, db, aside)
		}
	}
	if err != nil {
		return fmt.Errorf("open index %s: %w", ix.dbPath, err)
	}
	f, err := os.Open(ix.dbPath)
	if err != nil {
		db.Close()
		return fmt.Errorf("open index %s: %w", ix.dbPath, err)
	}
	ix.db, ix.dbFile = db, f
	// Indexes a crashed cold scan dropped (see coldindex.go).
	if err := restoreIndexes(ctx, db); err != nil {
		ix.closeDB()
		return fmt.Errorf("open index %s: %w", ix.dbPath, err)
	}
	return nil
}

// closeDB closes the connection, then the file: in that order, so the
// connection's locks are never dropped under it.
func (ix *Index) closeDB() error {
	var err error
	if ix.db != nil {
		err = ix.db.Close()
		ix.db = nil
	}
	if ix.dbFile != nil {
		ix.dbFile.Close()
		ix.dbFile = nil
	}
	return err
}

// sqliteHeader starts every SQLite database file.
const sqliteHeader = "SQLite format 3\x00"

// hasHeader reports whether f starts like a SQLite database (or cannot be
// read, which the next query reports better).
func hasHeader(f *os.File) bool {
	buf := make([]byte, len(sqliteHeader))
	n, _ := f.ReadAt(buf, 0)
	return n == 0 || string(buf[:n]) == sqliteHeader
}

// Close closes the database.
func (ix *Index) Close() error {
	err := ix.closeDB()
	ix.bg.Wait()
	return err
}

// checkFile notices an index file that was deleted or replaced under the
// open connection (which would go on writing to the unlinked file) and
// reopens it. It reports whether it did, so the caller rebuilds with a full
// scan.
func (ix *Index) checkFile(ctx context.Context) (bool, error) {
	info, err := os.Stat(ix.dbPath)
	held, herr := ix.dbFile.Stat()
	if err == nil && herr == nil && os.SameFile(info, held) {
		if hasHeader(ix.dbFile) {
			return false, nil
		}
		// Overwritten in place: the connection's page cache would go on
		// serving the old pages, so look at the file itself.
		return true, ix.reset(ctx, errors.New("index file overwritten: no SQLite header"))
	}
	ix.log.Warn().Str("path", ix.dbPath).Msg("index file deleted or replaced: reopening and rebuilding from the files")
	ix.closeDB()
	// If something else took its place and is not a usable index, open
	// sets it aside.
	return true, ix.open(ctx)
}

// reset sets the current index aside after a corruption error and opens a
// fresh one.
func (ix *Index) reset(ctx context.Context, cause error) error {
	ix.log.Error().Err(cause).Msg("index corrupt: setting it aside and rebuilding from the files")
	ix.closeDB()
	aside, err := setAside(ix.dbPath, ix.opts.Now())
	if err != nil {
		return err
	}
	ix.log.Warn().Str("set_aside", aside).Msg("corrupt index set aside")
	return ix.open(ctx)
}

// HostID returns this machine's counter tally key (see edit.HostID).
func (ix *Index) HostID() (string, error) { return edit.HostID(ix.memDir) }

// MemoryDir returns the memory folder's absolute path.
func (ix *Index) MemoryDir() string { return ix.memDir }
