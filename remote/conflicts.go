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
		if !d.IsDir() && IsConflictCopy(d.Name()) {
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
	out := []Conflict{}
	for _, p := range ConflictCopies(root) {
		rel, _ := filepath.Rel(root, p)
		out = append(out, Conflict{Path: filepath.ToSlash(rel), Resolve: "rm -- " + layout.ShellQuote(p)})
	}
	return out
}
