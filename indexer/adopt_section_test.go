package indexer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A framework domain file's section without a usable id ("## H-0: rule",
// which the framework's older scripts wrote when they lost the id, or a
// number too large to be one) that the adoption matched to its old row
// by its rule gets the row's id in its heading, and only that line
// changes: a rebuild from the files (index.db deleted, scan) then gives
// the row the same id, which the framework's tables refer to.
func TestAdoptRenumbersSectionWithoutID(t *testing.T) {
	const src = "../testdata/elf-legacy"
	const gitMD, sqliteMD = "heuristics/git.md", "heuristics/sqlite.md"
	// The reference: the fixture as it is, adopted.
	ref := t.TempDir()
	copyDir(t, src, ref)
	scan(t, openIndex(t, ref))

	root := t.TempDir()
	copyDir(t, src, root)
	edits := map[string][2]string{
		gitMD:    {"## H-2: Batch commits", "## H-0: Batch commits"},
		sqliteMD: {"## H-3: Set busy_timeout", "## H-99999999999999999999: Set busy_timeout"},
	}
	for rel, e := range edits {
		p := filepath.Join(root, MemoryDir, filepath.FromSlash(rel))
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), e[0]) {
			t.Fatalf("%s lacks %q", rel, e[0])
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(data), e[0], e[1], 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dbPath := filepath.Join(root, MemoryDir, DBName)
	ix := openIndex(t, root)
	scan(t, ix)
	// Each file is the reference's, byte for byte: the heading says the
	// row's id again, nothing else differs.
	for rel := range edits {
		if got, want := readFile(t, root, rel), readFile(t, ref, rel); got != want {
			t.Errorf("%s after adoption:\n%s\nwant:\n%s", rel, got, want)
		}
	}
	ids := func() map[string]int64 {
		r := reader(t, root)
		defer r.Close()
		out := map[string]int64{}
		rows, err := r.Query(`SELECT elf_key, id FROM heuristics`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var id int64
			if err := rows.Scan(&k, &id); err != nil {
				t.Fatal(err)
			}
			out[k] = id
		}
		return out
	}
	want := map[string]int64{"memory/" + gitMD + "#H-1": 1, "memory/" + gitMD + "#H-2": 2, "memory/" + sqliteMD + "#H-3": 3}
	check := func(when string) {
		t.Helper()
		got := ids()
		for k, id := range want {
			if got[k] != id {
				t.Errorf("%s: %s has id %d, want %d (all: %v)", when, k, got[k], id, got)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: rows %v, want %v", when, got, want)
		}
	}
	check("adopted")
	if res := scan(t, ix); res.Added+res.Updated+res.Removed != 0 {
		t.Errorf("second scan = %+v, want a no-op", res)
	}
	ix.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(dbPath + suffix)
	}
	ix = openIndex(t, root)
	scan(t, ix)
	check("rebuilt")
	r := reader(t, root)
	if n := count(t, r, `SELECT count(*) FROM heuristics WHERE id = 2 AND times_validated = 3 AND rule = 'Batch commits instead of one per record'`); n != 1 {
		t.Error("rebuilt: heuristic 2 lost its values")
	}
}

// The framework's older scripts INSERT a heuristic, then append its
// section as "## H-0: rule" (they lost the id). The section claims the
// row by its rule, and the row's id goes into its heading; a section
// without a number that no row waited for (elfsync gave it a row) is
// renumbered with it, so no key shifts. A rebuild keeps every id.
func TestOldScriptSectionsGetTheirIDs(t *testing.T) {
	root := t.TempDir()
	const rel = "heuristics/git.md"
	head := domainFile + sectionText("0", "Keep the index small")
	writeTree(t, root, map[string]string{rel: head})
	ix := openIndex(t, root)
	scan(t, ix)
	r := reader(t, root)
	var own int64
	if err := r.QueryRow(`SELECT id FROM heuristics WHERE rule = 'Keep the index small'`).Scan(&own); err != nil {
		t.Fatal(err)
	}
	db := rw(t, root)
	var ids []int64
	rules := []string{"Rebase before you push", "Sign your tags"}
	for _, rule := range rules {
		ids = append(ids, exec1(t, db, `INSERT INTO heuristics (domain, rule, explanation, source_type, confidence, times_validated, times_violated, is_golden, created_at, updated_at)
			VALUES ('git', ?, 'Because.', 'observation', 0.7, 2, 0, 0, '2026-11-27 10:00:00', '2026-11-27 10:00:00')`, rule))
	}
	writeTree(t, root, map[string]string{rel: head + sectionText("0", rules[0]) + sectionText("0", rules[1])})
	scan(t, ix)
	want := domainFile + sectionText(itoa(own), "Keep the index small") +
		strings.Replace(sectionText(itoa(ids[0]), rules[0]), "**Created**: 2026-11-27\n", "**Created**: 2026-11-27\n**Validated**: 2\n", 1) +
		strings.Replace(sectionText(itoa(ids[1]), rules[1]), "**Created**: 2026-11-27\n", "**Created**: 2026-11-27\n**Validated**: 2\n", 1)
	if got := readFile(t, root, rel); got != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}
	keys := map[int64]string{own: "Keep the index small", ids[0]: rules[0], ids[1]: rules[1]}
	check := func(when string) {
		t.Helper()
		r := reader(t, root)
		for id, rule := range keys {
			if n := count(t, r, `SELECT count(*) FROM heuristics WHERE id = ? AND rule = ? AND elf_key = ?`, id, rule, "memory/"+rel+"#H-"+itoa(id)); n != 1 {
				t.Errorf("%s: no row %d for %q keyed by its id", when, id, rule)
			}
		}
		if n := count(t, r, `SELECT count(*) FROM heuristics`); n != len(keys) {
			t.Errorf("%s: %d heuristics, want %d", when, n, len(keys))
		}
		// Full text follows the new keys: each found once.
		for _, word := range []string{"small", "rebase", "tags"} {
			if n := count(t, r, `SELECT count(*) FROM search WHERE search MATCH ?`, word); n != 1 {
				t.Errorf("%s: %q found %d times, want 1", when, word, n)
			}
		}
	}
	check("claimed")
	if res := scan(t, ix); res.Added+res.Updated+res.Removed != 0 {
		t.Errorf("scan after = %+v, want a no-op", res)
	}
	ix.Close()
	dbPath := filepath.Join(root, MemoryDir, DBName)
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(dbPath + suffix)
	}
	ix = openIndex(t, root)
	scan(t, ix)
	check("rebuilt")
}

// Write-back into the second of two numberless sections (key
// "<file>#H-0~2") edits that section, not the first; its deletion
// removes that one.
func TestWriteBackRepeatedSectionNumber(t *testing.T) {
	root := t.TempDir()
	const rel = "heuristics/git.md"
	a, b := sectionText("0", "Keep the index small"), sectionText("0", "Sign your tags")
	writeTree(t, root, map[string]string{rel: domainFile + a + b})
	ix := openQuickGrace(t, root)
	scan(t, ix)
	r := reader(t, root)
	var id int64
	if err := r.QueryRow(`SELECT id FROM heuristics WHERE elf_key = ?`, "memory/"+rel+"#H-0~2").Scan(&id); err != nil {
		t.Fatal(err)
	}
	db := rw(t, root)
	exec1(t, db, `UPDATE heuristics SET rule = 'Sign every tag', confidence = 0.9 WHERE id = ?`, id)
	writeBack(t, ix)
	want := domainFile + a + strings.Replace(strings.Replace(b, "Sign your tags", "Sign every tag", 1), "**Confidence**: 0.7", "**Confidence**: 0.9", 1)
	if got := readFile(t, root, rel); got != want {
		t.Errorf("after the UPDATE:\n%s\nwant:\n%s", got, want)
	}
	scan(t, ix)
	if n := count(t, r, `SELECT count(*) FROM heuristics WHERE id = ? AND rule = 'Sign every tag'`, id); n != 1 {
		t.Errorf("row %d lost its edit", id)
	}
	exec1(t, db, `DELETE FROM heuristics WHERE id = ?`, id)
	writeBack(t, ix)
	// (RemoveSection leaves the file ending in the line before the
	// section's heading, without its newline.)
	if got := readFile(t, root, rel); strings.TrimRight(got, "\n") != strings.TrimRight(domainFile+a, "\n") {
		t.Errorf("after the DELETE:\n%s\nwant:\n%s", got, domainFile+a)
	}
}
