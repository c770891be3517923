package remote

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// DriverMerge is git's merge driver for memory files (`elfsync
// merge-driver %O %A %B %P`), for merges a person runs by hand in
// memory/'s repository: it merges base, ours and theirs as MergeFile does
// and writes the result over ours. Their version, when it cannot be merged,
// is kept beside the file as a conflict copy in the work tree (git runs
// the driver at the top of the work tree, which is memory/). It never
// leaves a conflict marker: on an error ours stays as it was and git
// reports the path as conflicted.
func DriverMerge(ctx context.Context, base, ours, theirs, path string, maxSize int64) error {
	read := func(p string) (Version, error) {
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return Version{}, nil
		}
		return Version{Present: err == nil, Data: b}, err
	}
	bv, err := read(base)
	if err != nil {
		return err
	}
	ov, err := read(ours)
	if err != nil {
		return err
	}
	tv, err := read(theirs)
	if err != nil {
		return err
	}
	m, err := MergeFile(ctx, GitMerger{}, bv, ov, tv, maxSize)
	if err != nil {
		return err
	}
	if m.Conflict && tv.Present && filepath.IsLocal(path) {
		stamp := time.Now().UTC().Format("20060102T150405Z")
		name := conflictName(filepath.ToSlash(path), "merge", stamp, func(p string) bool {
			_, err := os.Lstat(filepath.FromSlash(p))
			return err == nil
		})
		if err := os.WriteFile(filepath.FromSlash(name), conflictCopy(filepath.ToSlash(path), tv.Data, "merge", stamp), 0o644); err != nil {
			return fmt.Errorf("write conflict copy: %w", err)
		}
		fmt.Fprintf(os.Stderr, "elfsync: %s could not be merged; their version is kept in %s\n", path, name)
	}
	if !m.Present {
		m.Data = nil
	}
	return os.WriteFile(ours, m.Data, 0o644)
}
