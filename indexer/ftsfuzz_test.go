package indexer

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// ftsExact checks that the full-text index holds exactly the texts of the
// search_docs rows at or below fts_upto: FTS5's integrity check against
// the content table (rank 1), run with nothing pending.
func ftsExact(t *testing.T, db *sql.DB, when string) {
	t.Helper()
	if _, err := db.Exec(`INSERT INTO search (search, rank) VALUES ('integrity-check', 1)`); err != nil {
		t.Fatalf("%s: full-text integrity check against search_docs: %v", when, err)
	}
}

// The model of one random tree: notes (one record each, moving between
// tables with their type) and domain files (a record per section).
type fuzzTree struct {
	notes   map[string]fuzzNote       // rel -> note
	domains map[string]map[int]string // rel -> section id -> token
	nextSec int                       // section ids count down: never an autoincrement id
	retired []string                  // tokens no record holds any more
}

type fuzzNote struct {
	typ, tok string
}

func (n fuzzNote) text(rel string) string {
	return "---\ntype: " + n.typ + "\ntitle: Note " + filepath.Base(rel) + "\n---\n\nThe " + n.tok + " body, shared words.\n"
}

func domainText(domain string, secs map[int]string) string {
	var b strings.Builder
	b.WriteString("# Heuristics: " + domain + "\n\nGenerated from failures, successes, and observations in the **" + domain + "** domain.\n\n---\n\n")
	ids := slices.Sorted(maps.Keys(secs))
	for _, id := range ids {
		b.WriteString(sectionText(fmt.Sprint(id), "Use "+secs[id]+" always"))
	}
	return b.String()
}

// live maps every token a record holds to its key.
func (f *fuzzTree) live() map[string]string {
	m := map[string]string{}
	for rel, n := range f.notes {
		m[n.tok] = "memory/" + rel
	}
	for rel, secs := range f.domains {
		for id, tok := range secs {
			m[tok] = fmt.Sprintf("memory/%s#H-%d", rel, id)
		}
	}
	return m
}

// Many scans of random edits, additions, removals and table moves of notes
// and domain-file sections, some small writes, some large (deferred) ones,
// some with the new texts split over several statements, interleaved with
// interrupted builds: after each, FTS5 holds exactly search_docs, every
// record's text is found under its key and no old text is found.
func TestFullTextRandomScans(t *testing.T) {
	seed := uint64(1)
	if s := os.Getenv("ELFSYNC_FUZZ_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	rounds := 60
	if testing.Short() {
		rounds = 25
	}
	r := rand.New(rand.NewPCG(seed, seed*7+1))
	oldDefer, oldRows := deferAbove, ftsRows
	t.Cleanup(func() { deferAbove, ftsRows = oldDefer, oldRows })

	root := t.TempDir()
	f := &fuzzTree{notes: map[string]fuzzNote{}, domains: map[string]map[int]string{}, nextSec: 5000}
	types := []string{"failure", "success", "observation", "heuristic", "decision"}
	tokN := 0
	tok := func() string { tokN++; return fmt.Sprintf("tok%dz", tokN) }
	dirs := []string{"failures", "successes", "observations"}
	writeNote := func(rel string) {
		writeTree(t, root, map[string]string{rel: f.notes[rel].text(rel)})
	}
	writeDomain := func(rel string) {
		d := strings.TrimSuffix(filepath.Base(rel), ".md")
		writeTree(t, root, map[string]string{rel: domainText(d, f.domains[rel])})
	}
	newNote := func() {
		rel := fmt.Sprintf("%s/n%d.md", dirs[r.IntN(len(dirs))], tokN+1)
		f.notes[rel] = fuzzNote{types[r.IntN(len(types))], tok()}
		writeNote(rel)
	}
	newSection := func(rel string) {
		f.nextSec--
		f.domains[rel][f.nextSec] = tok()
	}
	for range 40 {
		newNote()
	}
	for _, d := range []string{"git", "go", "sql"} {
		rel := "heuristics/" + d + ".md"
		f.domains[rel] = map[int]string{}
		for range 3 {
			newSection(rel)
		}
		writeDomain(rel)
	}
	ix := openQuickGrace(t, root)
	scan(t, ix)
	db := rw(t, root)

	check := func(when string) {
		t.Helper()
		ftsIntact(t, db, when)
		if n := pendingSearch(t, db); n != 0 {
			t.Fatalf("%s: %d records not searchable", when, n)
		}
		ftsExact(t, db, when)
		for tk, key := range f.live() {
			got := ranked(t, db, tk)
			if len(got) != 1 || got[0] != key {
				t.Fatalf("%s: %s finds %v, want %s", when, tk, got, key)
			}
		}
		for _, tk := range f.retired {
			if got := ranked(t, db, tk); len(got) != 0 {
				t.Fatalf("%s: old text %s still finds %v", when, tk, got)
			}
		}
		if n := count(t, db, `SELECT count(*) FROM search_docs d WHERE NOT EXISTS (
			SELECT 1 FROM learnings r WHERE d.tbl = 'learnings' AND r.id = d.row_id AND r.elf_key = d.elf_key
			UNION ALL SELECT 1 FROM heuristics r WHERE d.tbl = 'heuristics' AND r.id = d.row_id AND r.elf_key = d.elf_key
			UNION ALL SELECT 1 FROM decisions r WHERE d.tbl = 'decisions' AND r.id = d.row_id AND r.elf_key = d.elf_key)`); n != 0 {
			t.Fatalf("%s: %d search_docs rows name no record row", when, n)
		}
		if got, want := count(t, db, `SELECT count(*) FROM search_docs`), len(f.live()); got != want {
			t.Fatalf("%s: %d search_docs rows, want %d", when, got, want)
		}
	}
	check("cold")

	for round := range rounds {
		var did []string
		if r.IntN(5) == 0 {
			// A framework tool edits or deletes sections' rows; write-back
			// puts that into the files and indexes them.
			drels := slices.Sorted(maps.Keys(f.domains))
			rel := drels[r.IntN(len(drels))]
			secs := f.domains[rel]
			ids := slices.Sorted(maps.Keys(secs))
			id := ids[r.IntN(len(ids))]
			f.retired = append(f.retired, secs[id])
			if r.IntN(3) == 0 && len(ids) > 1 {
				delete(secs, id)
				exec1(t, db, `DELETE FROM heuristics WHERE id = ?`, id)
			} else {
				secs[id] = tok()
				exec1(t, db, `UPDATE heuristics SET rule = ? WHERE id = ?`, "Use "+secs[id]+" always", id)
			}
			time.Sleep(2 * time.Millisecond)
			if _, err := ix.WriteBack(context.Background(), "h-test0001"); err != nil {
				t.Fatalf("round %d: write-back: %v", round, err)
			}
			if !strings.Contains(readFile(t, root, rel), "H-"+fmt.Sprint(id)) == (secs[id] != "") {
				t.Fatalf("round %d: write-back of H-%d: %s", round, id, readFile(t, root, rel))
			}
			check(fmt.Sprintf("seed %d round %d: write-back of %s H-%d", seed, round, rel, id))
		}
		nEdits := 1 + r.IntN(12)
		for range nEdits {
			rels := slices.Sorted(maps.Keys(f.notes))
			drels := slices.Sorted(maps.Keys(f.domains))
			switch k := r.IntN(10); {
			case k < 3 && len(rels) > 0: // new text
				rel := rels[r.IntN(len(rels))]
				n := f.notes[rel]
				f.retired = append(f.retired, n.tok)
				n.tok = tok()
				f.notes[rel] = n
				writeNote(rel)
				did = append(did, "edit "+rel)
			case k == 3 && len(rels) > 0: // another table, maybe another text
				rel := rels[r.IntN(len(rels))]
				n := f.notes[rel]
				n.typ = types[r.IntN(len(types))]
				if r.IntN(2) == 0 {
					f.retired = append(f.retired, n.tok)
					n.tok = tok()
				}
				f.notes[rel] = n
				writeNote(rel)
				did = append(did, "retype "+rel+" "+n.typ)
			case k == 4 && len(rels) > 0: // removed
				rel := rels[r.IntN(len(rels))]
				f.retired = append(f.retired, f.notes[rel].tok)
				delete(f.notes, rel)
				if err := os.Remove(filepath.Join(root, MemoryDir, rel)); err != nil {
					t.Fatal(err)
				}
				did = append(did, "remove "+rel)
			case k == 5: // new note
				newNote()
				did = append(did, "new note")
			case k >= 6 && len(drels) > 0: // a domain file's sections
				rel := drels[r.IntN(len(drels))]
				secs := f.domains[rel]
				ids := slices.Sorted(maps.Keys(secs))
				switch j := r.IntN(4); {
				case j == 0 && len(ids) > 1:
					id := ids[r.IntN(len(ids))]
					f.retired = append(f.retired, secs[id])
					delete(secs, id)
				case j == 1 && len(ids) > 0:
					id := ids[r.IntN(len(ids))]
					f.retired = append(f.retired, secs[id])
					secs[id] = tok()
				default:
					newSection(rel)
				}
				writeDomain(rel)
				did = append(did, "sections "+rel)
			}
		}
		large := r.IntN(4) == 0
		if large {
			deferAbove = 0
		} else {
			deferAbove = oldDefer
		}
		ftsRows = []int{1, 2, 3, 2000, 2000}[r.IntN(5)]
		if r.IntN(3) == 0 {
			// An interrupted build: the entries of the rows above mid are
			// gone and fts_upto is mid.
			var mid int64
			if err := db.QueryRow(`SELECT id FROM search_docs ORDER BY random() LIMIT 1`).Scan(&mid); err != nil {
				t.Fatal(err)
			}
			cutBuild(t, db, mid)
			did = append(did, fmt.Sprint("interrupted at ", mid))
		}
		if r.IntN(6) == 0 {
			ix.Close()
			ix = openQuickGrace(t, root)
			did = append(did, "reopened")
		}
		if _, err := ix.Scan(context.Background(), nil); err != nil {
			t.Fatalf("round %d (%v): %v", round, did, err)
		}
		check(fmt.Sprintf("seed %d round %d large=%v ftsRows=%d %v", seed, round, large, ftsRows, did))
	}
	// An older SQLite (Python's) reads the index and writes through the
	// triggers, as a framework tool or an older elfsync would.
	py, err := exec.LookPath("python3")
	if err != nil {
		return
	}
	ix.Close()
	out, err := exec.Command(py, "-c", `import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("INSERT INTO search (search) VALUES ('integrity-check')")
ids = [r[0] for r in c.execute("SELECT id FROM search_docs ORDER BY id")]
c.execute("DELETE FROM search_docs WHERE id = ?", (ids[0],))
c.execute("UPDATE search_docs SET body = 'pyword' WHERE id = ?", (ids[len(ids)//2],))
c.commit()
c.execute("INSERT INTO search (search) VALUES ('integrity-check')")
print(sqlite3.sqlite_version, len(c.execute("SELECT rowid FROM search WHERE search MATCH 'pyword'").fetchall()))`, filepath.Join(root, MemoryDir, DBName)).CombinedOutput()
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(out)), " 1") {
		t.Fatalf("python: %v %s", err, out)
	}
	t.Logf("python sqlite %s", out)
	ftsExact(t, db, "after python")
}

// A small write of as many files as one takes, one a domain file of many
// sections: more new texts than one statement takes (ftsRows), and more
// VALUES rows than SQLite's compound-select limit of 500.
func TestFullTextLargestSmallWrite(t *testing.T) {
	root := t.TempDir()
	build := func(word string) map[string]string {
		files := map[string]string{}
		for i := range deferAbove - 1 {
			files[fmt.Sprintf("failures/n%d.md", i)] = searchNote(i, word)
		}
		var b strings.Builder
		b.WriteString(domainFile)
		for i := range 1200 {
			b.WriteString(sectionText(fmt.Sprint(5000+i), "Use "+word+" always"))
		}
		files["heuristics/git.md"] = b.String()
		return files
	}
	writeTree(t, root, build("alpha"))
	ix := openIndex(t, root)
	scan(t, ix)
	db := rw(t, root)
	ftsExact(t, db, "cold")
	if n := count(t, db, `SELECT count(*) FROM search WHERE search MATCH 'alpha'`); n != deferAbove-1+1200 {
		t.Errorf("cold: %d matches of alpha", n)
	}
	writeTree(t, root, build("bravo"))
	scan(t, ix)
	ftsExact(t, db, "all changed")
	if n := count(t, db, `SELECT count(*) FROM search WHERE search MATCH 'alpha'`); n != 0 {
		t.Errorf("all changed: %d matches of alpha", n)
	}
	if n := count(t, db, `SELECT count(*) FROM search WHERE search MATCH 'bravo'`); n != deferAbove-1+1200 {
		t.Errorf("all changed: %d matches of bravo", n)
	}
}
