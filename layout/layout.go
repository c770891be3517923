package layout

import (
	"path"
	"strings"
)

// MemoryDir is the watched folder's name under ROOT, and the first element
// of every stored filepath ("memory/failures/x.md").
const MemoryDir = "memory"

// Files inside the memory folder that belong to elfsync, not to the memory.
const (
	// IndexFile is the SQLite index (the framework's database).
	IndexFile = "index.db"
	// InstanceLockFile is the single-instance lock of `elfsync watch`. It
	// matches the index.db* pattern of memory/.gitignore and Ignored.
	InstanceLockFile = IndexFile + ".lock"
)

// RootRel returns the root-relative slash path of a memory-relative one:
// "failures/x.md" → "memory/failures/x.md"; "" → "memory".
func RootRel(memRel string) string {
	if memRel == "" {
		return MemoryDir
	}
	return MemoryDir + "/" + memRel
}

// Ignored reports whether a path under the memory folder is noise that
// elfsync neither indexes nor commits: dot-files and dot-directories (which
// covers .git/, .#x lock files and .x.tmp temp files), editor swap and backup
// files (*.swp, *.swx, *~, vim's 4913 probe, #x# autosaves), *.tmp, and the
// index files (index.db, index.db-wal, index.db-shm, index.db-journal and
// index.db.* lock files). rel is relative to the memory folder with forward
// slashes; every element of it is checked.
func Ignored(rel string) bool {
	// Element by element without strings.Split: a scan calls this for
	// every file, and the slice was most of its cost.
	for {
		elem, rest, more := strings.Cut(rel, "/")
		if ignoredName(elem) {
			return true
		}
		if !more {
			return false
		}
		rel = rest
	}
}

func ignoredName(name string) bool {
	switch {
	case name == "" || name == ".":
		return false
	case strings.HasPrefix(name, "."):
		return true
	case strings.HasSuffix(name, "~"),
		strings.HasSuffix(name, ".swp"),
		strings.HasSuffix(name, ".swx"),
		strings.HasSuffix(name, ".tmp"),
		name == "4913",
		len(name) > 1 && strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#"),
		name == IndexFile,
		strings.HasPrefix(name, IndexFile+"-"),
		strings.HasPrefix(name, IndexFile+"."):
		return true
	}
	return false
}

// IsRecord reports whether a path under the memory folder names a memory
// record: a file ending in .md that is not Ignored and not one of the
// framework's own files (FrameworkFile). Other files are committed but not
// indexed.
func IsRecord(rel string) bool {
	return strings.EqualFold(path.Ext(rel), ".md") && !Ignored(rel) && !FrameworkFile(rel)
}

// IsRecordIn is IsRecord(rel) for a path whose folder (every element but
// the last, name) is known not to be Ignored: a walk that checked the
// folders on its way down looks only at the name.
func IsRecordIn(rel, name string) bool {
	return strings.EqualFold(path.Ext(name), ".md") && !ignoredName(name) && !FrameworkFile(rel)
}

// FrameworkFile reports whether a path under the memory folder is a file
// the framework keeps there that is not a record: golden-rules.md at the
// top (its golden rules, which its tools read) and README.md files. They
// are committed, never indexed or flagged invalid.
func FrameworkFile(rel string) bool {
	return strings.EqualFold(path.Base(rel), "README.md") || strings.EqualFold(rel, "golden-rules.md")
}
