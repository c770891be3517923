package record

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/layout"
)

// Read reads and parses one record file the way the indexer does: a
// regular file only (symlinks are never followed), at most maxSize+1 bytes
// read. rel is its path relative to the memory folder (it decides the type
// when the frontmatter has none); for a file elsewhere pass its base name.
func Read(path, rel string, maxSize int64) (frontmatter.Record, error) {
	info, err := os.Lstat(path)
	if err != nil {
		return frontmatter.Record{}, err
	}
	if !info.Mode().IsRegular() {
		return frontmatter.Record{}, fmt.Errorf("not a regular file (%s): elfsync indexes regular files only", info.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return frontmatter.Record{}, err
	}
	defer f.Close()
	data := make([]byte, min(info.Size(), maxSize+1))
	n, err := f.ReadAt(data, 0)
	if err != nil && n < len(data) {
		return frontmatter.Record{}, err
	}
	return frontmatter.Parse(frontmatter.Input{Path: rel, Data: data[:n], ModTime: info.ModTime(), Size: info.Size(), MaxSize: maxSize})
}

// ReadPath reads the file name (a path as a person gives it) as Read does:
// a file under memDir takes its type from its folder when the frontmatter
// has none; a file elsewhere must say its type.
func ReadPath(memDir, name string, maxSize int64) (frontmatter.Record, error) {
	abs, _ := filepath.Abs(name)
	rel, err := filepath.Rel(memDir, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		rel = filepath.Base(abs) // outside the memory folder: no folder type
	}
	return Read(abs, filepath.ToSlash(rel), maxSize)
}

// Walk reads every record file under memDir in lexical order and calls fn
// with its memory-relative slash path and what Read returned. Ignored names
// (layout.Ignored) are skipped, other files are not records. An error from
// fn, or ctx being done, stops the walk.
func Walk(ctx context.Context, memDir string, maxSize int64, fn func(rel string, r frontmatter.Record, err error) error) error {
	return filepath.WalkDir(memDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(memDir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && layout.Ignored(rel) {
				return fs.SkipDir
			}
			return ctx.Err()
		}
		if !layout.IsRecord(rel) {
			return nil
		}
		r, err := Read(p, rel, maxSize)
		return fn(rel, r, err)
	})
}
