package main

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
	"github.com/emergent-learning/elfsync/query"
)

func cmdHeuristic(ctx context.Context, e *cmdEnv, args []string) error {
	if len(args) == 0 || (args[0] != "validate" && args[0] != "violate") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fmt.Fprintln(e.stdout, "Usage: elfsync heuristic validate|violate [--root ROOT] ID|PATH")
			return nil
		}
		return &exitError{Code: 2, Err: errors.New("heuristic: want validate or violate: elfsync heuristic validate|violate ID|PATH")}
	}
	verb := args[0]
	fs, rootFlag := e.newFlagSet("heuristic "+verb, "[--root ROOT] ID|PATH", `
Add one to a heuristic's times_validated (validate) or times_violated
(violate). The count is kept in the heuristic's file, in this machine's
per-host tally, so it survives everything the file survives (a rebuilt
index, a clone, a merge with another host's counts). ID is the heuristic's
id in the index (H-12 or 12); PATH is its file, relative to memory/ or to
ROOT (heuristics/x.md, memory/heuristics/x.md).

The file is edited in place atomically under a lock, so concurrent bumps
from many processes lose none. If elfsync watch runs, it indexes and
commits the change; otherwise the file is indexed at once (so the index
row is right when the command returns) and the next scan commits it.`)
	words, err := e.parseInterleaved(fs, args[1:])
	if err != nil {
		return err
	}
	if len(words) != 1 {
		return &exitError{Code: 2, Err: fmt.Errorf("heuristic %s: want one ID or PATH, got %d arguments", verb, len(words))}
	}
	root, err := e.resolveRoot(*rootFlag)
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	c := edit.Validated
	if verb == "violate" {
		c = edit.Violated
	}
	res, err := bumpHeuristic(ctx, root, words[0], c)
	if err != nil {
		if errors.Is(err, edit.ErrUnsafePath) || errors.Is(err, errNotHeuristic) {
			return &exitError{Code: 2, Err: err}
		}
		return err
	}
	fmt.Fprintln(e.stdout, res.String())
	return nil
}

// bumpResult says what a counter bump did.
type bumpResult struct {
	Path      string `json:"path"` // root-relative
	Validated int64  `json:"times_validated"`
	Violated  int64  `json:"times_violated"`
	// Indexed is true when the file was indexed by this process; false when
	// a running watcher will.
	Indexed    bool `json:"indexed_now"`
	WatcherPID int  `json:"watcher_pid,omitempty"`
}

func (r bumpResult) String() string {
	s := fmt.Sprintf("%s: times_validated %d, times_violated %d\n", r.Path, r.Validated, r.Violated)
	if r.Indexed {
		return s + "indexed now (no watcher runs); 'elfsync scan' commits it"
	}
	return s + fmt.Sprintf("the running watcher (pid %d) indexes and commits it", r.WatcherPID)
}

// errNotHeuristic: the record named is not a heuristic.
var errNotHeuristic = errors.New("not a heuristic")

// bumpHeuristic adds one to counter c of the heuristic ref (an id or a
// path) in its file, then makes sure the index follows: a running watcher
// will; otherwise the file is indexed here. Used by `elfsync heuristic` and
// the MCP server.
func bumpHeuristic(ctx context.Context, root, ref string, c edit.Counter) (bumpResult, error) {
	memDir := filepath.Join(root, indexer.MemoryDir)
	rel, err := heuristicPath(ctx, root, ref)
	if err != nil {
		return bumpResult{}, err
	}
	clean, abs, err := edit.Resolve(memDir, rel)
	if err != nil {
		return bumpResult{}, err
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return bumpResult{}, fmt.Errorf("%s: %w", rel, edit.ErrNotFound)
		}
		return bumpResult{}, err
	}
	if rec, err := frontmatter.Parse(frontmatter.Input{Path: clean, Data: data}); err != nil {
		return bumpResult{}, err
	} else if rec.Type != frontmatter.TypeHeuristic {
		return bumpResult{}, fmt.Errorf("%s is a %s: %w", clean, rec.Type, errNotHeuristic)
	}
	host, err := edit.HostID(memDir)
	if err != nil {
		return bumpResult{}, err
	}
	rec, err := edit.New(memDir, 0).Bump(clean, c, host, 1)
	if err != nil {
		return bumpResult{}, fmt.Errorf("bump %s: %w", clean, err)
	}
	res := bumpResult{Path: indexer.MemoryDir + "/" + clean, Validated: rec.TimesValidated, Violated: rec.TimesViolated}
	if w := readInstance(root); w.Running {
		res.WatcherPID = w.PID
		return res, nil
	}
	if err := indexPaths(ctx, root, []string{clean}); err != nil {
		return res, fmt.Errorf("the file is bumped but indexing it failed (the next scan will): %w", err)
	}
	res.Indexed = true
	return res, nil
}

// heuristicPath turns an id (H-12, 12) into the heuristic's path through
// the index; a path is returned as it is.
func heuristicPath(ctx context.Context, root, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	table, id, ok := query.ParseRef(ref)
	if !ok {
		return ref, nil
	}
	if table == "learnings" {
		return "", fmt.Errorf("%s is a learning's id: %w", ref, errNotHeuristic)
	}
	db, err := query.Open(ctx, root)
	if err != nil {
		return "", err
	}
	defer db.Close()
	items, err := db.Lookup(ctx, fmt.Sprintf("H-%d", id))
	if err != nil {
		return "", err
	}
	if items[0].Path == "" {
		return "", fmt.Errorf("heuristic H-%d has no file yet", id)
	}
	return items[0].Path, nil
}

// indexPaths indexes memory-relative paths in this process, when no
// watcher runs. Processes doing so take turns on a lock file, so the last
// one to index reads the file after the last bump: its row ends right.
func indexPaths(ctx context.Context, root string, paths []string) error {
	unlock, err := lockWait(ctx, filepath.Join(root, indexer.MemoryDir, ".elfsync", "index.lock"), time.Minute)
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
		err := lockFile(f)
		if err == nil {
			return func() {
				_ = unlockFile(f)
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
