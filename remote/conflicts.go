package remote

import (
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/emergent-learning/elfsync/layout"
)

// ConflictCopies returns the absolute paths of the conflict copies under
// root's memory/, in walk order; dot-folders are skipped and unreadable
// folders are passed over.
func ConflictCopies(root string) []string {
	var out []string
	mem := filepath.Join(root, layout.MemoryDir)
	_ = filepath.WalkDir(mem, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && p != mem && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if !d.IsDir() && IsConflictCopyName(d.Name()) {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// IsConflictCopyName reports whether a file name (without its folder) is
// a conflict copy's. It is IsConflictCopy with a cheap test first: status
// asks it of every file under memory/, and the regular expression cost
// more than the rest of the walk.
func IsConflictCopyName(name string) bool {
	return strings.Contains(name, ".conflict-") && IsConflictCopy(name)
}
