package edit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/emergent-learning/elfsync/frontmatter"
)

// ErrUnsafePath wraps every reason Resolve refuses a path.
var ErrUnsafePath = errors.New("unsafe path")

// Resolve checks that rel (relative to memDir, forward slashes; a leading
// "memory/" is accepted as the framework stores it) names a memory record
// inside memDir, reached without following a symlink, and returns its
// cleaned relative path and its absolute path. The file need not exist;
// every directory on the way that does exist must be a real directory.
func Resolve(memDir, rel string) (clean, abs string, err error) {
	bad := func(why string) (string, string, error) {
		return "", "", fmt.Errorf("%w: %q %s", ErrUnsafePath, rel, why)
	}
	switch {
	case rel == "":
		return bad("is empty")
	case strings.ContainsRune(rel, 0):
		return bad("holds a NUL byte")
	case strings.Contains(rel, `\`):
		return bad("holds a backslash")
	case path.IsAbs(rel) || filepath.IsAbs(rel) || filepath.VolumeName(rel) != "":
		return bad("is absolute")
	}
	for _, elem := range strings.Split(rel, "/") {
		if elem == ".." {
			return bad("leaves the memory folder")
		}
	}
	clean = path.Clean(rel)
	clean = strings.TrimPrefix(clean, "memory/")
	if clean == "." || clean == "" {
		return bad("names the memory folder itself")
	}
	if !frontmatter.IsRecord(clean) {
		return bad("is not a memory record (a .md file outside dot-folders, not the index)")
	}
	abs = filepath.Join(memDir, filepath.FromSlash(clean))
	// Every existing element must be what it claims: directories on the
	// way, a regular file at the end. A symlink anywhere is refused.
	cur := memDir
	elems := strings.Split(clean, "/")
	for i, elem := range elems {
		cur = filepath.Join(cur, elem)
		fi, err := os.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return "", "", fmt.Errorf("%w: %q: %v", ErrUnsafePath, rel, err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return bad("goes through a symlink")
		}
		last := i == len(elems)-1
		if !last && !fi.IsDir() {
			return bad("goes through a file")
		}
		if last && !fi.Mode().IsRegular() {
			return bad("is not a regular file")
		}
	}
	return clean, abs, nil
}
