//go:build !linux

package indexer

import (
	"io/fs"
	"os"
	"path/filepath"
)

// dirHandle is an open directory; Linux has a faster one (walk_linux.go).
type dirHandle struct{ abs string }

// openDir reads the entries of the directory abs. follow says whether abs
// may be a symbolic link to a directory (only the walk's top may).
func openDir(abs string, follow bool, _ *dirBuf) (dirHandle, []dirent, error) {
	if !follow {
		info, err := os.Lstat(abs)
		if err != nil {
			return dirHandle{}, nil, err
		}
		if !info.IsDir() {
			return dirHandle{}, nil, &fs.PathError{Op: "open", Path: abs, Err: fs.ErrInvalid}
		}
	}
	des, err := os.ReadDir(abs)
	if err != nil {
		return dirHandle{}, nil, err
	}
	ents := make([]dirent, len(des))
	for i, de := range des {
		ents[i] = dirent{name: de.Name(), typ: de.Type(), known: true}
	}
	return dirHandle{abs}, ents, nil
}

// lstat lstats an entry of the directory.
func (d dirHandle) lstat(e dirent) (fileStat, error) {
	info, err := os.Lstat(filepath.Join(d.abs, e.name))
	if err != nil {
		return fileStat{}, err
	}
	return fileStat{mode: info.Mode(), size: info.Size(), mtime: info.ModTime().UnixNano()}, nil
}

func (d dirHandle) close() {}
