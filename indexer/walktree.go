package indexer

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"

	"github.com/emergent-learning/elfsync/frontmatter"
)

// walkTree lists the record files under prefix (memory-relative, "" for
// all) with their Lstat size and mtime. Symbolic links are never followed
// and never indexed. Directories that could not be read are returned in
// unreadable, so the caller keeps their rows instead of dropping them.
// Subdirectories of the top are walked in parallel: on a large tree the
// walk is mostly lstat system calls. Files come grouped by top-level
// entry, in the order os.ReadDir gives them.
func (ix *Index) walkTree(prefix string) (files []walked, unreadable []string, err error) {
	top := filepath.Join(ix.memDir, filepath.FromSlash(prefix))
	ents, err := os.ReadDir(top)
	if err != nil {
		return nil, nil, err
	}
	type part struct {
		files      []walked
		unreadable []string
		err        error
	}
	parts := make([]part, len(ents))
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(ix.opts.Workers, 2))
	for i, d := range ents {
		rel := path.Join(prefix, d.Name())
		if frontmatter.Ignored(rel) {
			continue
		}
		if !d.IsDir() {
			if d.Type().IsRegular() && frontmatter.IsRecord(rel) {
				if info, err := d.Info(); err == nil {
					parts[i].files = append(parts[i].files, walked{rel, info.Size(), info.ModTime().UnixNano()})
				}
			}
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(pt *part, dir string) {
			defer func() { <-sem; wg.Done() }()
			pt.err = walkDir(dir, func(p string, d fs.DirEntry, err error) error {
				rel, rerr := filepath.Rel(ix.memDir, p)
				if rerr != nil {
					return rerr
				}
				rel = filepath.ToSlash(rel)
				if err != nil {
					ix.log.Warn().Err(err).Str("path", rel).Msg("cannot read; keeping its rows")
					pt.unreadable = append(pt.unreadable, rel)
					if d != nil && d.IsDir() {
						return fs.SkipDir
					}
					return nil
				}
				if frontmatter.Ignored(rel) {
					if d.IsDir() {
						return fs.SkipDir
					}
					return nil
				}
				if !d.Type().IsRegular() || !frontmatter.IsRecord(rel) {
					return nil
				}
				info, err := d.Info()
				if err != nil {
					if !errors.Is(err, fs.ErrNotExist) { // else: vanished since the directory was read
						pt.unreadable = append(pt.unreadable, rel)
					}
					return nil
				}
				pt.files = append(pt.files, walked{rel, info.Size(), info.ModTime().UnixNano()})
				return nil
			})
			if errors.Is(pt.err, fs.ErrNotExist) {
				pt.err = nil // the directory vanished since its parent was read
			}
		}(&parts[i], filepath.Join(top, d.Name()))
	}
	wg.Wait()
	for _, pt := range parts {
		if pt.err != nil {
			return files, unreadable, pt.err
		}
		files = append(files, pt.files...)
		unreadable = append(unreadable, pt.unreadable...)
	}
	return files, unreadable, nil
}
