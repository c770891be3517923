package record

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/emergent-learning/elfsync/frontmatter"
)

// maxAttempts bounds the search for a free name (and a free temp name).
const maxAttempts = 10000

// writeUnique puts data into dir under the first free name of
// frontmatter.FileName(created, slug, 1, 2, ...) and returns its path. The
// file appears whole or not at all: data goes to a dot-file ending in .tmp
// in the same directory (which elfsync ignores), is fsynced, and is then
// hard-linked to the final name. A link, unlike a rename, fails when the
// name exists, so two writers racing for one name never replace each
// other's file: the loser tries the next name. The temp file is always
// removed.
func writeUnique(dir string, created time.Time, slug string, data []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	stem := strings.TrimSuffix(frontmatter.FileName(created, slug, 1), ".md")
	tmp, err := writeTemp(dir, stem, data)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	for n := 1; n <= maxAttempts; n++ {
		target := filepath.Join(dir, frontmatter.FileName(created, slug, n))
		err := os.Link(tmp, target)
		if err == nil {
			syncDir(dir)
			return target, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("link %s: %w", target, err)
		}
	}
	return "", fmt.Errorf("no free name for %s.md in %s after %d tries", stem, dir, maxAttempts)
}

// writeTemp writes data to a new ".stem.PID.N.tmp" in dir (the scripts'
// temp name), created exclusively with the usual 0644 less umask, and
// fsyncs it.
func writeTemp(dir, stem string, data []byte) (path string, err error) {
	var f *os.File
	for n := 0; ; n++ {
		path = filepath.Join(dir, fmt.Sprintf(".%s.%d.%d.tmp", stem, os.Getpid(), n))
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || n >= maxAttempts {
			return "", fmt.Errorf("create temp file in %s: %w", dir, err)
		}
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close %s: %w", path, cerr)
		}
		if err != nil {
			os.Remove(path)
			path = ""
		}
	}()
	if _, err := f.Write(data); err != nil {
		return path, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return path, fmt.Errorf("sync %s: %w", path, err)
	}
	return path, nil
}

// syncDir flushes dir's entries (the new link) to disk. Best effort: not
// every system can open a directory for syncing (Windows cannot), and the
// file itself is already safe.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// WriteUnique writes data into dir under the first free name of
// frontmatter.FileName(created, slug, n) for n = 1, 2, ..., atomically, and
// returns its path (see Write). It creates dir if needed.
func WriteUnique(dir string, created time.Time, slug string, data []byte) (string, error) {
	return writeUnique(dir, created, slug, data)
}

// Place writes data to dst atomically and never replaces a file there: a
// temp file beside it (fsynced, given mtime unless that is zero) is
// hard-linked to dst, which fails with an fs.ErrExist error if dst exists.
func Place(dst string, data []byte, mtime time.Time) error {
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := writeTemp(dir, strings.TrimSuffix(filepath.Base(dst), filepath.Ext(dst)), data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if !mtime.IsZero() {
		if err := os.Chtimes(tmp, mtime, mtime); err != nil {
			return fmt.Errorf("set time of %s: %w", tmp, err)
		}
	}
	if err := os.Link(tmp, dst); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}
