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

// Conflict is a conflict copy and the command that resolves it, once what
// is wanted of it is in the file it names (`elfsync status` and `elfsync
// doctor` print them).
type Conflict struct {
	Path    string `json:"path"`    // root-relative, with "/"
	Resolve string `json:"resolve"` // rm -- PATH, quoted for sh
}

// Conflicts returns the conflict copies under root's memory/ with the
// command that resolves each; never nil.
func Conflicts(root string) []Conflict {
	var paths []string
	for _, p := range ConflictCopies(root) {
		rel, _ := filepath.Rel(root, p)
		paths = append(paths, filepath.ToSlash(rel))
	}
	return ConflictsAt(root, paths)
}

// ConflictsAt returns the conflict copies at paths (root-relative, with
// "/": found by a walk of memory/ made anyway, as status's index check
// does with IsConflictCopyName) with the command that resolves each;
// never nil.
func ConflictsAt(root string, paths []string) []Conflict {
	out := []Conflict{}
	for _, rel := range paths {
		p := filepath.Join(root, filepath.FromSlash(rel))
		out = append(out, Conflict{Path: rel, Resolve: "rm -- " + layout.ShellQuote(p)})
	}
	return out
}

// IsConflictCopyName reports whether a file name (without its folder) is
// a conflict copy's. It is IsConflictCopy with a cheap test first: status
// asks it of every file under memory/, and the regular expression cost
// more than the rest of the walk.
func IsConflictCopyName(name string) bool {
	return strings.Contains(name, ".conflict-") && IsConflictCopy(name)
}
