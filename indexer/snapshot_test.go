package indexer

import (
	"context"
	"errors"
	"fmt"
	"github.com/rs/zerolog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// sqlLedger reads the whole ledger from SQL, as without a snapshot.
func sqlLedger(t *testing.T, ix *Index) map[string]*entry {
	t.Helper()
	l, err := ix.loadLedger(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func sameLedger(a, b map[string]*entry) bool {
	return maps.EqualFunc(a, b, func(x, y *entry) bool { return *x == *y })
}

// full loads the whole ledger the way a scan does.
func full(t *testing.T, ix *Index) fullLedger {
	t.Helper()
	ix.bg.Wait() // the snapshot a changed scan writes in the background
	l, err := loadFullLedger(context.Background(), ix.db, ix.memDir)
	if err != nil {
		t.Fatal(err)
	}
	l.byPath()
	return l
}

func TestSnapshotRoundTrip(t *testing.T) {
	ledger := map[string]*entry{
		"a.md":                           {id: 1, size: 10, mtime: 1700000000123456789, tbl: "learnings", tblCode: tblLearnings, nrec: 1},
		"heuristics/g.md":                {id: 2, size: 0, mtime: 0, tbl: "heuristics", tblCode: tblHeuristics, nrec: 7},
		"bad.md":                         {id: 3, size: 1 << 40, mtime: -1, hasErr: true, tblCode: tblNone},
		"odd.md":                         {id: 1 << 62, size: 5, mtime: 5, tblCode: tblOther},
		"d/ü nicode ✓.md":                {id: 4, size: 3, mtime: 3, tbl: "decisions", tblCode: tblDecisions, nrec: 1},
		strings.Repeat("x", 300) + ".md": {id: 5},
	}
	order := slices.SortedFunc(maps.Keys(ledger), cmpWalkOrder)
	data := encodeSnapshot("-12345", order, ledger)
	sorted, sums, err := decodeSnapshot(data, "-12345")
	if err != nil {
		t.Fatal(err)
	}
	got := (&fullLedger{sorted: sorted}).byPath()
	for i, re := range sorted {
		if re.rel != order[i] {
			t.Errorf("entry %d is %s, want %s", i, re.rel, order[i])
		}
	}
	// Out of walk order (or a path twice) is refused.
	for _, bad := range [][]string{{order[1], order[0]}, {order[0], order[0]}} {
		if _, _, err := decodeSnapshot(encodeSnapshot("g", bad, ledger), "g"); !errors.Is(err, errSnapshot) {
			t.Errorf("paths %q: %v, want errSnapshot", bad, err)
		}
	}
	if want := (nrecSums{tblLearnings: 1, tblHeuristics: 7, tblDecisions: 1}); sums != want {
		t.Errorf("sums %v, want %v", sums, want)
	}
	if !sameLedger(got, ledger) {
		t.Errorf("round trip: got %v, want %v", got, ledger)
	}
	if _, _, err := decodeSnapshot(data, "-12346"); !errors.Is(err, errSnapshot) {
		t.Errorf("another generation: %v, want errSnapshot", err)
	}
	// Every truncation and every single flipped bit is refused, never
	// read as some other ledger.
	for n := 0; n < len(data); n++ {
		if _, _, err := decodeSnapshot(data[:n], "-12345"); err == nil {
			t.Fatalf("truncated to %d bytes: accepted", n)
		}
	}
	for i := 0; i < len(data); i++ {
		for bit := 0; bit < 8; bit++ {
			bad := append([]byte(nil), data...)
			bad[i] ^= 1 << bit
			if _, _, err := decodeSnapshot(bad, "-12345"); err == nil {
				t.Fatalf("byte %d bit %d flipped: accepted", i, bit)
			}
		}
	}
}

// snapshotRoot is a root with a few files, scanned until its snapshot is
// in place (the first scan installs the generation, the second writes the
// snapshot).
func snapshotRoot(t *testing.T) (string, *Index) {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{"heuristics/h.md": heuristicNote, "bad.md": "---\ntype: [\n---\n"}
	for i := 0; i < 5; i++ {
		files[fmt.Sprintf("failures/f%d.md", i)] = strings.Replace(failureNote, "Lock: held", fmt.Sprintf("Lock %d", i), 1)
	}
	writeTree(t, root, files)
	for rel := range files {
		aged(t, root, rel)
	}
	ix := openIndex(t, root)
	if res := scan(t, ix); res.Added != 6 || res.Invalid != 1 {
		t.Fatalf("first scan: %+v", res)
	}
	if l := full(t, ix); l.gen == "" || l.fromSnapshot {
		t.Fatalf("after the first scan: generation %q, from snapshot %v; want a generation, no snapshot", l.gen, l.fromSnapshot)
	}
	if res := scan(t, ix); res.Unchanged != 7 {
		t.Fatalf("second scan: %+v", res)
	}
	if l := full(t, ix); !l.fromSnapshot || !sameLedger(l.entries, sqlLedger(t, ix)) {
		t.Fatalf("after a no-op scan: from snapshot %v, same as SQL %v; want both", l.fromSnapshot, sameLedger(l.entries, sqlLedger(t, ix)))
	} else if files, unreadable, err := ix.walkTree(""); err != nil || !l.unchangedWalk(files, unreadable) {
		t.Fatalf("a no-op walk against the snapshot is not seen as unchanged (%v)", err)
	} else if _, want, err := scanLedgerSums(context.Background(), ix.db, `SELECT `+ledgerColumns+` FROM files WHERE ?1 AND ?2`, 1, 1, 8); err != nil || l.nrecs != want || want[tblHeuristics] != 1 {
		t.Fatalf("records by table from the snapshot %v, from SQL %v (%v)", l.nrecs, want, err)
	}
	return root, ix
}

// TestSnapshotFollowsEveryLedgerChange checks that the snapshot is never
// used once the ledger changed, whoever changed it, and that a scan then
// sees the change.
func TestSnapshotFollowsEveryLedgerChange(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		sql  string
	}{
		{"update", `UPDATE files SET size = 1, hash = 'x' WHERE filepath = 'memory/failures/f1.md'`},
		{"delete", `DELETE FROM files WHERE filepath = 'memory/failures/f1.md'`},
		{"insert", `INSERT INTO files (filepath, size, mtime_ns, hash, nrec) VALUES ('memory/failures/zz.md', 1, 1, 'x', 0)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, ix := snapshotRoot(t)
			exec1(t, rw(t, root), tc.sql) // another process, by hand
			l := full(t, ix)
			if l.fromSnapshot {
				t.Fatal("snapshot used after the ledger changed")
			}
			if !sameLedger(l.entries, sqlLedger(t, ix)) {
				t.Fatal("ledger read after the change differs from SQL")
			}
			res := scan(t, ix)
			if res.Added+res.Updated+res.Removed == 0 {
				t.Errorf("scan after %s: %+v, want the change repaired", tc.name, res)
			}
			scan(t, ix) // writes the snapshot again
			if l := full(t, ix); !l.fromSnapshot || !sameLedger(l.entries, sqlLedger(t, ix)) {
				t.Errorf("after the repair: from snapshot %v; want the new snapshot, equal to SQL", l.fromSnapshot)
			}
			if res := scan(t, ix); res.Added+res.Updated+res.Removed != 0 {
				t.Errorf("scan with the new snapshot: %+v, want a no-op", res)
			}
		})
	}
	_ = ctx
}

// TestSnapshotUnusable checks each way a snapshot can be wrong: the
// ledger is then read from SQL and the scan stays right.
func TestSnapshotUnusable(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, root string, ix *Index) *Index
	}{
		{"missing", func(t *testing.T, root string, ix *Index) *Index {
			if err := os.Remove(filepath.Join(root, MemoryDir, snapshotName)); err != nil {
				t.Fatal(err)
			}
			return ix
		}},
		{"empty", func(t *testing.T, root string, ix *Index) *Index {
			if err := os.WriteFile(filepath.Join(root, MemoryDir, snapshotName), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			return ix
		}},
		{"torn", func(t *testing.T, root string, ix *Index) *Index {
			p := filepath.Join(root, MemoryDir, snapshotName)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			data[len(data)/2] ^= 0x55
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			return ix
		}},
		{"crash before the rewrite", func(t *testing.T, root string, ix *Index) *Index {
			// The snapshot of an older generation stays when a process
			// dies after committing and before writing the new one.
			p := filepath.Join(root, MemoryDir, snapshotName)
			old, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			writeTree(t, root, map[string]string{"failures/f2.md": strings.Replace(failureNote, "Lock: held", "Edited", 1)})
			aged(t, root, "failures/f2.md")
			if res := scan(t, ix); res.Updated != 1 {
				t.Fatalf("edit: %+v", res)
			}
			ix.bg.Wait() // the new snapshot, written in the background, then the old put back
			if err := os.WriteFile(p, old, 0o644); err != nil {
				t.Fatal(err)
			}
			return ix
		}},
		{"triggers dropped", func(t *testing.T, root string, ix *Index) *Index {
			db := rw(t, root)
			exec1(t, db, `DROP TRIGGER elf_files_gen_au`)
			// Unseen by the generation now.
			exec1(t, db, `UPDATE files SET size = 1 WHERE filepath = 'memory/failures/f3.md'`)
			return ix
		}},
		{"trigger altered", func(t *testing.T, root string, ix *Index) *Index {
			db := rw(t, root)
			exec1(t, db, `DROP TRIGGER elf_files_gen_ad`)
			exec1(t, db, `CREATE TRIGGER elf_files_gen_ad AFTER DELETE ON files BEGIN SELECT 1; END`)
			exec1(t, db, `DELETE FROM files WHERE filepath = 'memory/failures/f3.md'`)
			return ix
		}},
		{"generation row gone", func(t *testing.T, root string, ix *Index) *Index {
			exec1(t, rw(t, root), `DELETE FROM meta WHERE key = 'ledger_gen'`)
			return ix
		}},
		{"index replaced by a copy", func(t *testing.T, root string, ix *Index) *Index {
			// A copy of the index taken now, the original edited on, then
			// the copy put back: the snapshot is of neither.
			mem := filepath.Join(root, MemoryDir)
			ix.Close()
			copyFile(t, filepath.Join(mem, DBName), filepath.Join(mem, "copy.db"))
			ix2, err := Open(context.Background(), ix.opts)
			if err != nil {
				t.Fatal(err)
			}
			ix = ix2
			t.Cleanup(func() { ix2.Close() })
			writeTree(t, root, map[string]string{"failures/f4.md": strings.Replace(failureNote, "Lock: held", "Other", 1)})
			aged(t, root, "failures/f4.md")
			scan(t, ix)
			scan(t, ix) // snapshot of the edited index
			ix.Close()
			if err := os.Rename(filepath.Join(mem, "copy.db"), filepath.Join(mem, DBName)); err != nil {
				t.Fatal(err)
			}
			ix3, err := Open(context.Background(), ix.opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ix3.Close() })
			return ix3
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, ix := snapshotRoot(t)
			ix = tc.spoil(t, root, ix)
			l := full(t, ix)
			if l.fromSnapshot {
				t.Fatal("unusable snapshot used")
			}
			if !sameLedger(l.entries, sqlLedger(t, ix)) {
				t.Fatal("ledger differs from SQL")
			}
			scan(t, ix)
			scan(t, ix)
			if res := scan(t, ix); res.Added+res.Updated+res.Removed != 0 || res.Unchanged != 7 {
				t.Errorf("third scan after spoiling: %+v, want 7 unchanged", res)
			}
			if l := full(t, ix); !l.fromSnapshot || !sameLedger(l.entries, sqlLedger(t, ix)) {
				t.Errorf("after rescans: from snapshot %v; want a good snapshot again", l.fromSnapshot)
			}
			d, err := Check(context.Background(), root, 0)
			if err != nil || !d.InSync() || d.Files != 7 {
				t.Errorf("status after rescans: %+v, %v", d, err)
			}
		})
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestKeyFileBytes(t *testing.T) {
	for _, key := range []string{"memory/a.md", "memory/heuristics/git.md#H-12", "a.md", "#H-1", "memory/x#H-1#H-2", "memory/", "", "memory/b.md#H-"} {
		if got, want := string(keyFileBytes([]byte(key))), keyFile(key); got != want {
			t.Errorf("keyFileBytes(%q) = %q, keyFile %q", key, got, want)
		}
	}
}

func TestLastSectionMarkIsLastIndex(t *testing.T) {
	for _, key := range []string{"", "#", "#H", "#H-", "a#H-", "#H-#H", "a#H-b#H-c", "a#H-b#H", "a#Hb#H-c#", "##H-", "#H-#", "x#h-1", "memory/h.md#H-12#x"} {
		want := strings.LastIndex(key, "#H-")
		if got := lastSectionMark(key); got != want {
			t.Errorf("lastSectionMark(%q) = %d, LastIndex %d", key, got, want)
		}
		if got := lastSectionMark([]byte(key)); got != want {
			t.Errorf("lastSectionMark([]byte(%q)) = %d, LastIndex %d", key, got, want)
		}
	}
}

// TestCheckComparesRowsWithFiles checks what status sees that the counts
// of a scan do not: rows deleted or inserted by hand, by path, whether
// the ledger came from the snapshot or from SQL, and the entries Match
// picks.
func TestCheckComparesRowsWithFiles(t *testing.T) {
	root, ix := snapshotRoot(t)
	db := rw(t, root)
	exec1(t, db, `DELETE FROM learnings WHERE elf_key = 'memory/failures/f0.md'`)
	exec1(t, db, `INSERT INTO learnings (type, filepath, title, elf_key) VALUES ('failure', 'memory/failures/ghost.md', 'ghost', 'memory/failures/ghost.md')`)
	exec1(t, db, `INSERT INTO learnings (type, filepath, title, elf_key) VALUES ('failure', 'memory/failures/c.md', 'c', 'memory/failures/c.md')`)
	writeTree(t, root, map[string]string{
		"failures/c.md": failureNote, // a row, no ledger entry
		"failures/d.md": failureNote, // neither
		"failures/x.conflict-0badf00d-20261101T100000Z.md": failureNote,
		"notes.conflict-merge-20261101T100000Z.txt":        "",
	})
	for _, rel := range []string{"failures/c.md", "failures/d.md", "failures/x.conflict-0badf00d-20261101T100000Z.md"} {
		aged(t, root, rel)
	}
	check := func(name string) {
		t.Helper()
		d, err := CheckWith(context.Background(), root, CheckOptions{Match: func(name string) bool { return strings.Contains(name, ".conflict-") }})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"memory/failures/c.md", "memory/failures/d.md", "memory/failures/f0.md", "memory/failures/x.conflict-0badf00d-20261101T100000Z.md"}
		if !slices.Equal(d.MissingRows, want) {
			t.Errorf("%s: missing rows %q, want %q", name, d.MissingRows, want)
		}
		if want := []string{"memory/failures/ghost.md"}; !slices.Equal(d.OrphanRows, want) {
			t.Errorf("%s: orphan rows %q, want %q", name, d.OrphanRows, want)
		}
		if d.Files != 10 || d.Rows != 7 || len(d.Invalid) != 1 || d.Invalid[0].Path != "memory/bad.md" || d.Invalid[0].Error == "" {
			t.Errorf("%s: files %d rows %d invalid %v, want 10, 7 and bad.md with its error", name, d.Files, d.Rows, d.Invalid)
		}
		if want := []string{"memory/failures/x.conflict-0badf00d-20261101T100000Z.md", "memory/notes.conflict-merge-20261101T100000Z.txt"}; !slices.Equal(d.Matched, want) {
			t.Errorf("%s: matched %q, want %q", name, d.Matched, want)
		}
	}
	if l := full(t, ix); !l.fromSnapshot {
		t.Fatal("snapshot not in place")
	}
	check("from the snapshot")
	// Walked gets what Drift.Entries holds without it.
	d, err := CheckWith(context.Background(), root, CheckOptions{Entries: true})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []WalkEntry, 1)
	dw, err := CheckWith(context.Background(), root, CheckOptions{Entries: true, Walked: func(es []WalkEntry, unreadable []string) {
		if len(unreadable) != 0 {
			t.Errorf("unreadable %q", unreadable)
		}
		got <- es
	}})
	if err != nil {
		t.Fatal(err)
	}
	if es := <-got; len(d.Entries) < 10 || !slices.Equal(es, d.Entries) || dw.Entries != nil {
		t.Errorf("Walked got %d entries, Drift.Entries %d without it (%d with it)", len(es), len(d.Entries), len(dw.Entries))
	}
	if err := os.Remove(filepath.Join(root, MemoryDir, snapshotName)); err != nil {
		t.Fatal(err)
	}
	check("from SQL")
}

// TestScanTimeWithoutWritingTheIndex checks that a scan records its time
// in the stamp file (a no-op scan then writes nothing to the index), that
// status reports the later of the stamp and the index's own record, and
// that the index keeps the time when the stamp cannot be written.
func TestScanTimeWithoutWritingTheIndex(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"failures/a.md": failureNote})
	clock := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	ix, err := Open(context.Background(), Options{Root: root, Logger: zerolog.Nop(), Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	scan(t, ix)
	lastScan := func() time.Time {
		t.Helper()
		d, err := Check(context.Background(), root, 0)
		if err != nil {
			t.Fatal(err)
		}
		return d.LastScan
	}
	if got := lastScan(); !got.Equal(clock) {
		t.Errorf("last scan %v, want %v", got, clock)
	}
	if n := count(t, reader(t, root), `SELECT count(*) FROM meta WHERE key = 'last_scan'`); n != 0 {
		t.Errorf("the index holds a last_scan (%d rows); want the stamp only", n)
	}
	// An older time in the index (from an elfsync before the stamp) does
	// not hide the stamp's; a later one wins.
	exec1(t, rw(t, root), `INSERT INTO meta (key, value) VALUES ('last_scan', '2025-01-01T00:00:00Z')`)
	if got := lastScan(); !got.Equal(clock) {
		t.Errorf("with an older time in the index: %v, want %v", got, clock)
	}
	// No stamp possible: the index keeps the time.
	stamp := filepath.Join(root, MemoryDir, scanStampName)
	if err := os.Remove(stamp); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(stamp, 0o755); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Hour)
	scan(t, ix)
	if got := lastScan(); !got.Equal(clock) {
		t.Errorf("stamp not writable: last scan %v, want %v from the index", got, clock)
	}
}

// TestSnapshotAfterChangedScan checks that a scan that changed the
// ledger leaves a snapshot equal to the SQL ledger, which the next scan
// uses, and that it leaves none when the ledger changed behind it.
func TestSnapshotAfterChangedScan(t *testing.T) {
	root, ix := snapshotRoot(t)
	writeTree(t, root, map[string]string{
		"failures/f1.md": strings.Replace(failureNote, "Lock: held", "Lock edited", 1), // edited
		"failures/n.md":  failureNote,                                                  // new
		"bad.md":         failureNote,                                                  // valid now
	})
	for _, rel := range []string{"failures/f1.md", "failures/n.md", "bad.md"} {
		aged(t, root, rel)
	}
	if err := os.Remove(filepath.Join(root, MemoryDir, "failures", "f2.md")); err != nil { // gone
		t.Fatal(err)
	}
	// A touched file: same content, new mtime.
	later := time.Now().Add(-30 * time.Minute)
	if err := os.Chtimes(filepath.Join(root, MemoryDir, "failures", "f3.md"), later, later); err != nil {
		t.Fatal(err)
	}
	if res := scan(t, ix); res.Added != 2 || res.Updated != 1 || res.Removed != 1 { // bad.md counts as added
		t.Fatalf("changed scan: %+v", res)
	}
	l := full(t, ix)
	if !l.fromSnapshot || !sameLedger(l.entries, sqlLedger(t, ix)) {
		t.Fatalf("after a changed scan: from snapshot %v, same as SQL %v; want both", l.fromSnapshot, sameLedger(l.entries, sqlLedger(t, ix)))
	}
	if files, unreadable, err := ix.walkTree(""); err != nil || !l.unchangedWalk(files, unreadable) {
		t.Fatalf("the walk after a changed scan is not unchanged against its snapshot (%v)", err)
	}
	if res := scan(t, ix); res.Added+res.Updated+res.Removed != 0 || res.Unchanged != 7 {
		t.Fatalf("scan after: %+v, want a no-op", res)
	}

	// A chain of flushes that does not start at the generation the ledger
	// was loaded at (another process wrote the ledger in between) leaves
	// no trusted chain, and snapshotAfter writes nothing for it.
	ctx := context.Background()
	snap := filepath.Join(root, MemoryDir, snapshotName)
	before, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	writeTree(t, root, map[string]string{"failures/n.md": strings.Replace(failureNote, "Lock: held", "Lock again", 1)})
	aged(t, root, "failures/n.md")
	ix.chainGen = "not the generation"
	w := ix.newWriter()
	e := l.entries["failures/n.md"]
	p, _ := ix.read(candidate{rel: "failures/n.md", old: e}, nil)
	w.put(p)
	var res Result
	if err := w.flush(ctx, ix.db, &res); err != nil {
		t.Fatal(err)
	}
	if ix.chainGen != "" || res.Updated != 1 {
		t.Fatalf("flush from a foreign generation: chain %q, %+v; want no chain, one update", ix.chainGen, res)
	}
	ix.snapshotAfter(ctx, l.gen, l.sorted, delta{cands: []candidate{{rel: "failures/n.md"}}})
	ix.bg.Wait()
	if after, err := os.ReadFile(snap); err != nil || string(after) != string(before) {
		t.Fatalf("snapshotAfter wrote a snapshot for a stale chain (%v)", err)
	}
	if l := full(t, ix); l.fromSnapshot || !sameLedger(l.entries, sqlLedger(t, ix)) {
		t.Fatalf("stale snapshot used")
	}
}

// TestLedgerCursorFindsWhatTheMapFinds looks paths up in a ledger in walk
// order, in walk order, out of it and as bytes: each finds exactly its
// own entry, and paths the ledger lacks find none, without allocating.
func TestLedgerCursorFindsWhatTheMapFinds(t *testing.T) {
	rels := []string{"a", "a-b.md", "a/b.md", "a/c/d.md", "a/c.md", "b.md", "heuristics/git.md", "heuristics/go.md", "z/y.md"}
	slices.SortFunc(rels, cmpWalkOrder)
	sorted := make([]relEntry, len(rels))
	for i, rel := range rels {
		sorted[i] = relEntry{rel: rel, entry: entry{id: int64(i + 1)}}
	}
	lookups := append(slices.Clone(rels), "a/b.md", "heuristics/git.md", "heuristics/git.md", "a/c/d.md", "a-b.md")
	lookups = append(lookups, "", "a/", "a/b", "aa.md", "heuristics/git.mdx", "zz")
	slices.Reverse(lookups[:4])
	c := ledgerCursor{sorted: sorted}
	for _, rel := range lookups {
		want := int64(0)
		if i := slices.Index(rels, rel); i >= 0 {
			want = int64(i + 1)
		}
		for _, e := range []*entry{findEntry(&c, rel), findEntry(&c, []byte(rel))} {
			got := int64(0)
			if e != nil {
				got = e.id
			}
			if got != want {
				t.Errorf("findEntry(%q) = entry %d, want %d", rel, got, want)
			}
		}
	}
	key := []byte("heuristics/go.md")
	if n := testing.AllocsPerRun(100, func() { c.next = 0; findEntry(&c, key) }); n != 0 {
		t.Errorf("findEntry of bytes allocates %v times", n)
	}
}

// A watched write (Sync) makes the snapshot stale; an idle Upkeep writes
// it again, in the walk's order, so `status` and the next scan read it
// instead of the ledger in SQL. An Upkeep that finds it current leaves the
// file alone.
func TestUpkeepRewritesAStaleSnapshot(t *testing.T) {
	ctx := context.Background()
	root, ix := snapshotRoot(t)
	// Paths whose walk order is not byte order ('/' before '-' and '.').
	writeTree(t, root, map[string]string{
		"failures/a-b.md":   strings.Replace(failureNote, "Lock: held", "Lock ab", 1),
		"failures/a/c.md":   strings.Replace(failureNote, "Lock: held", "Lock ac", 1),
		"failures/f1.md":    strings.Replace(failureNote, "Lock: held", "Lock edited", 1),
		"failures/a.b/d.md": strings.Replace(failureNote, "Lock: held", "Lock abd", 1),
	})
	paths := []string{"failures/a-b.md", "failures/a/c.md", "failures/f1.md", "failures/a.b/d.md"}
	for _, rel := range paths {
		aged(t, root, rel) // else the ledger keeps them to be read again
	}
	if _, err := ix.Sync(ctx, paths); err != nil {
		t.Fatal(err)
	}
	if l := full(t, ix); l.fromSnapshot {
		t.Fatal("the snapshot is used after a watched write")
	}
	if more, err := ix.Upkeep(ctx); err != nil || more {
		t.Fatalf("Upkeep: more %v, %v", more, err)
	}
	l := full(t, ix)
	if !l.fromSnapshot || !sameLedger(l.entries, sqlLedger(t, ix)) {
		t.Fatalf("after Upkeep: from snapshot %v, same as SQL %v; want both", l.fromSnapshot, sameLedger(l.entries, sqlLedger(t, ix)))
	}
	files, unreadable, err := ix.walkTree("")
	if err != nil || !l.unchangedWalk(files, unreadable) {
		t.Fatalf("the walk against the rewritten snapshot is not seen as unchanged (%v)", err)
	}
	if res := scan(t, ix); res.Added+res.Updated+res.Removed != 0 || res.Unchanged != 10 {
		t.Errorf("scan with the rewritten snapshot: %+v, want a no-op of 10 files", res)
	}
	snap := filepath.Join(root, "memory", snapshotName)
	before, err := os.Stat(snap)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Upkeep(ctx); err != nil {
		t.Fatal(err)
	}
	ix.bg.Wait()
	if after, err := os.Stat(snap); err != nil || !os.SameFile(before, after) {
		t.Errorf("an Upkeep with the snapshot current rewrote it (%v)", err)
	}
}
