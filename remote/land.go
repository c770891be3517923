package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/edit"
	"github.com/emergent-learning/elfsync/frontmatter"
)

// land brings the work tree from commit old ("" for none) to commit new,
// file by file: a file that still holds old's version is replaced (or
// removed); one that already holds new's is left; one that changed since
// (a write that arrived meanwhile) gets new's changes merged into it, so
// that write is never overwritten. The watcher sees the writes as it sees
// any other. It returns how many files it wrote or removed.
func (s *Syncer) land(ctx context.Context, old, new string) (int, error) {
	oldTree := s.emptyTree()
	if old != "" {
		oldTree = old + "^{tree}"
	}
	changes, err := s.diffTrees(ctx, oldTree, new+"^{tree}")
	if err != nil {
		return 0, err
	}
	if len(changes) == 0 {
		return 0, nil
	}
	// Files an interrupted landing finished hold the merge's version, and
	// maybe a local write made since: landing them again would merge the
	// merge's change in twice (a counter's base entry counted twice).
	done := s.readLanded()
	rec, err := os.OpenFile(s.landedPath(), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return 0, fmt.Errorf("record landed files: %w", err)
	}
	defer rec.Close()
	cf, err := s.startCatFile(ctx)
	if err != nil {
		return 0, err
	}
	defer cf.close()
	n := 0
	var errs []error
	for _, c := range changes {
		if (c.new.present() && !c.new.regular()) || done[c.path] {
			continue
		}
		var wrote bool
		err := s.editor.Locked(func() error {
			var err error
			wrote, err = s.landOne(ctx, cf, c, new)
			return err
		})
		if errors.Is(err, errLeftAlone) {
			// The work tree has something elfsync does not replace
			// there (a symlink, a folder): it stays, git has the merge's
			// version, and the committer records what is on disk.
			s.log.Warn().Err(err).Str("path", "memory/"+c.path).Msg("a file from the merge was not written")
			err = nil
		}
		if err != nil {
			errs = append(errs, err)
			s.log.Warn().Err(err).Str("path", "memory/"+c.path).Msg("could not update a file from the merge")
			continue
		}
		// Not synced, as the file itself is not: a SIGKILL keeps both.
		if _, err := rec.Write([]byte(c.path + "\x00")); err != nil {
			return n, fmt.Errorf("record landed files: %w", err)
		}
		if wrote {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// landedPath lists, NUL-terminated, the paths the merge in the journal
// has landed.
func (s *Syncer) landedPath() string {
	return filepath.Join(s.memDir, ".elfsync", "sync-landed")
}

// readLanded returns the paths landedPath lists; a last entry a crash cut
// short is not one.
func (s *Syncer) readLanded() map[string]bool {
	b, err := os.ReadFile(s.landedPath())
	if err != nil {
		return nil
	}
	entries := strings.Split(string(b), "\x00")
	done := make(map[string]bool, len(entries))
	for _, p := range entries[:len(entries)-1] {
		done[p] = true
	}
	return done
}

// errLeftAlone marks a path landing never writes: retrying cannot help.
var errLeftAlone = errors.New("left alone")

// landRetries bounds how often one file is retried when it keeps changing
// under elfsync.
const landRetries = 20

func (s *Syncer) landOne(ctx context.Context, cf *catFile, c rawChange, newCommit string) (bool, error) {
	abs, err := s.safePath(c.path)
	if err != nil {
		return false, fmt.Errorf("%w: %v", errLeftAlone, err)
	}
	for range landRetries {
		fi, cur, err := s.diskState(abs)
		if err != nil {
			return false, err
		}
		if fi != nil && !fi.Mode().IsRegular() {
			return false, fmt.Errorf("%w: memory/%s is not a regular file", errLeftAlone, c.path)
		}
		switch {
		case cur == c.new.oid: // "" == "" when both absent
			return false, nil
		case cur == c.old.oid:
			ok, err := s.replace(cf, abs, fi, c.new, nil)
			if err != nil || ok {
				return ok, err
			}
			continue // changed under us: look again
		}
		// A write arrived after old: merge the merge's change into it.
		var ours Version
		if fi != nil && fi.Size() > maxBlob {
			s.log.Warn().Str("path", "memory/"+c.path).Msg("a very large local file changed during a merge: it stays; the merge's version is in git")
			return false, nil
		}
		if fi != nil {
			data, err := os.ReadFile(abs)
			if err != nil {
				return false, err
			}
			ours = Version{Present: true, Data: data}
		}
		read := func(e entry) (Version, error) {
			if !e.present() {
				return Version{}, nil
			}
			d, err := cf.read(e.oid)
			return Version{Present: true, Data: d}, err
		}
		var theirs Version
		base, err := read(c.old)
		if err == nil {
			var theirsErr error
			theirs, theirsErr = read(c.new)
			err = theirsErr
		}
		if errors.Is(err, errBlobTooLarge) {
			s.log.Warn().Str("path", "memory/"+c.path).Msg("a local write and a very large file from the merge: the local file stays; the merge's version is in git")
			return false, nil
		}
		if err != nil {
			return false, err
		}
		m, err := MergeFile(ctx, GitMerger{Dir: s.gitDir}, base, ours, theirs, s.cfg.MaxSize)
		if err != nil {
			return false, err
		}
		if m.Conflict && theirs.Present {
			stamp := s.commitStamp(ctx, newCommit)
			name := conflictName(c.path, newCommit[:8], stamp, func(p string) bool {
				_, err := os.Lstat(filepath.Join(s.memDir, filepath.FromSlash(p)))
				return err == nil
			})
			cabs, err := s.safePath(name)
			if err == nil {
				_, err = s.replace(nil, cabs, nil, entry{mode: c.new.mode}, conflictCopy(c.path, theirs.Data, newCommit, stamp))
			}
			if err != nil {
				return false, err
			}
			s.log.Warn().Str("path", "memory/"+c.path).Str("copy", "memory/"+name).
				Msg("a local write and the merge could not be merged: both versions kept")
		}
		var want entry
		var data []byte
		if m.Present {
			if ours.Present && bytes.Equal(m.Data, ours.Data) {
				return false, nil
			}
			want, data = entry{mode: c.new.mode}, m.Data
			if want.mode == "" {
				want.mode = "100644"
			}
		} else if !ours.Present {
			return false, nil
		}
		ok, err := s.replace(cf, abs, fi, want, data)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, fmt.Errorf("memory/%s kept changing; left for the next round", c.path)
}

// diskState returns a path's stat and git object id ("" when absent).
func (s *Syncer) diskState(abs string) (fs.FileInfo, string, error) {
	fi, err := os.Lstat(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	if !fi.Mode().IsRegular() {
		return fi, "?", nil
	}
	f, err := os.Open(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "", nil
		}
		return nil, "", err
	}
	defer f.Close()
	oid, err := s.blobID(f, fi.Size())
	if err != nil {
		return fi, "?", nil // changing as we read: it differs from both
	}
	return fi, oid, nil
}

// replace makes abs hold want (from the object store, or data when given)
// or removes it when want is absent, provided abs is still what fi says (a
// nil fi: still absent). It reports false when abs changed meanwhile.
func (s *Syncer) replace(cf *catFile, abs string, fi fs.FileInfo, want entry, data []byte) (bool, error) {
	if !want.present() && data == nil {
		if fi == nil {
			return true, nil
		}
		now, err := os.Lstat(abs)
		if errors.Is(err, fs.ErrNotExist) {
			return true, nil
		}
		if err != nil || !sameFile(fi, now) {
			return false, nil
		}
		if err := os.Remove(abs); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, err
		}
		return true, nil
	}
	stream := false
	if data == nil {
		var err error
		data, err = cf.readMax(want.oid, s.cfg.MaxSize)
		if errors.Is(err, errBlobTooLarge) {
			stream = true // copied from git to the file, never held in memory
		} else if err != nil {
			return false, err
		}
	}
	dir := filepath.Dir(abs)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	perm := fs.FileMode(0o644)
	if want.mode == "100755" {
		perm = 0o755
	}
	// Not fsynced: a SIGKILL keeps the page cache, and the per-file sync
	// made landing a large merge take seconds (~100 files/s).
	var tmp string
	var err error
	if stream {
		tmp, err = s.streamBlob(dir, want.oid, perm)
	} else {
		tmp, err = writeTemp(dir, data, perm, false)
	}
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp)
	if fi == nil {
		// Create only: a file that appeared meanwhile is not overwritten.
		if err := os.Link(tmp, abs); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return false, nil
			}
			return false, err
		}
		return true, nil
	}
	now, err := os.Lstat(abs)
	if err != nil || !sameFile(fi, now) {
		return false, nil
	}
	if err := os.Rename(tmp, abs); err != nil {
		return false, err
	}
	return true, nil
}

// streamBlob copies blob oid into a new temporary file in dir.
func (s *Syncer) streamBlob(dir, oid string, perm fs.FileMode) (string, error) {
	f, err := os.CreateTemp(dir, ".elfsync-land-*.tmp")
	if err != nil {
		return "", err
	}
	name := f.Name()
	cmd := s.git.Command(context.Background(), "cat-file", "blob", oid)
	cmd.Stdout = f
	err = cmd.Run()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(name, perm)
	}
	if err != nil {
		os.Remove(name)
		return "", fmt.Errorf("copy %s from git: %w", oid, err)
	}
	return name, nil
}

func sameFile(a, b fs.FileInfo) bool {
	return a.Size() == b.Size() && a.ModTime().Equal(b.ModTime()) && os.SameFile(a, b)
}

func writeTemp(dir string, data []byte, perm fs.FileMode, durable bool) (string, error) {
	f, err := os.CreateTemp(dir, ".elfsync-land-*.tmp")
	if err != nil {
		return "", err
	}
	name := f.Name()
	_, werr := f.Write(data)
	var serr error
	if durable {
		serr = f.Sync()
	}
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(name)
		return "", err
	}
	if err := os.Chmod(name, perm); err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

// safePath returns the absolute path of rel under memory/, refusing a path
// that leaves it or goes through a symlink or a file.
func (s *Syncer) safePath(rel string) (string, error) {
	if rel == "" || strings.HasPrefix(rel, "/") || strings.Contains(rel, "\\") || strings.ContainsRune(rel, 0) {
		return "", fmt.Errorf("unsafe path %q", rel)
	}
	elems := strings.Split(rel, "/")
	for _, el := range elems {
		if el == "" || el == "." || el == ".." || strings.EqualFold(el, ".git") {
			return "", fmt.Errorf("unsafe path %q", rel)
		}
	}
	cur := s.memDir
	for _, el := range elems[:len(elems)-1] {
		cur = filepath.Join(cur, el)
		fi, err := os.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return "", err
		}
		if !fi.IsDir() {
			return "", fmt.Errorf("memory/%s goes through a symlink or a file", rel)
		}
	}
	return filepath.Join(s.memDir, filepath.FromSlash(rel)), nil
}

// journal records a merge whose files may not all have landed yet.
type journal struct {
	Ref  string    `json:"ref"` // the branch that moved to New
	Old  string    `json:"old"`
	New  string    `json:"new"`
	Time time.Time `json:"time"`
}

func (s *Syncer) journalPath() string {
	return filepath.Join(s.memDir, ".elfsync", "sync-journal.json")
}

func (s *Syncer) writeJournal(j journal) error {
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	// A list a crash left belongs to an older merge.
	if err := os.Remove(s.landedPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write sync journal: %w", err)
	}
	if err := writeFileAtomic(s.journalPath(), b); err != nil {
		return fmt.Errorf("write sync journal: %w", err)
	}
	return nil
}

func (s *Syncer) removeJournal() {
	os.Remove(s.journalPath())
	os.Remove(s.landedPath())
}

// Recover finishes a merge that a crash (SIGKILL, power loss) interrupted
// after the branch moved: the files still holding the old version are
// brought to the merge's, as land does. It must run before anything
// commits the work tree, and Open runs it. Files the interrupted landing
// recorded as done are left alone, so recovering counts nothing twice.
func (s *Syncer) Recover(ctx context.Context) error {
	b, err := os.ReadFile(s.journalPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read sync journal: %w", err)
	}
	var j journal
	if err := json.Unmarshal(b, &j); err != nil || j.New == "" {
		s.log.Warn().Msg("unreadable sync journal removed")
		s.removeJournal()
		return nil
	}
	ref := s.local
	if strings.HasPrefix(j.Ref, "refs/heads/") {
		ref = j.Ref
	}
	head := s.revParse(ctx, ref)
	if anc, err := s.isAncestor(ctx, j.New, head); err != nil || !anc {
		// The branch never moved to the merge: nothing landed.
		s.removeJournal()
		return err
	}
	n, err := s.land(ctx, j.Old, j.New)
	if err != nil {
		return fmt.Errorf("finish interrupted merge: %w", err)
	}
	s.removeJournal()
	s.log.Warn().Str("merge", short(j.New)).Int("files", n).Msg("finished a merge an interruption left half-landed")
	return nil
}

// writeFileAtomic writes p through a synced temporary file and a rename.
func writeFileAtomic(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp, err := writeTemp(filepath.Dir(p), data, 0o644, true)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// FinishInterrupted finishes a merge that a crash left half-landed in
// root's memory/ (see Recover), for commands that commit without syncing
// (`scan`): without it they would commit the stale files and undo the
// merge. It is cheap when there is nothing to finish.
func FinishInterrupted(ctx context.Context, root string, log zerolog.Logger) error {
	memDir := filepath.Join(root, "memory")
	if _, err := os.Lstat(filepath.Join(memDir, ".elfsync", "sync-journal.json")); err != nil {
		return nil
	}
	s := &Syncer{
		cfg:    Config{Root: root, MaxSize: frontmatter.DefaultMaxSize},
		log:    log.With().Str("component", "remote").Logger(),
		memDir: memDir,
		git:    newGit(memDir),
		editor: edit.New(memDir, 0),
	}
	var err error
	if s.gitDir, err = s.git.Out(ctx, "rev-parse", "--absolute-git-dir"); err != nil {
		return fmt.Errorf("finish interrupted merge: %w", err)
	}
	s.local, _ = s.git.Out(ctx, "symbolic-ref", "-q", "HEAD") // the journal names its branch
	if f, _ := s.git.Out(ctx, "rev-parse", "--show-object-format"); f == "sha256" {
		s.sha256 = true
	}
	if err := s.writeEmptyTree(ctx); err != nil {
		return err
	}
	return s.Recover(ctx)
}
