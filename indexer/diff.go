package indexer

import (
	"sort"
	"strings"
	"sync/atomic"
)

// walked is one record file the walk found, with its Lstat size and mtime.
type walked struct {
	rel         string // memory-relative
	size, mtime int64
}

// delta is what a reconcile must do to bring the ledger in line with
// the walk: the outcome of diff, before any file is read.
type delta struct {
	// unchanged counts files whose size and mtime match their ledger entry.
	unchanged int
	// cands are the files to read: new ones (old is nil) and those whose
	// size or mtime differ or whose rows were lost (old.lost), in walk order.
	cands []candidate
	// gone are the ledger paths the walk did not find, sorted: their rows
	// and ledger entries are dropped (or moved, when a candidate turns out
	// to hold the same content).
	gone []string
	// kept are the ledger paths the walk did not find because they are in
	// (or are) a file or directory it could not read, sorted: their rows
	// stay.
	kept []string
	// needHash are the ledger entries whose content hash must be loaded
	// before apply: those of changed files (same content means only the
	// mtime moved) and those of gone files that had rows (a candidate with
	// the same hash is the same note moved).
	needHash []*entry
}

// diff compares the walk with the ledger. files is the walk's output,
// unreadable the paths it could not read (a directory's rows are kept,
// never taken for deleted: the one branch that prevents data loss), ledger
// the entries under the same prefix keyed by memory-relative path, and
// reread the paths whose rows were found lost or unclaimed behind
// elfsync's back: they are read again whatever their size and mtime say.
// diff marks those entries lost; it does no I/O.
func diff(files []walked, unreadable []string, ledger map[string]*entry, reread []string) delta {
	for _, rel := range reread {
		if e := ledger[rel]; e != nil {
			e.lost, e.mtime = true, -1
		}
	}
	var d delta
	// Entries found are marked with this call's own number, so no mark
	// of an earlier diff of the same entries needs clearing.
	mark := diffMarks.Add(1)
	for _, f := range files {
		e := ledger[f.rel]
		if e != nil {
			e.seen = mark
			if e.size == f.size && e.mtime == f.mtime {
				d.unchanged++
				continue
			}
			d.needHash = append(d.needHash, e)
		}
		d.cands = append(d.cands, candidate{rel: f.rel, old: e})
	}
	if d.unchanged == len(ledger) {
		return d // every entry was found unchanged: nothing is gone
	}
	for rel, e := range ledger {
		if e.seen == mark {
			continue
		}
		if under(rel, unreadable) {
			d.kept = append(d.kept, rel)
			continue
		}
		d.gone = append(d.gone, rel)
	}
	sort.Strings(d.gone)
	sort.Strings(d.kept)
	for _, rel := range d.gone {
		if e := ledger[rel]; e.tbl != "" && e.hash == "" {
			d.needHash = append(d.needHash, e)
		}
	}
	return d
}

// diffMarks numbers the calls of diff (and Check) for entry.seen.
var diffMarks atomic.Uint64

// under reports whether rel is one of dirs or inside one of them.
func under(rel string, dirs []string) bool {
	for _, d := range dirs {
		if d == "" || rel == d || strings.HasPrefix(rel, d+"/") {
			return true
		}
	}
	return false
}
