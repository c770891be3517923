package indexer

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The ledger snapshot: a no-op scan of a large tree spent a third of its
// time loading the `files` ledger through database/sql, row by row. The
// snapshot is the same rows in one compact file beside the index
// (index.db.ledger: ignored by the watcher and by git like every index.db*
// file), read in one go.
//
// It is a cache, never the truth, and it is used only when it is exactly
// the ledger the database holds now:
//
//   - Every change to `files`, by any process and any version of elfsync,
//     fires a trigger that sets meta.ledger_gen to a new random value (a
//     row trigger: it costs only when rows change, and a fresh index gets
//     the triggers after its first full scan, so a cold scan never pays for
//     them). The snapshot records the generation it was taken at.
//   - A snapshot is written only from rows read in one read transaction
//     together with their generation, when the scan that read them
//     changed nothing, so what it holds is the ledger at that generation;
//     or after a scan that changed the ledger, when every change since the
//     ledger was loaded was one of that scan's own transactions (each
//     finds the generation the one before it left) and the entries they
//     wrote are read again at the generation the last one left (see
//     snapshotAfter); or from rows read in one read transaction together
//     with their generation, their paths sorted in walk order, when a
//     watcher's writes left the snapshot stale (see refreshSnapshot).
//   - It is used only when its generation equals meta.ledger_gen and the
//     three triggers are in place exactly as elfsync wrote them; its
//     checksum, magic, schema version and entry count must check out.
//     Anything else (no file, a torn or stale file, a database replaced,
//     rebuilt or restored from a copy, triggers dropped) means the ledger
//     is read from SQL, as without a snapshot.
//
// A crash between a commit and the snapshot's rewrite leaves the old
// snapshot with the old generation: stale, so unused. The file is written
// to a temporary name and renamed, without fsync: after a power loss it may
// be empty or torn, which the checksum catches.

// snapshotName is the ledger snapshot's file name in the memory folder.
const snapshotName = DBName + ".ledger"

// snapshotMagic starts every ledger snapshot (the last byte is the format).
const snapshotMagic = "elfsync-ledger\x00\x01"

// ledgerGenKey is the meta key of the ledger generation.
const ledgerGenKey = "ledger_gen"

// ledgerTriggers set meta.ledger_gen to a new random value on every change
// to `files`. They call only SQLite's own random(), so a framework
// connection writing the database never fails on them. The text is as
// sqlite_master keeps it (which drops IF NOT EXISTS), so it can be compared.
var ledgerTriggers = [...][2]string{
	{"elf_files_gen_ai", `CREATE TRIGGER elf_files_gen_ai AFTER INSERT ON files BEGIN UPDATE meta SET value = random() WHERE key = 'ledger_gen'; END`},
	{"elf_files_gen_au", `CREATE TRIGGER elf_files_gen_au AFTER UPDATE ON files BEGIN UPDATE meta SET value = random() WHERE key = 'ledger_gen'; END`},
	{"elf_files_gen_ad", `CREATE TRIGGER elf_files_gen_ad AFTER DELETE ON files BEGIN UPDATE meta SET value = random() WHERE key = 'ledger_gen'; END`},
}

// queryer is what ledgerGen needs: a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// ledgerGen returns the ledger's current generation, or "" when the
// database has none that can be trusted (no meta row, or the triggers that
// keep it are missing or not as elfsync wrote them).
func ledgerGen(ctx context.Context, q queryer) (string, error) {
	rows, err := q.QueryContext(ctx, `
SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN (?1, ?2, ?3) AND tbl_name = 'files'
UNION ALL SELECT '', value FROM meta WHERE key = ?4`,
		ledgerTriggers[0][0], ledgerTriggers[1][0], ledgerTriggers[2][0], ledgerGenKey)
	if err != nil {
		return "", fmt.Errorf("ledger generation: %w", err)
	}
	defer rows.Close()
	var gen string
	ok := 0
	for rows.Next() {
		var name string
		var text sql.NullString
		if err := rows.Scan(&name, &text); err != nil {
			return "", fmt.Errorf("ledger generation: %w", err)
		}
		if name == "" {
			gen = text.String
			continue
		}
		for _, tr := range ledgerTriggers {
			if name == tr[0] && text.String == tr[1] {
				ok++
			}
		}
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("ledger generation: %w", err)
	}
	if ok != len(ledgerTriggers) {
		return "", nil
	}
	return gen, nil
}

// installLedgerGen (re)creates the triggers and gives the ledger a
// generation. Until this has run, no snapshot is ever used.
func installLedgerGen(ctx context.Context, db *sql.DB) error {
	err := withTx(ctx, db, func(tx *sql.Tx) error {
		for _, tr := range ledgerTriggers {
			// Names are our constants; DDL takes no bound parameters.
			if _, err := tx.ExecContext(ctx, `DROP TRIGGER IF EXISTS `+tr[0]); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, tr[1]); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO meta (key, value) VALUES (?1, random())`, ledgerGenKey); err != nil {
			return err
		}
		// Also in this transaction, as it is the one-time step of a
		// scan's fast path: the invalid files, which every scan lists,
		// through a partial index instead of a scan of the ledger.
		_, err := tx.ExecContext(ctx, `CREATE INDEX IF NOT EXISTS elf_files_invalid ON files(filepath) WHERE error IS NOT NULL`)
		return err
	})
	if err != nil {
		return fmt.Errorf("install ledger generation: %w", err)
	}
	return nil
}

// Entry flags in a snapshot.
const (
	snapHasErr  = 1 << 0
	snapTblBits = 1 // the table code sits above hasErr
)

// encodeSnapshot renders the ledger taken at generation gen: the entries
// of the paths in order (memory-relative, in walk order).
func encodeSnapshot(gen string, order []string, ledger map[string]*entry) []byte {
	var out bytes.Buffer
	enc := newSnapEncoder(&out, gen, len(order))
	for _, rel := range order {
		enc.add(rel, ledger[rel])
	}
	enc.finish()
	return out.Bytes()
}

// snapEncoder writes a snapshot to w a chunk at a time, so no copy of the
// whole file (8 MB for 100k notes) is ever held.
type snapEncoder struct {
	w   io.Writer
	b   []byte
	crc uint32
	err error
}

// snapChunk is how many bytes snapEncoder collects before it writes.
const snapChunk = 64 << 10

// newSnapEncoder starts a snapshot at generation gen of n entries.
func newSnapEncoder(w io.Writer, gen string, n int) *snapEncoder {
	s := &snapEncoder{w: w, b: make([]byte, 0, snapChunk+1024)}
	s.b = append(s.b, snapshotMagic...)
	s.b = binary.AppendUvarint(s.b, SchemaVersion)
	s.b = binary.AppendUvarint(s.b, uint64(len(gen)))
	s.b = append(s.b, gen...)
	s.b = binary.AppendUvarint(s.b, uint64(n))
	return s
}

// add appends the entry e of the memory-relative path rel.
func (s *snapEncoder) add(rel string, e *entry) {
	b := binary.AppendUvarint(s.b, uint64(len(rel)))
	b = append(b, rel...)
	b = binary.AppendVarint(b, e.id)
	b = binary.AppendVarint(b, e.size)
	b = binary.AppendVarint(b, e.mtime)
	flags := byte(e.tblCode) << snapTblBits
	if e.hasErr {
		flags |= snapHasErr
	}
	b = append(b, flags)
	s.b = binary.AppendVarint(b, int64(e.nrec))
	if len(s.b) >= snapChunk {
		s.flush()
	}
}

func (s *snapEncoder) flush() {
	s.crc = crc32.Update(s.crc, crcTable, s.b)
	if s.err == nil {
		_, s.err = s.w.Write(s.b)
	}
	s.b = s.b[:0]
}

// finish writes what is left and the checksum.
func (s *snapEncoder) finish() error {
	s.flush()
	if s.err == nil {
		_, s.err = s.w.Write(binary.LittleEndian.AppendUint32(nil, s.crc))
	}
	return s.err
}

// cmpWalkOrder compares two memory-relative paths in the order the walk
// gives them: depth first, the names of each folder sorted, which is
// byte order with '/' before every other byte.
func cmpWalkOrder(a, b string) int { return cmpWalk(a, b) }

// cmpWalk is cmpWalkOrder of a path and one that may be bytes.
func cmpWalk[T string | []byte](a string, b T) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		ca, cb := a[i], b[i]
		switch {
		case ca == cb:
			continue
		case ca == '/':
			return -1
		case cb == '/':
			return 1
		case ca < cb:
			return -1
		default:
			return 1
		}
	}
	return cmp.Compare(len(a), len(b))
}

// relEntry is a ledger entry with its memory-relative path.
type relEntry struct {
	rel   string
	entry entry
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errSnapshot is any reason a snapshot cannot be used.
var errSnapshot = errors.New("ledger snapshot unusable")

// decodeSnapshot parses a snapshot, checking that it is whole, taken at
// generation gen, and in strict walk order (so no path is there twice).
func decodeSnapshot(data []byte, gen string) ([]relEntry, nrecSums, error) {
	if len(data) < len(snapshotMagic)+4 {
		return nil, nrecSums{}, fmt.Errorf("%w: too short", errSnapshot)
	}
	if crc32.Checksum(data[:len(data)-4], crcTable) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return nil, nrecSums{}, fmt.Errorf("%w: bad checksum", errSnapshot)
	}
	return decodeSnapshotBody(string(data[:len(data)-4]), gen)
}

// decodeSnapshotBody parses a snapshot whose checksum was checked (s is
// all of it but the checksum). The entries' paths are slices of s.
func decodeSnapshotBody(s, gen string) ([]relEntry, nrecSums, error) {
	var sums nrecSums
	d := snapReader{s: s}
	if g, err := d.header(); err != nil {
		return nil, sums, err
	} else if g != gen {
		return nil, sums, fmt.Errorf("%w: stale", errSnapshot)
	}
	n := d.uvarint()
	if d.err != nil || n > uint64(len(s)) { // every entry takes more than a byte
		return nil, sums, fmt.Errorf("%w: bad count", errSnapshot)
	}
	ents := make([]relEntry, n)
	for i := range ents {
		re := &ents[i]
		re.rel = d.str()
		e := &re.entry
		e.id, e.size, e.mtime = d.varint(), d.varint(), d.varint()
		flags := d.byte()
		nrec := d.varint()
		if d.err != nil || flags>>snapTblBits > tblOther || nrec < 0 || nrec > 1<<31 {
			return nil, sums, fmt.Errorf("%w: bad entry %d", errSnapshot, i)
		}
		if i > 0 && cmpWalkOrder(ents[i-1].rel, re.rel) >= 0 {
			return nil, sums, fmt.Errorf("%w: entry %d out of order", errSnapshot, i)
		}
		e.hasErr = flags&snapHasErr != 0
		e.tblCode = flags >> snapTblBits
		if e.tblCode < tblOther {
			e.tbl = tableNames[e.tblCode]
		}
		e.nrec = int(nrec)
		sums[e.tblCode] += e.nrec
	}
	if d.off != len(s) {
		return nil, sums, fmt.Errorf("%w: trailing bytes", errSnapshot)
	}
	return ents, sums, nil
}

// snapReader reads a snapshot's fields; the first error sticks.
type snapReader struct {
	s   string
	off int
	err error
}

// header reads the snapshot's magic and schema version, and returns its
// generation.
func (d *snapReader) header() (string, error) {
	if !strings.HasPrefix(d.s[d.off:], snapshotMagic) {
		return "", fmt.Errorf("%w: bad magic", errSnapshot)
	}
	d.off += len(snapshotMagic)
	if v := d.uvarint(); d.err != nil || v != SchemaVersion {
		return "", fmt.Errorf("%w: schema version %d", errSnapshot, v)
	}
	g := d.str()
	if d.err != nil {
		return "", fmt.Errorf("%w: no generation", errSnapshot)
	}
	return g, nil
}

func (d *snapReader) uvarint() uint64 {
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		if d.off >= len(d.s) {
			break
		}
		c := d.s[d.off]
		d.off++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	d.fail()
	return 0
}

func (d *snapReader) varint() int64 {
	u := d.uvarint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

func (d *snapReader) byte() byte {
	if d.off >= len(d.s) {
		d.fail()
		return 0
	}
	c := d.s[d.off]
	d.off++
	return c
}

func (d *snapReader) str() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.s)-d.off) {
		d.fail()
		return ""
	}
	v := d.s[d.off : d.off+int(n)]
	d.off += int(n)
	return v
}

func (d *snapReader) fail() {
	if d.err == nil {
		d.err = errSnapshot
	}
	d.off = len(d.s)
}

// readSnapshot returns the ledger from the snapshot in memDir if it is
// the ledger at generation gen, else an error. The file is read straight
// into the string the entries' paths are cut from (strings.Builder keeps
// its buffer), checksummed on the way: no second copy of it.
func readSnapshot(memDir, gen string) ([]relEntry, nrecSums, error) {
	if gen == "" {
		return nil, nrecSums{}, fmt.Errorf("%w: no generation", errSnapshot)
	}
	f, err := os.Open(filepath.Join(memDir, snapshotName))
	if err != nil {
		return nil, nrecSums{}, err
	}
	defer f.Close()
	// A stale snapshot (a watcher's write since) is told by its header,
	// before its body (8 MB at 100k notes) is read.
	if snapshotGen(f) != gen {
		return nil, nrecSums{}, fmt.Errorf("%w: another generation", errSnapshot)
	}
	info, err := f.Stat()
	if err != nil {
		return nil, nrecSums{}, err
	}
	size := info.Size()
	if size < int64(len(snapshotMagic))+4 || size > 1<<32 {
		return nil, nrecSums{}, fmt.Errorf("%w: size %d", errSnapshot, size)
	}
	var body strings.Builder
	body.Grow(int(size - 4))
	crc := crc32.New(crcTable)
	if _, err := io.Copy(io.MultiWriter(&body, crc), io.LimitReader(f, size-4)); err != nil {
		return nil, nrecSums{}, err
	}
	var sum [4]byte
	if _, err := io.ReadFull(f, sum[:]); err != nil {
		return nil, nrecSums{}, fmt.Errorf("%w: %v", errSnapshot, err)
	}
	if body.Len() != int(size-4) || crc.Sum32() != binary.LittleEndian.Uint32(sum[:]) {
		return nil, nrecSums{}, fmt.Errorf("%w: bad checksum", errSnapshot)
	}
	return decodeSnapshotBody(body.String(), gen)
}

// writeSnapshot writes the snapshot of the ledger taken at generation gen,
// its paths in walk order: to a temporary name first, then renamed over
// the old one.
func writeSnapshot(memDir, gen string, order []string, ledger map[string]*entry) error {
	if gen == "" {
		return nil
	}
	return writeSnapshotFile(memDir, func(w io.Writer) (bool, error) {
		enc := newSnapEncoder(w, gen, len(order))
		for _, rel := range order {
			enc.add(rel, ledger[rel])
		}
		return true, enc.finish()
	})
}

// writeSnapshotFile writes the snapshot fill encodes: to a temporary name
// first, then renamed over the old one, unless fill gives up (false).
func writeSnapshotFile(memDir string, fill func(w io.Writer) (bool, error)) error {
	final := filepath.Join(memDir, snapshotName)
	tmp := final + ".tmp-" + strconv.Itoa(os.Getpid())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	ok, err := fill(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil || !ok {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// refreshSnapshot writes the snapshot of the ledger as it is now, unless
// the snapshot on disk is of the current generation already (or the
// database keeps none). Unlike keepSnapshot it has no walk: the order is
// the ledger's paths sorted in walk order, which is the order the walk
// gives the same paths. The rows are read here; the sorting and writing
// go on in the background (ix.bg), as in snapshotAfter. Only a database
// error is returned: failing to write is logged, as the snapshot is a
// cache.
func (ix *Index) refreshSnapshot(ctx context.Context) error {
	ix.bg.Wait() // one snapshot writer at a time
	gen, err := ledgerGen(ctx, ix.db)
	if err != nil || gen == "" {
		return err
	}
	if f, err := os.Open(filepath.Join(ix.memDir, snapshotName)); err == nil {
		current := snapshotGen(f) == gen
		f.Close()
		if current {
			return nil
		}
	}
	l, err := loadSQLLedger(ctx, ix.db)
	if err != nil || l.gen == "" {
		return err
	}
	ix.bg.Add(1)
	go func() {
		defer ix.bg.Done()
		order := slices.SortedFunc(maps.Keys(l.entries), cmpWalkOrder)
		if err := writeSnapshot(ix.memDir, l.gen, order, l.entries); err != nil {
			ix.log.Warn().Err(err).Msg("ledger snapshot not written; the next scan reads the ledger from the index")
		}
	}()
	return nil
}

// snapshotGen returns the generation in the header of the snapshot file
// f (read at offset 0, leaving f's offset alone), or "" when there is none
// to read.
func snapshotGen(f *os.File) string {
	var head [len(snapshotMagic) + 2*binary.MaxVarintLen64 + 64]byte
	n, _ := f.ReadAt(head[:], 0)
	d := snapReader{s: string(head[:n])}
	g, err := d.header()
	if err != nil {
		return ""
	}
	return g
}

// snapshotAfter writes the snapshot of the ledger a full reconcile left,
// so the scan after a changed one need not read the ledger from SQL
// either. sorted is the ledger the reconcile loaded from the snapshot (in
// walk order, at the generation it started its chain of flushes from), d
// its diff, and chain the generation its last flush left: every change to
// the ledger since it was loaded was one of those flushes (each checked,
// inside its transaction, that it found the generation the one before it
// left), and they wrote only the entries of d's candidates and gone
// paths. Those entries are read again here, in one read transaction that
// finds the generation still chain; the others are as loaded. The
// snapshot is then exactly the ledger at chain. Anything else writes no
// snapshot: the next scan reads the ledger from SQL. Failing is only
// logged.
func (ix *Index) snapshotAfter(ctx context.Context, chain string, sorted []relEntry, d delta) {
	ix.bg.Wait() // one snapshot writer at a time
	rels := make([]string, 0, len(d.cands)+len(d.gone))
	for _, c := range d.cands {
		rels = append(rels, c.rel)
	}
	rels = append(rels, d.gone...)
	fresh := make(map[string]*entry, len(rels))
	stale := false
	err := readTx(ctx, ix.db, func(tx *sql.Tx) error {
		gen, err := ledgerGen(ctx, tx)
		if err != nil || gen != chain {
			stale = true
			return err
		}
		for len(rels) > 0 {
			n := min(len(rels), updateRows)
			// ?1 and ?2 are the whole-ledger query's bounds (unused
			// here), ?3 the offset of the memory-relative path.
			args := make([]any, 0, n+3)
			args = append(args, 1, 1, len(MemoryDir)+2)
			for _, rel := range rels[:n] {
				args = append(args, rootRel(rel))
			}
			got, _, err := scanLedgerSums(ctx, tx, `SELECT `+ledgerColumns+` FROM files
WHERE filepath IN (VALUES `+repeatRow("(?)", n)+`) AND ?1 IS NOT NULL AND ?2 IS NOT NULL`, args...)
			if err != nil {
				return err
			}
			for rel, e := range got {
				fresh[rel] = e
			}
			rels = rels[n:]
		}
		return nil
	})
	if err != nil || stale {
		if err != nil && ctx.Err() == nil {
			ix.log.Warn().Err(err).Msg("ledger snapshot not written; the next scan reads the ledger from the index")
		}
		return
	}
	// The rest needs no database: it runs while the scan goes on to
	// close the index (whose checkpoint mostly waits on the disk). The
	// reconcile hands sorted and d over to it.
	ix.bg.Add(1)
	go func() {
		defer ix.bg.Done()
		if err := writeAfter(ix.memDir, chain, sorted, fresh, d); err != nil {
			ix.log.Warn().Err(err).Msg("ledger snapshot not written; the next scan reads the ledger from the index")
		}
	}()
}

// writeAfter writes the snapshot of the ledger sorted (in walk order) with
// the entries of d's paths replaced by fresh (those without one dropped,
// new ones merged in walk order).
func writeAfter(memDir, chain string, sorted []relEntry, fresh map[string]*entry, d delta) error {
	replaced := make(map[string]bool, len(d.cands)+len(d.gone))
	var added []string
	for _, c := range d.cands {
		if c.old != nil {
			replaced[c.rel] = true
		} else if fresh[c.rel] != nil {
			added = append(added, c.rel)
		}
	}
	for _, rel := range d.gone {
		replaced[rel] = true
	}
	slices.SortFunc(added, cmpWalkOrder)
	n := len(added)
	for i := range sorted {
		if !replaced[sorted[i].rel] || fresh[sorted[i].rel] != nil {
			n++
		}
	}
	return writeSnapshotFile(memDir, func(w io.Writer) (bool, error) {
		enc := newSnapEncoder(w, chain, n)
		for i := range sorted {
			rel, e := sorted[i].rel, &sorted[i].entry
			for len(added) > 0 && cmpWalkOrder(added[0], rel) < 0 {
				enc.add(added[0], fresh[added[0]])
				added = added[1:]
			}
			if replaced[rel] {
				if e = fresh[rel]; e == nil {
					continue
				}
			}
			enc.add(rel, e)
		}
		for _, rel := range added {
			enc.add(rel, fresh[rel])
		}
		return true, enc.finish()
	})
}
