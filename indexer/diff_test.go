package indexer

import (
	"math/rand/v2"
	"path"
	"reflect"
	"slices"
	"testing"
)

// TestDiff pins what a reconcile decides from the walk and the ledger
// alone, before any file is read.
func TestDiff(t *testing.T) {
	type ledgerRow struct {
		size, mtime int64
		tbl         string
		hash        string
	}
	type want struct {
		unchanged int
		read      []string // candidates, in walk order
		newFiles  []string // candidates the ledger does not know
		lost      []string // candidates read again because their rows were lost
		gone      []string
		kept      []string
		needHash  []string
	}
	cases := []struct {
		name       string
		files      []walked
		unreadable []string
		ledger     map[string]ledgerRow
		reread     []string
		want       want
	}{
		{
			name:   "unchanged",
			files:  []walked{{"failures/a.md", 10, 100}},
			ledger: map[string]ledgerRow{"failures/a.md": {10, 100, "learnings", ""}},
			want:   want{unchanged: 1},
		},
		{
			name:  "new",
			files: []walked{{"failures/a.md", 10, 100}, {"failures/b.md", 5, 50}},
			ledger: map[string]ledgerRow{
				"failures/a.md": {10, 100, "learnings", ""},
			},
			want: want{unchanged: 1, read: []string{"failures/b.md"}, newFiles: []string{"failures/b.md"}},
		},
		{
			name:  "size and mtime changes",
			files: []walked{{"a.md", 11, 100}, {"b.md", 10, 101}, {"c.md", 10, 100}},
			ledger: map[string]ledgerRow{
				"a.md": {10, 100, "learnings", ""},
				"b.md": {10, 100, "learnings", ""},
				"c.md": {10, 100, "", ""}, // invalid file, unchanged
			},
			want: want{unchanged: 1, read: []string{"a.md", "b.md"}, needHash: []string{"a.md", "b.md"}},
		},
		{
			// A file read within the racy window was stored with mtime 0:
			// whatever its mtime now, it is hashed again.
			name:   "racy mtime",
			files:  []walked{{"a.md", 10, 100}},
			ledger: map[string]ledgerRow{"a.md": {10, 0, "learnings", ""}},
			want:   want{read: []string{"a.md"}, needHash: []string{"a.md"}},
		},
		{
			name:  "vanished",
			files: []walked{{"a.md", 10, 100}},
			ledger: map[string]ledgerRow{
				"a.md":          {10, 100, "learnings", ""},
				"failures/z.md": {1, 1, "learnings", ""},
				"failures/y.md": {1, 1, "", ""}, // no row: no hash needed
			},
			want: want{unchanged: 1, gone: []string{"failures/y.md", "failures/z.md"}, needHash: []string{"failures/z.md"}},
		},
		{
			// The one branch that prevents data loss: what the walk could
			// not read is not deleted.
			name:       "vanished under an unreadable directory",
			files:      []walked{{"a.md", 10, 100}},
			unreadable: []string{"failures", "heuristics/x.md"},
			ledger: map[string]ledgerRow{
				"a.md":             {10, 100, "learnings", ""},
				"failures/z.md":    {1, 1, "learnings", ""},
				"failures/d/y.md":  {1, 1, "learnings", ""},
				"failures2/w.md":   {1, 1, "learnings", ""}, // a sibling, not under
				"heuristics/x.md":  {1, 1, "heuristics", ""},
				"heuristics/x2.md": {1, 1, "heuristics", ""},
			},
			want: want{
				unchanged: 1,
				gone:      []string{"failures2/w.md", "heuristics/x2.md"},
				kept:      []string{"failures/d/y.md", "failures/z.md", "heuristics/x.md"},
				needHash:  []string{"failures2/w.md", "heuristics/x2.md"},
			},
		},
		{
			name:       "unreadable top keeps everything",
			unreadable: []string{""},
			ledger:     map[string]ledgerRow{"a.md": {1, 1, "learnings", ""}, "b/c.md": {1, 1, "", ""}},
			want:       want{kept: []string{"a.md", "b/c.md"}},
		},
		{
			// A rename: the old path is gone and the new one is new. The
			// old entry's hash is loaded so that apply can see the new
			// file holds the same content and move the row.
			name:   "rename",
			files:  []walked{{"failures/new.md", 10, 200}},
			ledger: map[string]ledgerRow{"failures/old.md": {10, 100, "learnings", ""}},
			want: want{
				read: []string{"failures/new.md"}, newFiles: []string{"failures/new.md"},
				gone: []string{"failures/old.md"}, needHash: []string{"failures/old.md"},
			},
		},
		{
			// A hash already known is not loaded again.
			name:   "move with hash known",
			files:  []walked{{"b.md", 10, 200}},
			ledger: map[string]ledgerRow{"a.md": {10, 100, "learnings", "abc"}},
			want:   want{read: []string{"b.md"}, newFiles: []string{"b.md"}, gone: []string{"a.md"}},
		},
		{
			// Rows deleted behind elfsync's back (or written by another
			// tool for a file): the file is read again though its size and
			// mtime match; a reread path that is not on disk is gone.
			name:  "rows lost behind elfsync's back",
			files: []walked{{"a.md", 10, 100}, {"b.md", 10, 100}, {"heuristics/git.md", 30, 300}},
			ledger: map[string]ledgerRow{
				"a.md":              {10, 100, "learnings", ""},
				"b.md":              {10, 100, "learnings", ""},
				"c.md":              {10, 100, "learnings", ""},
				"heuristics/git.md": {30, 300, "heuristics", ""}, // a domain file: its sections are rows
			},
			reread: []string{"a.md", "c.md", "heuristics/git.md", "not-in-ledger.md"},
			want: want{
				unchanged: 1,
				read:      []string{"a.md", "heuristics/git.md"},
				lost:      []string{"a.md", "heuristics/git.md"},
				gone:      []string{"c.md"},
				needHash:  []string{"a.md", "heuristics/git.md", "c.md"},
			},
		},
		{
			name: "empty",
			want: want{},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ledger := make(map[string]*entry, len(tc.ledger))
			names := make(map[*entry]string)
			for rel, r := range tc.ledger {
				e := &entry{size: r.size, mtime: r.mtime, tbl: r.tbl, hash: r.hash}
				ledger[rel] = e
				names[e] = rel
			}
			d := diff(tc.files, tc.unreadable, ledger, tc.reread)
			var got want
			got.unchanged = d.unchanged
			for _, c := range d.cands {
				got.read = append(got.read, c.rel)
				if c.old == nil {
					got.newFiles = append(got.newFiles, c.rel)
				} else if c.old != ledger[c.rel] {
					t.Errorf("candidate %s: old entry is not its ledger entry", c.rel)
				}
				if c.old != nil && c.old.lost {
					got.lost = append(got.lost, c.rel)
					if c.old.mtime != -1 {
						t.Errorf("lost %s: ledger mtime %d, want -1 (never trusted)", c.rel, c.old.mtime)
					}
				}
				if c.force {
					t.Errorf("candidate %s forced: only watcher hints force a read", c.rel)
				}
			}
			got.gone, got.kept = d.gone, d.kept
			for _, e := range d.needHash {
				got.needHash = append(got.needHash, names[e])
			}
			check := func(what string, g, w []string) {
				if !slices.Equal(g, w) {
					t.Errorf("%s = %q, want %q", what, g, w)
				}
			}
			if got.unchanged != tc.want.unchanged {
				t.Errorf("unchanged = %d, want %d", got.unchanged, tc.want.unchanged)
			}
			check("read", got.read, tc.want.read)
			check("new", got.newFiles, tc.want.newFiles)
			check("lost", got.lost, tc.want.lost)
			check("gone", got.gone, tc.want.gone)
			check("kept", got.kept, tc.want.kept)
			check("needHash", got.needHash, tc.want.needHash)
			// Every ledger path is accounted for exactly once.
			n := d.unchanged + len(d.gone) + len(d.kept)
			for _, c := range d.cands {
				if c.old != nil {
					n++
				}
			}
			if n != len(ledger) {
				t.Errorf("%d ledger entries accounted for, want %d", n, len(ledger))
			}
		})
	}
}

// TestDiffSortedSameAsDiff checks the merge diff against the map diff on
// random ledgers and walks: new, changed, unchanged, gone and kept
// (under an unreadable directory) files, in walk order.
func TestDiffSortedSameAsDiff(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	names := []string{"a", "a-b", "a.md", "b", "b/c", "x y", "z", "ä"}
	for round := 0; round < 300; round++ {
		// A universe of paths, some in the ledger, some on disk.
		seen := map[string]bool{}
		var all []string
		for k := 0; k < 1+r.IntN(40); k++ {
			p := names[r.IntN(len(names))]
			for d := r.IntN(3); d > 0; d-- {
				p += "/" + names[r.IntN(len(names))]
			}
			p += ".md"
			if !seen[p] {
				seen[p] = true
				all = append(all, p)
			}
		}
		slices.SortFunc(all, cmpWalkOrder)
		var sorted []relEntry
		var files []walked
		for k, p := range all {
			inLedger, onDisk := r.IntN(4) > 0, r.IntN(4) > 0
			if inLedger {
				sorted = append(sorted, relEntry{rel: p, entry: entry{id: int64(k + 1), size: int64(k), mtime: 7, tbl: []string{"", "learnings"}[r.IntN(2)]}})
			}
			if onDisk {
				size := int64(k)
				if r.IntN(3) == 0 {
					size++ // changed
				}
				mtime := int64(7)
				if r.IntN(4) == 0 {
					mtime = 8 // touched
				}
				files = append(files, walked{rel: p, size: size, mtime: mtime})
			}
		}
		var unreadable []string
		if r.IntN(3) == 0 && len(all) > 0 {
			unreadable = []string{path.Dir(all[r.IntN(len(all))])}
		}
		want := diff(files, unreadable, (&fullLedger{sorted: sorted}).byPath(), nil)
		got, missing, ok := diffSorted(files, unreadable, sorted)
		if !ok {
			t.Fatalf("round %d: walk order refused: %v", round, files)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d:\nmerge %+v\nmap   %+v", round, got, want)
		}
		for _, rel := range want.gone {
			if missing[rel] == nil {
				t.Fatalf("round %d: gone %s not among the missing entries", round, rel)
			}
		}
	}
	// Not in walk order: refused, so the caller falls back to diff.
	if _, _, ok := diffSorted([]walked{{rel: "b.md"}, {rel: "a.md"}}, nil, nil); ok {
		t.Error("a walk out of order was merged")
	}
}
