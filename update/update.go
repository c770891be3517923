package update

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/edit"
	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/indexer"
	"github.com/emergent-learning/elfsync/instance"
	"github.com/emergent-learning/elfsync/layout"
	"github.com/emergent-learning/elfsync/query"
	"github.com/emergent-learning/elfsync/record"
)

// ErrNotHeuristic: the record named is not a heuristic.
var ErrNotHeuristic = errors.New("not a heuristic")

// Followed says who brings the index in line with a change.
type Followed struct {
	// IndexedNow is true when this process indexed the file (no watcher
	// runs); the next scan commits it.
	IndexedNow bool `json:"indexed_now"`
	// WatcherPID is the running watcher that indexes and commits it.
	WatcherPID int `json:"watcher_pid,omitempty"`
}

// Note is a sentence for people saying who indexes and commits.
func (f Followed) Note() string {
	if f.IndexedNow {
		return "indexed now (no watcher runs); 'elfsync scan' or 'elfsync watch' commits it"
	}
	return fmt.Sprintf("the running watcher (pid %d) indexes and commits it", f.WatcherPID)
}

// Bumped is a heuristic's counters after a bump.
type Bumped struct {
	Path      string `json:"path"` // root-relative, e.g. memory/heuristics/x.md
	Validated int64  `json:"times_validated"`
	Violated  int64  `json:"times_violated"`
	Followed
}

// Bump adds one to counter c of the heuristic ref in its file, in this
// machine's tally, then has the index follow. ref is an id in the index
// (H-12 or 12) or a path relative to memory/ or ROOT; paths edit.Resolve
// refuses wrap edit.ErrUnsafePath.
func Bump(ctx context.Context, root, ref string, c edit.Counter) (Bumped, error) {
	memDir := filepath.Join(root, layout.MemoryDir)
	rel, section, err := heuristicPath(ctx, root, ref)
	if err != nil {
		return Bumped{}, err
	}
	clean, abs, err := edit.Resolve(memDir, rel)
	if err != nil {
		return Bumped{}, err
	}
	data, err := os.ReadFile(abs)
	if errors.Is(err, os.ErrNotExist) {
		return Bumped{}, fmt.Errorf("%s: %w", rel, edit.ErrNotFound)
	}
	if err != nil {
		return Bumped{}, err
	}
	if frontmatter.IsDomainFile(clean, data) {
		return bumpSection(ctx, root, memDir, clean, section, c)
	}
	rec, err := frontmatter.Parse(frontmatter.Input{Path: clean, Data: data})
	if err != nil {
		return Bumped{}, err
	}
	if rec.Type != frontmatter.TypeHeuristic {
		return Bumped{}, fmt.Errorf("%s is a %s: %w", clean, rec.Type, ErrNotHeuristic)
	}
	host, err := edit.HostID(memDir)
	if err != nil {
		return Bumped{}, err
	}
	if rec, err = edit.New(memDir, 0).Bump(clean, c, host, 1); err != nil {
		return Bumped{}, fmt.Errorf("bump %s: %w", clean, err)
	}
	b := Bumped{Path: layout.RootRel(clean), Validated: rec.TimesValidated, Violated: rec.TimesViolated}
	b.Followed, err = follow(ctx, root, clean)
	return b, err
}

// bumpSection bumps counter c of section "## H-<id>" of the domain file
// rel, in this machine's tally ("**Validated by**:"), then has the index
// follow. Without an id (a path was given) it is refused with ErrSection.
func bumpSection(ctx context.Context, root, memDir, rel string, id int64, c edit.Counter) (Bumped, error) {
	if id == 0 {
		return Bumped{}, fmt.Errorf("%s holds the framework's heuristics as sections: name one by its id (H-<id>): %w", rel, ErrSection)
	}
	host, err := edit.HostID(memDir)
	if err != nil {
		return Bumped{}, err
	}
	b := Bumped{Path: layout.RootRel(rel)}
	if _, err := edit.New(memDir, 0).Update(rel, func(data []byte) ([]byte, error) {
		out, v, x, err := frontmatter.BumpSection(data, id, c == edit.Violated, host, 1)
		b.Validated, b.Violated = v, x
		return out, err
	}); err != nil {
		return Bumped{}, fmt.Errorf("bump H-%d in %s: %w", id, rel, err)
	}
	b.Followed, err = follow(ctx, root, rel)
	return b, err
}

// ErrSection: a path names a multi-record file (the framework's
// heuristics/<domain>.md with "## H-<id>" sections) and not one of its
// heuristics.
var ErrSection = errors.New("a section of a multi-record file")

// heuristicPath turns an id into the heuristic's path through the index,
// with the id as section (its "## H-<id>" when the file is a domain
// file); a path is returned as it is, section 0. A path to a file the
// index holds as several records is refused with ErrSection.
func heuristicPath(ctx context.Context, root, ref string) (string, int64, error) {
	ref = strings.TrimSpace(ref)
	table, id, isID := query.ParseRef(ref)
	if isID && table == "learnings" {
		return "", 0, fmt.Errorf("%s is a learning's id: %w", ref, ErrNotHeuristic)
	}
	db, err := query.Open(ctx, root)
	if (errors.Is(err, query.ErrNoIndex) || errors.Is(err, query.ErrOtherSchema)) && !isID {
		// Nothing indexed yet, or an index the indexing that follows
		// migrates: the path is all there is.
		return ref, 0, nil
	}
	if err != nil {
		return "", 0, err
	}
	defer db.Close()
	if isID {
		items, err := db.Lookup(ctx, fmt.Sprintf("H-%d", id))
		if err != nil {
			return "", 0, err
		}
		if items[0].Path == "" {
			return "", 0, fmt.Errorf("heuristic H-%d has no file yet", id)
		}
		return items[0].Path, id, nil
	}
	if items, err := db.Lookup(ctx, ref); err == nil && len(items) > 1 {
		return "", 0, fmt.Errorf("%s holds %d records: %w", ref, len(items), ErrSection)
	}
	return ref, 0, nil
}

// Written is a new record's path and who indexes it.
type Written struct {
	Path string `json:"path"` // root-relative
	Followed
}

// Record writes a new record exactly as `elfsync record TYPE` does with
// these field values (record.Write), then has the index follow.
func Record(ctx context.Context, root, typ string, fields map[string]string, now time.Time) (Written, error) {
	memDir := filepath.Join(root, layout.MemoryDir)
	path, err := record.Write(memDir, typ, fields, now)
	if err != nil {
		return Written{}, err
	}
	rel, err := filepath.Rel(memDir, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return Written{}, fmt.Errorf("recorded file %s is outside %s", path, memDir)
	}
	rel = filepath.ToSlash(rel)
	w := Written{Path: layout.RootRel(rel)}
	w.Followed, err = follow(ctx, root, rel)
	return w, err
}

// follow indexes a memory-relative path now, unless a watcher runs.
func follow(ctx context.Context, root, rel string) (Followed, error) {
	if inst := instance.Read(root); inst.Running {
		return Followed{WatcherPID: inst.PID}, nil
	}
	if err := IndexNow(ctx, root, []string{rel}); err != nil {
		return Followed{}, fmt.Errorf("%s is written but indexing it failed (the next scan will): %w", layout.RootRel(rel), err)
	}
	return Followed{IndexedNow: true}, nil
}

// lockTimeout bounds the wait for another process indexing at once.
const lockTimeout = time.Minute

// IndexNow indexes memory-relative paths in this process. Callers do so
// only when no watcher runs; processes doing it take turns on
// memory/.elfsync/index.lock.
func IndexNow(ctx context.Context, root string, paths []string) error {
	unlock, err := lockWait(ctx, filepath.Join(root, layout.MemoryDir, ".elfsync", "index.lock"), lockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	ix, err := indexer.Open(ctx, indexer.Options{Root: root, Logger: zerolog.Nop()})
	if err != nil {
		return err
	}
	_, err = ix.Sync(ctx, paths)
	if cerr := ix.Close(); err == nil {
		err = cerr
	}
	return err
}

// lockWait takes an OS lock on path, polling until timeout.
func lockWait(ctx context.Context, path string, timeout time.Duration) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	for {
		err := tryLock(f)
		if err == nil {
			return func() {
				_ = unlock(f)
				f.Close()
			}, nil
		}
		if !errors.Is(err, errLocked) || time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 20*time.Millisecond)
	}
}
