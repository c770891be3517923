package committer

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strconv"
	"strings"
)

// gitIndex is what cleanCheck needs of a git index file (.git/index, as
// Documentation/gitformat-index.txt describes it): its entries, the index
// file's mtime (git's racy-clean test compares against it), and whether
// it holds anything that changes how git reads it.
type gitIndex struct {
	entries []indexEntry
	// mtimeSec, mtimeNsec are the index file's modification time.
	mtimeSec, mtimeNsec int64
	// unsupported, when not "", names what makes the index one cleanCheck
	// does not judge (an extension it does not know, a split or sparse
	// index).
	unsupported string
	// tree is the cache tree extension's data ("TREE"), nil if none.
	tree    []byte
	hashLen int
}

// indexEntry is one entry of a git index: its path (relative to the top
// level), the stat data git recorded (each field truncated to 32 bits, as
// git stores it), its mode, object name and flags.
type indexEntry struct {
	path                           string
	ctimeSec, ctimeNsec            uint32
	mtimeSec, mtimeNsec            uint32
	dev, ino, mode, uid, gid, size uint32
	oid                            []byte
	flags, extFlags                uint16
}

// Index entry flags (gitformat-index).
const (
	ceValid    = 0x8000 // assume-unchanged
	ceExtended = 0x4000 // an extended flags field follows (version 3+)
	ceStage    = 0x3000
	ceNameMask = 0x0fff
)

// errIndexFormat means the index file is not one readGitIndex can read.
var errIndexFormat = errors.New("git index: unexpected format")

// readGitIndex reads the git index at path, whose object names are
// hashLen bytes long (20 for SHA-1, 32 for SHA-256). It checks the
// trailing checksum (unless git wrote none: index.skipHash), so a torn or
// corrupt file is an error, never a wrong answer.
func readGitIndex(path string, hashLen int) (*gitIndex, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	// The mtime of the file read, not of a later one renamed over it.
	buf := make([]byte, info.Size())
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, err
	}
	ix, err := parseGitIndex(buf, hashLen)
	if err != nil {
		return nil, err
	}
	mt := info.ModTime()
	ix.mtimeSec, ix.mtimeNsec = mt.Unix(), int64(mt.Nanosecond())
	return ix, nil
}

// parseGitIndex parses the bytes of an index file (see readGitIndex).
func parseGitIndex(buf []byte, hashLen int) (*gitIndex, error) {
	var h hash.Hash
	switch hashLen {
	case sha1.Size:
		h = sha1.New()
	case sha256.Size:
		h = sha256.New()
	default:
		return nil, fmt.Errorf("%w: hash length %d", errIndexFormat, hashLen)
	}
	if len(buf) < 12+hashLen || string(buf[:4]) != "DIRC" {
		return nil, fmt.Errorf("%w: no DIRC header", errIndexFormat)
	}
	body, sum := buf[:len(buf)-hashLen], buf[len(buf)-hashLen:]
	if !allZero(sum) {
		h.Write(body)
		if !bytes.Equal(h.Sum(nil), sum) {
			return nil, fmt.Errorf("%w: bad checksum", errIndexFormat)
		}
	}
	version := binary.BigEndian.Uint32(buf[4:])
	if version < 2 || version > 4 {
		return nil, fmt.Errorf("%w: version %d", errIndexFormat, version)
	}
	n := binary.BigEndian.Uint32(buf[8:])
	ix := &gitIndex{hashLen: hashLen, entries: make([]indexEntry, 0, min(int(n), len(body)/(40+hashLen)))}
	off := 12
	fixed := 40 + hashLen + 2 // stat data, object name, flags
	var prev string
	var all string
	if version < 4 {
		all = string(body) // the paths are cut from it: one allocation
	}
	for i := uint32(0); i < n; i++ {
		if off+fixed > len(body) {
			return nil, fmt.Errorf("%w: entry %d truncated", errIndexFormat, i)
		}
		b := body[off:]
		e := indexEntry{
			ctimeSec: binary.BigEndian.Uint32(b[0:]), ctimeNsec: binary.BigEndian.Uint32(b[4:]),
			mtimeSec: binary.BigEndian.Uint32(b[8:]), mtimeNsec: binary.BigEndian.Uint32(b[12:]),
			dev: binary.BigEndian.Uint32(b[16:]), ino: binary.BigEndian.Uint32(b[20:]),
			mode: binary.BigEndian.Uint32(b[24:]), uid: binary.BigEndian.Uint32(b[28:]),
			gid: binary.BigEndian.Uint32(b[32:]), size: binary.BigEndian.Uint32(b[36:]),
			oid:   b[40 : 40+hashLen],
			flags: binary.BigEndian.Uint16(b[40+hashLen:]),
		}
		p := fixed
		if e.flags&ceExtended != 0 {
			if version < 3 || p+2 > len(b) {
				return nil, fmt.Errorf("%w: extended flags in version %d", errIndexFormat, version)
			}
			e.extFlags = binary.BigEndian.Uint16(b[p:])
			p += 2
		}
		if version == 4 {
			// The path is the previous one without its last strip bytes,
			// followed by a NUL-terminated suffix; no padding.
			strip, k := decodeOffsetVarint(b[p:])
			if k == 0 || strip > uint64(len(prev)) {
				return nil, fmt.Errorf("%w: entry %d: bad path prefix", errIndexFormat, i)
			}
			p += k
			end := bytes.IndexByte(b[p:], 0)
			if end < 0 {
				return nil, fmt.Errorf("%w: entry %d: path not terminated", errIndexFormat, i)
			}
			e.path = prev[:len(prev)-int(strip)] + string(b[p:p+end])
			p += end + 1
		} else {
			end := bytes.IndexByte(b[p:], 0)
			if end < 0 {
				return nil, fmt.Errorf("%w: entry %d: path not terminated", errIndexFormat, i)
			}
			e.path = all[off+p : off+p+end]
			// 1 to 8 NULs pad the entry to a multiple of 8 bytes.
			p = (p + end + 8) &^ 7
			if p > len(b) {
				return nil, fmt.Errorf("%w: entry %d truncated", errIndexFormat, i)
			}
		}
		if nl := int(e.flags & ceNameMask); nl != ceNameMask && nl != len(e.path) {
			return nil, fmt.Errorf("%w: entry %d: name length %d for %q", errIndexFormat, i, nl, e.path)
		}
		prev = e.path
		ix.entries = append(ix.entries, e)
		off += p
	}
	// Extensions: a 4-byte signature, a 32-bit size, the data.
	for off < len(body) {
		if off+8 > len(body) {
			return nil, fmt.Errorf("%w: extension header truncated", errIndexFormat)
		}
		sig := string(body[off : off+4])
		size := int(binary.BigEndian.Uint32(body[off+4:]))
		if size < 0 || off+8+size > len(body) {
			return nil, fmt.Errorf("%w: extension %q truncated", errIndexFormat, sig)
		}
		switch sig {
		case "TREE":
			ix.tree = body[off+8 : off+8+size]
		case "REUC", "UNTR", "FSMN", "EOIE", "IEOT":
			// The cache tree, resolve-undo, untracked cache, fsmonitor
			// and index-reading helpers: none makes git find a change
			// that the entries' stat data does not show (the untracked
			// cache and fsmonitor can only make it look at less).
		default:
			// "link" (split index), "sdir" (sparse index), or one this
			// reader does not know.
			if ix.unsupported == "" {
				ix.unsupported = "extension " + strconv.Quote(sig)
			}
		}
		off += 8 + size
	}
	return ix, nil
}

// cachedTree returns the object name the cache tree holds for the folder
// prefix ("" for the top, else with a trailing slash) and how many index
// entries it covers, or nil if it holds none (no cache tree, the
// folder's node invalidated, or unreadable).
//
// The extension is the tree's nodes depth first, each a NUL-terminated
// path component ("" for the top), its entry count in ASCII (-1 when
// invalidated), a space, its subtree count, a newline and, when valid,
// the object name.
func (ix *gitIndex) cachedTree(prefix string) ([]byte, int) {
	b := ix.tree
	want := strings.Split(strings.TrimSuffix(prefix, "/"), "/")
	if prefix == "" {
		want = nil
	}
	// node reads one node at b; it returns its name, entry count,
	// subtree count and object name (nil when invalid), or ok false.
	node := func() (name string, entries, subs int, oid []byte, ok bool) {
		nul := bytes.IndexByte(b, 0)
		if nul < 0 {
			return
		}
		name = string(b[:nul])
		b = b[nul+1:]
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			return
		}
		ec, sc, found := strings.Cut(string(b[:nl]), " ")
		b = b[nl+1:]
		var err1, err2 error
		entries, err1 = strconv.Atoi(ec)
		subs, err2 = strconv.Atoi(sc)
		if !found || err1 != nil || err2 != nil || subs < 0 {
			return
		}
		if entries >= 0 {
			if len(b) < ix.hashLen {
				return
			}
			oid, b = b[:ix.hashLen], b[ix.hashLen:]
		}
		return name, entries, subs, oid, true
	}
	// skip passes over n nodes and their subtrees.
	var skip func(n int) bool
	skip = func(n int) bool {
		for ; n > 0; n-- {
			_, _, subs, _, ok := node()
			if !ok || !skip(subs) {
				return false
			}
		}
		return true
	}
	if len(b) == 0 {
		return nil, 0
	}
	_, count, subs, oid, ok := node() // the top
	if !ok {
		return nil, 0
	}
	for _, comp := range want {
		found := false
		for i := 0; i < subs; i++ {
			name, c, n, o, ok := node()
			if !ok {
				return nil, 0
			}
			if name == comp {
				count, subs, oid, found = c, n, o, true
				break
			}
			if !skip(n) {
				return nil, 0
			}
		}
		if !found {
			return nil, 0
		}
	}
	return oid, count
}

// decodeOffsetVarint decodes git's offset varint (varint.c): each byte's
// high bit says another follows, and each continuation adds one before
// shifting. It returns the value and how many bytes it took (0 if none
// could be read).
func decodeOffsetVarint(b []byte) (uint64, int) {
	if len(b) == 0 {
		return 0, 0
	}
	c := b[0]
	val := uint64(c & 127)
	i := 1
	for c&128 != 0 {
		if i >= len(b) || val >= 1<<56 {
			return 0, 0
		}
		val++
		c = b[i]
		i++
		val = val<<7 + uint64(c&127)
	}
	return val, i
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
