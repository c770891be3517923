package indexer

import (
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/layout"
)

// walkTree lists the record files under prefix (memory-relative, "" for
// all) with their Lstat size and mtime. Symbolic links are never followed
// and never indexed. Directories that could not be read are returned in
// unreadable, so the caller keeps their rows instead of dropping them; an
// error reading the top directory itself is returned as err.
//
// Files come in walk order: depth first, each directory's entries sorted by
// name (as filepath.WalkDir gives them). On a large tree the walk is mostly
// system calls (one getdents per directory, one fstatat per record file,
// relative to the open directory), so directories are read in parallel
// by max(Workers, 2) goroutines taking them from a stack; the tree of
// results is put back in walk order at the end.
func (ix *Index) walkTree(prefix string) (files []walked, unreadable []string, err error) {
	t, err := ix.walkTreeMatch(prefix, nil)
	return t.files, t.unreadable, err
}

// walkResult is what walkTreeMatch found.
type walkResult struct {
	files      []walked
	unreadable []string
	// matched are the memory-relative paths, in walk order, of the
	// entries that are not directories and not ignored (of any type,
	// links included) whose name match accepted.
	matched []string
	// entries, with walkOpts.entries, are every entry the walk saw and
	// did not descend into, in walk order.
	entries []WalkEntry
}

// WalkEntry is an entry under memory/ that a walk saw and did not descend
// into (see layout.Entry; committer.WorkEntry is the same type).
type WalkEntry = layout.Entry

// walkTreeMatch is walkTree that also picks, by name, entries of every
// type: match (called from the walk's goroutines, so it must be safe for
// that) is given each name of an entry that is not a directory and not
// ignored. status lists conflict copies this way, without a second walk.
func (ix *Index) walkTreeMatch(prefix string, match func(name string) bool) (walkResult, error) {
	return ix.walkTreeWith(prefix, walkOpts{match: match})
}

// walkOpts are the settings of walkTreeWith.
type walkOpts struct {
	match func(name string) bool // as walkTreeMatch's
	// entries makes the walk list in walkResult.entries every entry it
	// does not descend into (see WalkEntry).
	entries bool
	// walked, with entries, gets those entries and the unreadable paths
	// instead of walkResult.entries (see CheckOptions.Walked): it is
	// called from a goroutine of its own once the walk is done, beside
	// the caller's use of the files.
	walked func(entries []WalkEntry, unreadable []string)
}

// walkTreeWith is walkTreeMatch with more settings.
func (ix *Index) walkTreeWith(prefix string, o walkOpts) (walkResult, error) {
	w := &treeWalk{ix: ix, match: o.match, entries: o.entries}
	w.more = sync.NewCond(&w.mu)
	top := &dirNode{}
	// The top first, alone: its error is the caller's. It queues its
	// subdirectories, which the workers read, queueing theirs.
	if err := w.readDir(top, filepath.Join(ix.memDir, filepath.FromSlash(prefix)), prefix, true); err != nil {
		return walkResult{}, err
	}
	var wg sync.WaitGroup
	for range max(ix.opts.Workers, 2) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.work()
		}()
	}
	wg.Wait()
	var es []WalkEntry
	if o.entries {
		es = make([]WalkEntry, 0, w.nentries.Load())
		if o.walked != nil {
			// Beside the rest, which the caller then goes on with.
			go func() {
				var unreadable []string
				top.flattenEntries(&es, &unreadable)
				o.walked(es, unreadable)
			}()
		}
	}
	r := walkResult{files: make([]walked, 0, w.nfiles.Load())}
	if n := w.nmatched.Load(); n > 0 {
		r.matched = make([]string, 0, n)
	}
	top.flatten(&r)
	if o.entries && o.walked == nil {
		var unreadable []string
		top.flattenEntries(&es, &unreadable)
		r.entries = es
	}
	return r, nil
}

// treeWalk is one walkTree in progress: a stack of directories to read,
// shared by a few workers (one goroutine per worker, not per directory: a
// tree of 100k notes has thousands of folders).
type treeWalk struct {
	ix      *Index
	match   func(name string) bool
	entries bool
	nfiles  atomic.Int64
	// nentries and nmatched count the entries and matched paths all
	// directories hold, so flatten appends them without growing.
	nentries, nmatched atomic.Int64

	mu      sync.Mutex
	more    *sync.Cond // signalled when a job is queued or the last one is done
	jobs    []dirJob
	pending int // jobs queued or being read
}

// dirJob is a directory to read into its node.
type dirJob struct {
	node     *dirNode
	abs, rel string
}

// queue adds a directory to read.
func (w *treeWalk) queue(j dirJob) {
	w.mu.Lock()
	w.jobs = append(w.jobs, j)
	w.pending++
	w.mu.Unlock()
	w.more.Signal()
}

// work reads queued directories until none is queued or being read.
func (w *treeWalk) work() {
	for {
		w.mu.Lock()
		for len(w.jobs) == 0 && w.pending > 0 {
			w.more.Wait()
		}
		if len(w.jobs) == 0 {
			w.mu.Unlock()
			return
		}
		j := w.jobs[len(w.jobs)-1]
		w.jobs = w.jobs[:len(w.jobs)-1]
		w.mu.Unlock()
		_ = w.readDir(j.node, j.abs, j.rel, false)
		w.mu.Lock()
		w.pending--
		done := w.pending == 0
		w.mu.Unlock()
		if done {
			w.more.Broadcast()
		}
	}
}

// dirNode is what the walk found in one directory, each list in name
// order: record files, entries match picked, subdirectories (each with its
// own node, and where it falls among the other two), and the paths that
// could not be read.
type dirNode struct {
	files      []walked
	matched    []string
	entries    []WalkEntry
	subs       []subDir
	unreadable []string
}

// subDir is a subdirectory and how many of its folder's files, matched
// entries and entries sort before it.
type subDir struct {
	node                       *dirNode
	nfiles, nmatched, nentries int
}

// flatten appends the node's files, matched entries and unreadable paths
// to r, depth first.
func (n *dirNode) flatten(r *walkResult) {
	r.unreadable = append(r.unreadable, n.unreadable...)
	fi, mi := 0, 0
	for _, sd := range n.subs {
		r.files = append(r.files, n.files[fi:sd.nfiles]...)
		r.matched = append(r.matched, n.matched[mi:sd.nmatched]...)
		fi, mi = sd.nfiles, sd.nmatched
		sd.node.flatten(r)
	}
	r.files = append(r.files, n.files[fi:]...)
	r.matched = append(r.matched, n.matched[mi:]...)
}

// flattenEntries appends the node's entries to es and its unreadable
// paths to unreadable, depth first.
func (n *dirNode) flattenEntries(es *[]WalkEntry, unreadable *[]string) {
	*unreadable = append(*unreadable, n.unreadable...)
	ei := 0
	for _, sd := range n.subs {
		*es = append(*es, n.entries[ei:sd.nentries]...)
		ei = sd.nentries
		sd.node.flattenEntries(es, unreadable)
	}
	*es = append(*es, n.entries[ei:]...)
}

// dirBufs recycles what reading a directory needs: the getdents buffer and
// the entries slice.
var dirBufs = sync.Pool{New: func() any { return &dirBuf{buf: make([]byte, 32<<10)} }}

type dirBuf struct {
	buf  []byte
	ents []dirent
}

// readDir reads the directory abs (memory-relative rel) into n and queues
// each subdirectory.
// Errors are recorded as unreadable paths, except for the top directory
// (top), whose error is returned.
func (w *treeWalk) readDir(n *dirNode, abs, rel string, top bool) error {
	db := dirBufs.Get().(*dirBuf)
	defer dirBufs.Put(db)
	d, ents, err := openDir(abs, top, db)
	if err != nil {
		if top {
			return err
		}
		w.unreadable(n, rel, err)
		return nil
	}
	defer d.close()
	slices.SortFunc(ents, func(a, b dirent) int { return strings.Compare(a.name, b.name) })
	n.files = make([]walked, 0, len(ents))
	if w.entries {
		n.entries = make([]WalkEntry, 0, len(ents))
	}
	// Whether the folder is Ignored (which only a walk's top can be: no
	// walk descends into one), so each entry's name is all IsRecord needs.
	inIgnored := frontmatter.Ignored(rel)
	for _, e := range ents {
		if frontmatter.Ignored(e.name) { // the elements above were checked on the way down
			if w.entries {
				n.entries = append(n.entries, WalkEntry{Rel: joinRel(rel, e.name), Type: entryType(e), Ignored: true})
			}
			continue
		}
		crel := joinRel(rel, e.name)
		// A record file's size and mtime come from an lstat, as does the
		// type of an entry the directory read did not give one.
		typ := e.typ
		var st fileStat
		record := false
		if !e.known || typ.IsRegular() {
			record = !inIgnored && layout.IsRecordIn(crel, e.name)
		}
		if !e.known || (typ.IsRegular() && record) {
			st, err = d.lstat(e)
			if err != nil {
				if !errors.Is(err, fs.ErrNotExist) { // else: vanished since the directory was read
					w.unreadable(n, crel, err)
				}
				continue
			}
			typ = st.mode.Type()
		}
		if typ.IsDir() {
			sub := &dirNode{}
			n.subs = append(n.subs, subDir{node: sub, nfiles: len(n.files), nmatched: len(n.matched), nentries: len(n.entries)})
			w.queue(dirJob{node: sub, abs: abs + string(filepath.Separator) + e.name, rel: crel})
			continue
		}
		if typ.IsRegular() && record {
			n.files = append(n.files, walked{crel, st.size, st.mtime})
		}
		if w.entries {
			we := st.entry
			we.Rel, we.Type = crel, entryType(dirent{typ: typ, known: true})
			n.entries = append(n.entries, we)
		}
		if w.match != nil && w.match(e.name) {
			n.matched = append(n.matched, crel)
		}
	}
	w.nfiles.Add(int64(len(n.files)))
	w.nentries.Add(int64(len(n.entries)))
	w.nmatched.Add(int64(len(n.matched)))
	return nil
}

// joinRel joins a memory-relative directory ("" for the top) and a name.
func joinRel(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// entryType is the type of a directory entry as WalkEntry gives it.
func entryType(e dirent) fs.FileMode {
	if !e.known {
		return fs.ModeIrregular
	}
	return e.typ & fs.ModeType
}

// unreadable records a path the walk could not read.
func (w *treeWalk) unreadable(n *dirNode, rel string, err error) {
	w.ix.log.Warn().Err(err).Str("path", rel).Msg("cannot read; keeping its rows")
	n.unreadable = append(n.unreadable, rel)
}

// dirent is a directory entry as the directory read gives it: its name and,
// when known, its type (of the entry itself, never of a link's target).
type dirent struct {
	name  string
	typ   fs.FileMode
	known bool
}

// fileStat is what the walk needs of an lstat.
type fileStat struct {
	mode  fs.FileMode
	size  int64
	mtime int64 // ns since the epoch
	// entry holds the lstat's fields for a WalkEntry (HasStat on
	// Linux; Rel and Type are the walk's to fill).
	entry WalkEntry
}
