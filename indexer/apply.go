package indexer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/emergent-learning/elfsync/frontmatter"
)

// candidate is a file that must be read: it is new, its size or mtime
// changed, or a watcher hint forces it.
type candidate struct {
	rel   string // memory-relative
	old   *entry // nil when the ledger does not know it
	force bool
}

// parsed is a candidate after reading, hashing and parsing.
type parsed struct {
	candidate
	size     int64
	mtime    int64 // 0 when racy: the next reconcile hashes it again
	hash     string
	rec      frontmatter.Record
	parseErr error
	gone     bool // vanished before it could be read
	touch    bool // content unchanged since the ledger entry
	// sections is set for a framework domain file; secs are its records.
	sections bool
	secs     []section
}

// section is one "## H-<id>" record of a domain file.
type section struct {
	id  int64
	rec frontmatter.Record
}

// racyWindow guards against a file rewritten with the same size within the
// file system's timestamp granularity after it was read: a ledger mtime that
// close to the read is stored as 0, so the next reconcile hashes the file
// again instead of trusting size+mtime (git's "racily clean" problem).
const racyWindow = time.Second

// batchSize is how many changed files go in one transaction. Their
// parsed records are held until it commits: 2,000 held 7-8 MB of heap,
// and the peak of a 20k cold scan was 59 MB against 52 MB with 1,000, at
// the same CPU time.
const batchSize = 1000

// batchBytes bounds the file bytes one transaction holds, parsed, before
// it commits (a parsed record holds about three times its file's bytes):
// on the realistic 100k corpus a batch of 1,000 files that were mostly
// framework domain files (~9 KB, tens of sections each) held ~16 MB of
// heap, the peak of the cold scan (68-72 MB RSS; 61 MB with this bound).
// Ordinary notes (~2.5 KB) go ~400 to a transaction.
const batchBytes = 1 << 20

// deferAbove is how many files a reconcile reads before it defers the
// full-text index to one pass after the rows (a variable for tests).
var deferAbove = batchSize

// apply reads the candidates in parallel and writes the outcome, and drops
// the gone paths, in batched transactions.
func (ix *Index) apply(ctx context.Context, res Result, cands []candidate, gone []string, ledger map[string]*entry, progress Progress) (Result, error) {
	if len(cands) == 0 && len(gone) == 0 {
		// Full text left behind by a crash between rows and index.
		return res, ix.completeSearch(ctx)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	jobs := make(chan candidate)
	// The workers read ahead while a batch is written: up to a batch of
	// files, and of file bytes (ahead), wait for the writer, so reading
	// and hashing the next batch overlaps the SQLite work of this one
	// instead of taking turns with it.
	out := make(chan parsed, min(len(cands), batchSize))
	ahead := newByteBudget(batchBytes)
	defer ahead.close()
	var wg sync.WaitGroup
	for i := 0; i < ix.opts.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 64<<10)
			for c := range jobs {
				var p parsed
				p, buf = ix.read(c, buf)
				ahead.take(heldBytes(&p))
				select {
				case out <- p:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, c := range cands {
			select {
			case jobs <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(out) }()

	w := ix.newWriter()
	// Rows first, full text right after: when more files are read than
	// one transaction takes (a cold scan, a rebuild), the records' rows
	// go in batch by batch and their FTS5 entries in one pass at the end
	// (completeSearch), as one large insert builds the index faster than
	// many small ones merged later.
	w.deferSearch = len(cands) > deferAbove
	deferred := false // the framework's record-table indexes
	if w.deferSearch {
		// Empty record tables (a cold scan): their framework indexes are
		// built after the rows (see coldindex.go).
		var err error
		if deferred, err = deferIndexes(ctx, ix.db); err != nil {
			return res, err
		}
		w.emptyTables = deferred
		if deferred {
			defer func() {
				// Built below unless the rows failed; else now, or at the
				// next Open.
				if err := restoreIndexes(context.WithoutCancel(ctx), ix.db); err != nil {
					ix.log.Warn().Err(err).Msg("framework indexes not built yet; the next open builds them")
				}
			}()
		}
		if w.cached, err = prepareBulk(ctx, ix.db); err != nil {
			return res, err
		}
		defer w.cached.close()
	}
	total := len(cands) + len(gone)
	done := 0
	var held int64 // file bytes of the records w holds
	flush := func() error {
		held = 0
		if err := w.flush(ctx, ix.db, &res); err != nil {
			return err
		}
		if progress != nil {
			progress(done, total)
		}
		return nil
	}
	for _, rel := range gone {
		w.drop(rel, ledger[rel])
		done++
		if w.len() >= batchSize {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	for p := range out {
		ahead.give(heldBytes(&p))
		held += heldBytes(&p)
		w.put(p)
		done++
		if w.len() >= batchSize || held >= batchBytes {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	if err := flush(); err != nil {
		return res, err
	}
	ix.claimed = append(ix.claimed, w.claimed...)
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if deferred {
		if err := restoreIndexes(ctx, ix.db); err != nil {
			return res, err
		}
	}
	if w.deferSearch {
		res.RowsAt = time.Now()
		if ix.opts.RowsDone != nil {
			ix.opts.RowsDone()
		}
		// The Go heap the rows needed (parsed batches, read buffers) goes
		// back to the system before SQLite's memory grows for the full
		// text: the peak RSS of a 100k cold scan was the two together.
		w, cands = nil, nil
		debug.FreeOSMemory()
	}
	// The deferred entries, or those a crash between rows and index left.
	return res, ix.completeSearch(ctx)
}

// heldBytes is what a parsed file counts against the bytes a batch holds:
// its size, unless only its ledger entry changes.
func heldBytes(p *parsed) int64 {
	if p.touch {
		return 0
	}
	return p.size
}

// byteBudget bounds the file bytes read ahead of the writer. A file is
// always let through when nothing is held, so one larger than the limit
// still passes.
type byteBudget struct {
	mu      sync.Mutex
	cond    sync.Cond
	used    int64
	limit   int64
	closed  bool
	waiting int // takers waiting, for tests
}

func newByteBudget(limit int64) *byteBudget {
	b := &byteBudget{limit: limit}
	b.cond.L = &b.mu
	return b
}

// take waits until n more bytes fit (or the budget is closed) and holds them.
func (b *byteBudget) take(n int64) {
	b.mu.Lock()
	for !b.closed && b.used > 0 && b.used+n > b.limit {
		b.waiting++
		b.cond.Wait()
		b.waiting--
	}
	b.used += n
	b.mu.Unlock()
}

// give returns n bytes taken before.
func (b *byteBudget) give(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	b.cond.Broadcast()
	b.mu.Unlock()
}

// close lets every waiting and later take through: the reader is gone.
func (b *byteBudget) close() {
	b.mu.Lock()
	b.closed = true
	b.cond.Broadcast()
	b.mu.Unlock()
}

// read reads, hashes and parses one candidate. buf is reused between calls.
func (ix *Index) read(c candidate, buf []byte) (parsed, []byte) {
	p := parsed{candidate: c}
	full := filepath.Join(ix.memDir, filepath.FromSlash(c.rel))
	start := ix.opts.Now()
	f, err := os.Open(full)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			p.gone = true
			return p, buf
		}
		p.parseErr = err
		p.hash = "unreadable"
		return p, buf
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		p.parseErr = err
		p.hash = "unreadable"
		return p, buf
	}
	if !info.Mode().IsRegular() {
		// Replaced by a directory or something else since the walk.
		p.gone = true
		return p, buf
	}
	p.size, p.mtime = info.Size(), info.ModTime().UnixNano()
	if info.ModTime().After(start.Add(-racyWindow)) {
		p.mtime = 0
	}
	// Read at most MaxSize+1 bytes: enough to know a file is too large
	// without holding all of it.
	buf = buf[:0]
	n := info.Size()
	if n > ix.opts.MaxSize {
		n = ix.opts.MaxSize + 1
	}
	if int64(cap(buf)) < n+1 {
		buf = make([]byte, 0, n+1)
	}
	data, err := readUpTo(f, buf, ix.opts.MaxSize+1)
	if err != nil {
		p.parseErr = err
		p.hash = "unreadable"
		return p, buf
	}
	sum := sha256.Sum256(data)
	p.hash = hex.EncodeToString(sum[:])
	if c.old != nil && c.old.hash == p.hash && !c.old.lost {
		p.touch = true // same content: at most the ledger's mtime changes
		return p, data
	}
	size := int64(len(data))
	if info.Size() > size {
		size = info.Size()
	}
	if frontmatter.IsDomainFile(c.rel, data) && int64(len(data)) <= ix.opts.MaxSize {
		p.sections = true
		domain, secs := frontmatter.ParseSections(data)
		for _, s := range secs {
			p.secs = append(p.secs, section{id: s.ID, rec: frontmatter.SectionRecord(c.rel, domain, s, info.ModTime())})
		}
		return p, data
	}
	p.rec, p.parseErr = frontmatter.Parse(frontmatter.Input{
		Path:    c.rel,
		Data:    data,
		ModTime: info.ModTime(),
		Size:    size,
		MaxSize: ix.opts.MaxSize,
	})
	return p, data
}

// readUpTo reads r into buf until EOF or limit bytes.
func readUpTo(r io.Reader, buf []byte, limit int64) ([]byte, error) {
	lr := io.LimitReader(r, limit)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
