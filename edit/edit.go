package edit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/emergent-learning/elfsync/frontmatter"
)

// Editor edits the record files of one memory folder.
type Editor struct {
	memDir  string
	maxSize int64
}

// New returns an Editor for memDir. maxSize bounds the files it reads (0:
// frontmatter.DefaultMaxSize). It touches nothing until a method is called.
func New(memDir string, maxSize int64) *Editor {
	if maxSize <= 0 {
		maxSize = frontmatter.DefaultMaxSize
	}
	return &Editor{memDir: memDir, maxSize: maxSize}
}

// ErrNotFound: the record to edit does not exist.
var ErrNotFound = errors.New("no such record")

// maxRetries bounds how often Update redoes an edit because the file
// changed under it.
const maxRetries = 20

// Update applies fn to the content of the record rel and writes the result
// atomically, under the folder's write lock. fn returning the same bytes
// writes nothing; fn's error is returned as is. If the file changes
// between the read and the rename (an editor that does not take the lock),
// the edit is redone on the new content. It returns the bytes written.
func (e *Editor) Update(rel string, fn func(data []byte) ([]byte, error)) ([]byte, error) {
	clean, abs, err := Resolve(e.memDir, rel)
	if err != nil {
		return nil, err
	}
	unlock, err := e.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	for range maxRetries {
		data, fi, err := e.read(abs, clean)
		if err != nil {
			return nil, err
		}
		out, err := fn(data)
		if err != nil {
			return nil, err
		}
		if bytes.Equal(out, data) {
			return out, nil
		}
		tmp, err := writeTemp(filepath.Dir(abs), out, fi.Mode().Perm())
		if err != nil {
			return nil, err
		}
		// Last check before the rename: a writer that does not take our
		// lock (a person's editor) may have saved meanwhile.
		now, err := os.Lstat(abs)
		if err != nil || !sameFile(fi, now) {
			os.Remove(tmp)
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%s: %w (removed while editing)", clean, ErrNotFound)
			}
			continue
		}
		if err := os.Rename(tmp, abs); err != nil {
			os.Remove(tmp)
			return nil, fmt.Errorf("replace %s: %w", clean, err)
		}
		syncDir(filepath.Dir(abs))
		return out, nil
	}
	return nil, fmt.Errorf("edit %s: the file kept changing; tried %d times", clean, maxRetries)
}

// Set writes changes into the record rel, in its style
// (frontmatter.EditRecord): its frontmatter, or the bold field lines of a
// framework-style file, which a frontmatter block in front would hide.
func (e *Editor) Set(rel string, changes []frontmatter.Change) error {
	_, err := e.Update(rel, func(data []byte) ([]byte, error) {
		out, _, err := frontmatter.EditRecord(frontmatter.Input{Path: rel, Data: data, MaxSize: e.maxSize}, changes)
		return out, err
	})
	return err
}

// Counter names a heuristic's counter.
type Counter int

// The two counters of a heuristic.
const (
	Validated Counter = iota
	Violated
)

// Bump adds n to counter c of the record rel, in this host's tally, and
// returns the record as it reads afterwards. host is the tally key (see
// HostID).
func (e *Editor) Bump(rel string, c Counter, host string, n int64) (frontmatter.Record, error) {
	plainKey, tallyKey := frontmatter.KeyTimesValidated, frontmatter.KeyValidatedBy
	if c == Violated {
		plainKey, tallyKey = frontmatter.KeyTimesViolated, frontmatter.KeyViolatedBy
	}
	var rec frontmatter.Record
	_, err := e.Update(rel, func(data []byte) ([]byte, error) {
		r, err := frontmatter.Parse(frontmatter.Input{Path: rel, Data: data, MaxSize: e.maxSize})
		if err != nil {
			return nil, err
		}
		plain, tally := r.TimesValidated, r.ValidatedBy
		if c == Violated {
			plain, tally = r.TimesViolated, r.ViolatedBy
		}
		t, err := frontmatter.Bump(tally, plain, host, n)
		if err != nil {
			return nil, err
		}
		// In the file's style: a bold-field file gets bold lines.
		out, after, err := frontmatter.EditRecord(frontmatter.Input{Path: rel, Data: data, MaxSize: e.maxSize}, []frontmatter.Change{
			{Key: plainKey, Value: t.Sum()},
			{Key: tallyKey, Value: t},
		})
		if err != nil {
			return nil, err
		}
		rec = after
		return out, nil
	})
	return rec, err
}

// Locked runs fn under the folder's write lock, the lock Update takes: a
// writer that replaces record files by other means (the remote sync
// bringing in a merge) holds it so that neither overwrites the other.
func (e *Editor) Locked(fn func() error) error {
	unlock, err := e.lock()
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}

// lock takes the folder's write lock.
func (e *Editor) lock() (func(), error) {
	dir := filepath.Join(e.memDir, stateDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "write.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open write lock: %w", err)
	}
	if err := lock(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("take write lock: %w", err)
	}
	return func() {
		_ = unlock(f)
		f.Close()
	}, nil
}

// read returns the content and stat of a record, bounded by maxSize.
func (e *Editor) read(abs, clean string) ([]byte, fs.FileInfo, error) {
	f, err := os.Open(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("%s: %w", clean, ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", clean, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("stat %s: %w", clean, err)
	}
	if fi.Size() > e.maxSize {
		return nil, nil, fmt.Errorf("%s is %d bytes, over the %d-byte limit", clean, fi.Size(), e.maxSize)
	}
	data, err := io.ReadAll(io.LimitReader(f, e.maxSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", clean, err)
	}
	return data, fi, nil
}

// sameFile reports whether b is still the file a was: same size, same
// modification time, same inode where the OS tells.
func sameFile(a, b fs.FileInfo) bool {
	return a.Size() == b.Size() && a.ModTime().Equal(b.ModTime()) && os.SameFile(a, b)
}

// writeTemp writes data to a new dot-file in dir ending in .tmp (ignored
// by the watcher and git) with mode perm, fsynced.
func writeTemp(dir string, data []byte, perm fs.FileMode) (string, error) {
	f, err := os.CreateTemp(dir, ".elfsync-edit-*.tmp")
	if err != nil {
		return "", fmt.Errorf("create temp file in %s: %w", dir, err)
	}
	name := f.Name()
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(name)
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	if perm == 0 {
		perm = 0o644
	}
	if err := os.Chmod(name, perm); err != nil {
		os.Remove(name)
		return "", fmt.Errorf("chmod %s: %w", name, err)
	}
	return name, nil
}

// syncDir flushes dir's entries to disk; best effort (Windows cannot).
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
