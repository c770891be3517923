package indexer

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// ftsSegment is one segment of the full-text index's structure.
type ftsSegment struct{ level, id, pages int }

// ftsStructure decodes the FTS5 structure record of the search table
// (search_data row 10): every segment, by level.
func ftsStructure(t *testing.T, db *sql.DB) []ftsSegment {
	t.Helper()
	var b []byte
	if err := db.QueryRow(`SELECT block FROM search_data WHERE id = 10`).Scan(&b); err != nil {
		t.Fatal(err)
	}
	i := 4 // the cookie
	v := func() int {
		// SQLite varints: big-endian, 7 bits a byte, the 9th byte whole.
		var r uint64
		for k := 0; k < 9; k++ {
			c := b[i]
			i++
			if k == 8 {
				return int(r<<8 | uint64(c))
			}
			r = r<<7 | uint64(c&0x7f)
			if c&0x80 == 0 {
				break
			}
		}
		return int(r)
	}
	v2 := len(b) >= i+4 && string(b[i:i+4]) == "\xff\x00\x00\x01"
	if v2 {
		i += 4
	}
	nLevel, _, _ := v(), v(), v()
	if v2 {
		v()
	}
	var segs []ftsSegment
	for l := range nLevel {
		v() // nMerge
		n := v()
		for range n {
			id, first, last := v(), v(), v()
			if v2 {
				v()
				v()
				v()
				v()
				v()
			}
			segs = append(segs, ftsSegment{l, id, last - first + 1})
		}
	}
	return segs
}

// smallBuilds makes, for the test, every write of more than 10 records a
// large build, FTS5 write a segment every hash bytes of entries, and a
// merge step at most pages pages.
func smallBuilds(t *testing.T, hash, pages int) {
	old := [...]int{deferAbove, ftsHashSize, ftsMergePages}
	deferAbove, ftsHashSize, ftsMergePages = 10, hash, pages
	t.Cleanup(func() { deferAbove, ftsHashSize, ftsMergePages = old[0], old[1], old[2] })
}

// spreadWords gives note i twelve words, each shared with few others.
func spreadWords(i int) string {
	var w strings.Builder
	for j := range 12 {
		w.WriteString(" w" + strconv.Itoa(i*7+j*131))
	}
	return w.String()
}

func searchConfig(t *testing.T, db *sql.DB, k string) int {
	t.Helper()
	var v int
	if err := db.QueryRow(`SELECT v FROM search_config WHERE k = ?`, k).Scan(&v); err != nil {
		t.Fatalf("search_config %s: %v", k, err)
	}
	return v
}

// After a large build, the merges of its segments go a bounded step per
// small write: no write merges them all at once (with FTS5's crisismerge
// the third edit after a cold scan of 20k notes rewrote all ~9,300 pages
// of the build's segments, 0.6 s). A crash during the build leaves its
// crisismerge behind; the next scan sets it back.
func TestFullTextMergesInSteps(t *testing.T) {
	smallBuilds(t, 16<<10, 3)
	root, ix, db := searchRoot(t, 600, spreadWords)
	if got := searchConfig(t, db, "crisismerge"); got != ftsCrisis {
		t.Errorf("crisismerge %d after the build, want %d", got, ftsCrisis)
	}
	if got := searchConfig(t, db, "usermerge"); got != ftsUserMerge {
		t.Errorf("usermerge %d after the build, want %d", got, ftsUserMerge)
	}
	built := 0
	for _, s := range ftsStructure(t, db) {
		built += s.pages
	}
	if segs := ftsStructure(t, db); len(segs) < 4 || built < 10*ftsMergePages {
		t.Fatalf("the build left %v: too few segments or pages for the test", segs)
	}

	// 40 single-file edits, each a small write.
	for e := range 40 {
		before := map[int]int{}
		for _, s := range ftsStructure(t, db) {
			before[s.id] = s.pages
		}
		rel := "failures/n" + strconv.Itoa(e) + ".md"
		writeTree(t, root, map[string]string{rel: searchNote(e, "edited x"+strconv.Itoa(e))})
		aged(t, root, rel)
		if res := scan(t, ix); res.Updated != 1 {
			t.Fatalf("edit %d: %+v", e, res)
		}
		// The pages this write added to segments: its own new segment
		// (one or two pages) and the merge step's output.
		written := 0
		after := ftsStructure(t, db)
		for _, s := range after {
			written += max(0, s.pages-before[s.id])
		}
		if written > ftsMergePages+4 {
			t.Fatalf("edit %d wrote %d pages of segments (the build's: %d), want at most %d: %v",
				e, written, built, ftsMergePages+4, after)
		}
	}
	ftsIntact(t, db, "after the edits")
	if n := count(t, db, `SELECT count(*) FROM search WHERE search MATCH 'edited'`); n != 40 {
		t.Errorf("%d matches of edited, want 40", n)
	}

	// A crash during a build leaves the build's crisismerge: the next
	// Open sets it back.
	ix.Close()
	exec1(t, db, `INSERT INTO search (search, rank) VALUES ('crisismerge', ?)`, ftsBuildCrisis)
	openIndex(t, root)
	if got := searchConfig(t, db, "crisismerge"); got != ftsCrisis {
		t.Errorf("crisismerge %d after an Open that followed a crash, want %d", got, ftsCrisis)
	}

	// A crash during a build that left entries pending: Open keeps the
	// build's settings, and a small write that indexes the rest puts the
	// small writes' back.
	ix = openIndex(t, root)
	exec1(t, db, `INSERT INTO search (search, rank) VALUES ('crisismerge', ?)`, ftsBuildCrisis)
	var mid int64
	if err := db.QueryRow(`SELECT id FROM search_docs ORDER BY id LIMIT 1 OFFSET 300`).Scan(&mid); err != nil {
		t.Fatal(err)
	}
	cutBuild(t, db, mid)
	ix.Close()
	ix = openIndex(t, root)
	if got := searchConfig(t, db, "crisismerge"); got != ftsBuildCrisis {
		t.Fatalf("crisismerge %d after an Open with entries pending, want the build's %d", got, ftsBuildCrisis)
	}
	writeTree(t, root, map[string]string{"failures/n1.md": searchNote(1, "edited again")})
	aged(t, root, "failures/n1.md")
	if res := scan(t, ix); res.Updated != 1 {
		t.Fatalf("edit after the crash: %+v", res)
	}
	if n := pendingSearch(t, db); n != 0 {
		t.Fatalf("%d records not searchable after the edit", n)
	}
	ftsIntact(t, db, "after the build's rest")
	if got := searchConfig(t, db, "crisismerge"); got != ftsCrisis {
		t.Errorf("crisismerge %d after a small write indexed a cut-short build's rest, want %d", got, ftsCrisis)
	}
}

// A small write leaves one new segment: its FTS5 deletes and inserts go
// in one statement. Written by the delete trigger and a later insert,
// they made two, as FTS5 writes out what it holds at every statement
// savepoint (the next multi-row statement's), so a level filled twice as
// fast and merged twice as often. Also when rows an interrupted build
// left above fts_upto are edited, deleted or just waiting.
func TestSmallWriteOneSegment(t *testing.T) {
	root, ix, db := searchRoot(t, 30, func(int) string { return "alpha bravo" })
	segs := func() map[int]bool {
		ids := map[int]bool{}
		for _, s := range ftsStructure(t, db) {
			ids[s.id] = true
		}
		return ids
	}
	edit := func(name string, change func()) {
		t.Helper()
		before := segs()
		change()
		scan(t, ix)
		var added []int
		for id := range segs() {
			if !before[id] {
				added = append(added, id)
			}
		}
		if len(added) != 1 {
			t.Errorf("%s: %d new segments %v, want 1: %v", name, len(added), added, ftsStructure(t, db))
		}
		ftsIntact(t, db, name)
		if n := pendingSearch(t, db); n != 0 {
			t.Errorf("%s: %d records not searchable", name, n)
		}
	}
	note := func(i int, words string) {
		rel := "failures/n" + strconv.Itoa(i) + ".md"
		writeTree(t, root, map[string]string{rel: searchNote(i, words)})
		aged(t, root, rel)
	}
	remove := func(i int) {
		if err := os.Remove(filepath.Join(root, MemoryDir, "failures", "n"+strconv.Itoa(i)+".md")); err != nil {
			t.Fatal(err)
		}
	}
	edit("one edit", func() { note(1, "charlie") })
	edit("edits, a new note and a removal", func() {
		note(2, "delta")
		note(3, "delta")
		note(40, "delta")
		remove(4)
	})
	// An interrupted build: the rows above fts_upto have no entries.
	var mid int64
	if err := db.QueryRow(`SELECT id FROM search_docs ORDER BY id LIMIT 1 OFFSET 15`).Scan(&mid); err != nil {
		t.Fatal(err)
	}
	cutBuild(t, db, mid)
	ftsIntact(t, db, "interrupted")
	// Untouched notes, with rows at or below fts_upto and above it.
	var below, above []int
	rows, err := db.Query(`SELECT CAST(substr(elf_key, length('memory/failures/n') + 1) AS INTEGER), id > ?
		FROM search_docs ORDER BY id`, mid)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var i int
		var isAbove bool
		if err := rows.Scan(&i, &isAbove); err != nil {
			t.Fatal(err)
		}
		switch {
		case i < 5 || i >= 30:
		case isAbove:
			above = append(above, i)
		default:
			below = append(below, i)
		}
	}
	rows.Close()
	if len(below) < 2 || len(above) < 2 {
		t.Fatalf("untouched notes %v at or below fts_upto, %v above, want 2 or more each", below, above)
	}
	edit("edits and removals below and above fts_upto", func() {
		note(below[0], "echo")
		remove(below[1])
		note(above[0], "echo")
		remove(above[1])
	})
	// More new texts than one statement takes: at most a segment a
	// statement.
	old := ftsRows
	ftsRows = 2
	t.Cleanup(func() { ftsRows = old })
	before := len(ftsStructure(t, db))
	for i := 41; i < 46; i++ {
		note(i, "foxtrot")
	}
	scan(t, ix)
	ftsIntact(t, db, "five new notes, two a statement")
	if n := pendingSearch(t, db); n != 0 {
		t.Errorf("five new notes, two a statement: %d records not searchable", n)
	}
	if got := len(ftsStructure(t, db)) - before; got < 1 || got > 3 {
		t.Errorf("five new notes, two a statement: %d new segments, want 1 to 3", got)
	}
	for w, n := range map[string]int{"alpha": 22, "charlie": 1, "delta": 3, "echo": 2, "foxtrot": 5} {
		if got := count(t, db, `SELECT count(*) FROM search WHERE search MATCH ?`, w); got != n {
			t.Errorf("%d matches of %s, want %d", got, w, n)
		}
	}
}

// A large build leaves its segments unmerged, up to ftsBuildCrisis a
// level, and Upkeep merges them a bounded step at a time until no
// level holds usermerge segments; then it reports nothing to do and
// changes nothing. Searches find the same before, during and after.
func TestUpkeepMergesWhatABuildLeft(t *testing.T) {
	smallBuilds(t, 32<<10, 5)
	_, ix, db := searchRoot(t, 1200, spreadWords)
	built := ftsStructure(t, db)
	for _, s := range built {
		if s.level != 0 {
			t.Fatalf("the build merged (a segment at level %d): %v", s.level, built)
		}
	}
	if len(built) <= ftsUserMerge || len(built) >= ftsBuildCrisis {
		t.Fatalf("the build left %d segments, want more than %d and fewer than %d for the test", len(built), ftsUserMerge, ftsBuildCrisis)
	}
	queries := []string{"w131", "w7 OR w262", "w1000*"}
	want := map[string][]string{}
	for _, q := range queries {
		if want[q] = ranked(t, db, q); len(want[q]) == 0 {
			t.Fatalf("%s matches nothing", q)
		}
	}
	ctx := context.Background()
	steps := 0
	for {
		before := map[int]int{}
		for _, s := range ftsStructure(t, db) {
			before[s.id] = s.pages
		}
		more, err := ix.Upkeep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !more {
			break
		}
		steps++
		if steps > 1000 {
			t.Fatal("Upkeep still merging after 1000 steps")
		}
		written := 0
		after := ftsStructure(t, db)
		for _, s := range after {
			written += max(0, s.pages-before[s.id])
		}
		if written > ftsMergePages+4 {
			t.Fatalf("step %d wrote %d pages, want at most %d: %v", steps, written, ftsMergePages+4, after)
		}
		if steps%25 == 1 {
			for _, q := range queries {
				if got := ranked(t, db, q); !slices.Equal(got, want[q]) {
					t.Fatalf("step %d: %s found %v, want %v", steps, q, got, want[q])
				}
			}
		}
	}
	if steps < 2 {
		t.Fatalf("merged in %d steps, want several of at most %d pages", steps, ftsMergePages)
	}
	merged := ftsStructure(t, db)
	perLevel := map[int]int{}
	for _, s := range merged {
		perLevel[s.level]++
	}
	for l, n := range perLevel {
		if n >= ftsUserMerge {
			t.Errorf("level %d holds %d segments after merging, want fewer than %d: %v", l, n, ftsUserMerge, merged)
		}
	}
	ftsIntact(t, db, "after merging")
	for _, q := range queries {
		if got := ranked(t, db, q); !slices.Equal(got, want[q]) {
			t.Errorf("after merging: %s found %v, want %v", q, got, want[q])
		}
	}
	if more, err := ix.Upkeep(ctx); err != nil || more {
		t.Fatalf("Upkeep with nothing to merge: more %v, %v", more, err)
	}
	if again := ftsStructure(t, db); !slices.Equal(again, merged) {
		t.Errorf("a step with nothing to merge changed the index: %v, was %v", again, merged)
	}
}

// A merge step checks the index file first, like every write: one
// deleted under the open connection is reopened rather than merged into,
// the step says so, and the next scan rebuilds it.
func TestUpkeepAfterTheIndexIsDeleted(t *testing.T) {
	root, ix, _ := searchRoot(t, 20, func(i int) string { return " word" + strconv.Itoa(i) })
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(filepath.Join(root, "memory", "index.db") + suffix); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	if _, err := ix.Upkeep(context.Background()); err == nil {
		t.Fatal("Upkeep on a deleted index: no error")
	}
	res := scan(t, ix)
	if !res.Rebuilt || res.Added != 20 {
		t.Fatalf("the scan after the step: %+v, want a rebuild adding 20", res)
	}
	db := rw(t, root)
	if n := count(t, db, `SELECT count(*) FROM search WHERE search MATCH 'word7'`); n != 1 {
		t.Errorf("%d matches of word7 after the rebuild, want 1", n)
	}
}
