package committer

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/emergent-learning/elfsync/layout"
)

// WorkEntry is an entry under memory/ that a walk saw and did not descend
// into (see layout.Entry; indexer.WalkEntry is the same type).
type WorkEntry = layout.Entry

// WorkTree is what one walk of memory/ saw: every entry it did not
// descend into. Complete is false when part of memory/ could not be read.
type WorkTree struct {
	Entries  []WorkEntry
	Complete bool
}

// errNoLstat means this platform has no lstatEntry.
var errNoLstat = errors.New("lstat with git's stat data is not implemented here")

// cleanCheck reports whether `git status -- memory/` would print nothing,
// from what git itself reads: the index (ix), the tree of memory/ in HEAD
// (headTree), the ignore files, and the walk t of memory/ (memDir) that
// elfsync made anyway. It says true only when it is sure: every index
// entry under memory/ is a plain file or link without flags whose stat
// data equals, field by field as git records it, what lstat says now and
// that is not racily clean (modified in or after the second the index was
// written, when git would compare contents); the entries hash to
// headTree (nothing staged); and every other entry of the walk is one
// that git ignores. Anything else, including anything it does not know,
// gives false and why, and the caller runs git status.
//
// Exact equality is at least as strict as git's own test whatever its
// configuration: core.checkStat=minimal, core.trustctime=false,
// core.filemode=false, core.ignoreStat, fsmonitor and the untracked cache
// only make git look at less, so a tree this check finds clean git finds
// clean too.
func cleanCheck(r repo, memDir string, ix *gitIndex, headTree []byte, t *WorkTree) (bool, string) {
	switch {
	case t == nil || !t.Complete:
		return false, "walk incomplete"
	case ix.unsupported != "":
		return false, ix.unsupported
	case len(headTree) == 0:
		return false, "no HEAD tree"
	}
	// The entries under memory/ are a run of the index, which is in
	// byte order of paths; the walk's entries sorted the same way are
	// merged with them.
	lo := sort.Search(len(ix.entries), func(i int) bool { return ix.entries[i].path >= r.prefix })
	// From lo on, the paths under the prefix come first (a run).
	hi := lo + sort.Search(len(ix.entries)-lo, func(i int) bool { return !strings.HasPrefix(ix.entries[lo+i].path, r.prefix) })
	sub := ix.entries[lo:hi]
	ents := t.Entries
	if !slices.IsSortedFunc(ents, byRel) {
		ents = slices.Clone(ents)
		slices.SortFunc(ents, byRel)
	}
	tracked := make([]bool, len(ents))
	k := 0
	for i := range sub {
		e := &sub[i]
		rel := e.path[len(r.prefix):]
		switch {
		case e.flags&(ceValid|ceStage) != 0 || e.extFlags != 0:
			return false, "index flags on " + e.path
		case e.mode != 0o100644 && e.mode != 0o100755 && e.mode != 0o120000:
			return false, "index mode " + strconv.FormatUint(uint64(e.mode), 8) + " of " + e.path
		case int64(e.mtimeSec) >= ix.mtimeSec:
			return false, "racily clean " + e.path
		}
		for k < len(ents) && ents[k].Rel < rel {
			k++
		}
		var w WorkEntry
		if k < len(ents) && ents[k].Rel == rel {
			tracked[k] = true
			w = ents[k]
		}
		if !w.HasStat {
			var err error
			if w, err = lstatEntry(filepath.Join(memDir, filepath.FromSlash(rel))); err != nil {
				return false, err.Error()
			}
		}
		if !statMatches(e, &w) {
			return false, "stat differs: " + e.path
		}
	}
	m, err := readIgnores(r, memDir)
	if err != nil {
		return false, err.Error()
	}
	for i := range ents {
		w := &ents[i]
		if tracked[i] && !strings.HasSuffix(w.Rel, ".git") && !strings.HasSuffix(w.Rel, ".gitignore") {
			continue // the common case, told without cutting the name
		}
		name := w.Rel[strings.LastIndexByte(w.Rel, '/')+1:]
		switch {
		case name == ".git" && w.Rel == ".git" && r.prefix == "":
			// memory/'s own repository (or a file naming it).
			continue
		case name == ".git":
			return false, "nested repository " + w.Rel
		case name == ".gitignore" && w.Rel != ".gitignore":
			return false, "ignore file " + w.Rel
		case tracked[i]:
			continue
		case !m.ignored(r.prefix+w.Rel, w.Type.IsDir()):
			return false, "untracked " + w.Rel
		}
	}
	// The cache tree holds the tree's name unless something under
	// memory/ changed in the index since it was last written (git status
	// trusts it the same way); otherwise it is hashed here.
	oid, count := ix.cachedTree(r.prefix)
	if oid == nil || count != len(sub) {
		var err error
		if oid, err = treeHash(sub, len(r.prefix), len(headTree)); err != nil {
			return false, err.Error()
		}
	}
	if !bytes.Equal(oid, headTree) {
		return false, "index differs from HEAD"
	}
	return true, ""
}

func byRel(a, b WorkEntry) int { return strings.Compare(a.Rel, b.Rel) }

// statMatches reports whether the index entry e records exactly what
// lstat said of its file: type and executable bit as git keeps them,
// and every stat field truncated to 32 bits as git stores it.
func statMatches(e *indexEntry, w *WorkEntry) bool {
	const ifmt, ifreg, iflnk = 0o170000, 0o100000, 0o120000
	switch w.Mode & ifmt {
	case ifreg:
		want := uint32(0o100644)
		if w.Mode&0o100 != 0 {
			want = 0o100755
		}
		if e.mode != want {
			return false
		}
	case iflnk:
		if e.mode != 0o120000 {
			return false
		}
	default:
		return false
	}
	return e.mtimeSec == uint32(w.MtimeSec) && e.mtimeNsec == uint32(w.MtimeNsec) &&
		e.ctimeSec == uint32(w.CtimeSec) && e.ctimeNsec == uint32(w.CtimeNsec) &&
		e.dev == uint32(w.Dev) && e.ino == uint32(w.Ino) &&
		e.uid == w.Uid && e.gid == w.Gid && e.size == uint32(w.Size)
}

// treeHash computes the object name of the tree the entries make (their
// paths without the first strip bytes), as git write-tree would: entries
// in index order are in tree order.
func treeHash(entries []indexEntry, strip, hashLen int) ([]byte, error) {
	var newHash func() hash.Hash
	switch hashLen {
	case sha1.Size:
		newHash = sha1.New
	case sha256.Size:
		newHash = sha256.New
	default:
		return nil, fmt.Errorf("hash length %d", hashLen)
	}
	var buf []byte
	oid := writeTree(entries, strip, newHash, &buf)
	return oid, nil
}

// writeTree hashes the tree of entries (names from byte off of their
// paths), its subtrees first; buf is scratch space.
func writeTree(entries []indexEntry, off int, newHash func() hash.Hash, buf *[]byte) []byte {
	var body []byte
	for i := 0; i < len(entries); {
		name := entries[i].path[off:]
		if k := strings.IndexByte(name, '/'); k >= 0 {
			dir := name[:k+1]
			j := i + 1
			for j < len(entries) && strings.HasPrefix(entries[j].path[off:], dir) {
				j++
			}
			oid := writeTree(entries[i:j], off+k+1, newHash, buf)
			body = append(body, "40000 "...)
			body = append(body, name[:k]...)
			body = append(body, 0)
			body = append(body, oid...)
			i = j
			continue
		}
		body = strconv.AppendUint(body, uint64(entries[i].mode), 8)
		body = append(body, ' ')
		body = append(body, name...)
		body = append(body, 0)
		body = append(body, entries[i].oid...)
		i++
	}
	h := newHash()
	*buf = append(strconv.AppendInt(append((*buf)[:0], "tree "...), int64(len(body)), 10), 0)
	h.Write(*buf)
	h.Write(body)
	return h.Sum(nil)
}

// ignoreMatcher tells some paths that git ignores. It is built from the
// ignore files git reads that rank above core.excludesFile: memory/'s
// .gitignore, those of the folders above it up to the top level, and the
// repository's info/exclude. When none of them holds a negation ("!"),
// a path one of their patterns matches is ignored whatever the rest say.
// It understands only patterns whose one wildcard is "*"; others it
// skips (a path only they match is not known to be ignored). The caller
// makes sure no other .gitignore lies under memory/.
type ignoreMatcher struct {
	pats []ignorePattern
}

// ignorePattern is one pattern: its text, the folder (top-relative, with
// a trailing slash, "" for the top) of the file that holds it, whether it
// is anchored to that folder (it has a slash) and whether it matches only
// directories (trailing slash).
type ignorePattern struct {
	pat, base         string
	anchored, dirOnly bool
}

// readIgnores reads the ignore files above core.excludesFile for memory/
// in r. A negation in any of them gives an error: the matcher would not
// be sure of anything.
func readIgnores(r repo, memDir string) (*ignoreMatcher, error) {
	m := &ignoreMatcher{}
	// memory/.gitignore and those of the folders above it, up to the top.
	for base := r.prefix; ; {
		dir := memDir
		if base != r.prefix {
			dir = filepath.Join(r.top, filepath.FromSlash(base))
		}
		if err := m.readFile(filepath.Join(dir, ".gitignore"), base, true); err != nil {
			return nil, err
		}
		if base == "" {
			break
		}
		base = base[:strings.LastIndexByte(strings.TrimSuffix(base, "/"), '/')+1]
	}
	if err := m.readFile(filepath.Join(r.commonDir, "info", "exclude"), "", false); err != nil {
		return nil, err
	}
	return m, nil
}

// readFile adds the patterns of one ignore file; a missing file has none.
// A .gitignore (inTree) that is a link is one git does not read: refused.
func (m *ignoreMatcher) readFile(p, base string, inTree bool) error {
	if inTree {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", p)
		}
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "!") {
			return fmt.Errorf("%s has a negated pattern", p)
		}
		if line == "" || line[0] == '#' || strings.ContainsAny(line, "\\[?\r") || strings.Contains(line, "**") {
			continue // nothing, a comment, or a pattern this matcher does not read
		}
		pat := strings.TrimRight(line, " ")
		ip := ignorePattern{base: base}
		if s, ok := strings.CutSuffix(pat, "/"); ok {
			pat, ip.dirOnly = s, true
		}
		if strings.Contains(pat, "/") {
			ip.anchored = true
			pat = strings.TrimPrefix(pat, "/")
		}
		if pat == "" || strings.HasSuffix(pat, "/") {
			continue
		}
		ip.pat = pat
		m.pats = append(m.pats, ip)
	}
	return nil
}

// ignored reports whether a pattern matches p (top-relative), a
// directory if isDir.
func (m *ignoreMatcher) ignored(p string, isDir bool) bool {
	name := path.Base(p)
	for _, ip := range m.pats {
		if ip.dirOnly && !isDir {
			continue
		}
		if !ip.anchored {
			if starMatch(ip.pat, name) {
				return true
			}
			continue
		}
		rel, ok := strings.CutPrefix(p, ip.base)
		if !ok {
			continue
		}
		pe, re := strings.Split(ip.pat, "/"), strings.Split(rel, "/")
		if len(pe) != len(re) {
			continue
		}
		all := true
		for i := range pe {
			if !starMatch(pe[i], re[i]) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// starMatch matches s against pat, in which "*" stands for any run of
// bytes and every other byte for itself.
func starMatch(pat, s string) bool {
	parts := strings.Split(pat, "*")
	if len(parts) == 1 {
		return pat == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, part := range parts[1 : len(parts)-1] {
		i := strings.Index(s, part)
		if i < 0 {
			return false
		}
		s = s[i+len(part):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

// parseTreeID decodes a tree's object name as git prints it.
func parseTreeID(s string) []byte {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || (len(b) != sha1.Size && len(b) != sha256.Size) {
		return nil
	}
	return b
}
