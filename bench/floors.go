package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Floors and peers: what the same work costs without elfsync, measured in
// the same run on the same files, so that every elfsync figure can be
// printed beside its floor as a ratio (ratios within one run hold on a
// busy machine better than absolute times do).
//
//   - find: `find memory -name '*.md'`, the cost of walking the tree;
//   - read + insert: bench/floor, reading every file and inserting path,
//     size, mtime and content into SQLite (modernc, elfsync's pragmas) in
//     one transaction: the least a cold index of rows costs;
//   - FTS5: the same plus an FTS5 (unicode61) index of the contents, in the
//     same transaction: the least a cold full-text index costs;
//   - update: bench/floor on the database the FTS5 floor built, after 1% of
//     the notes were modified: each read again, its row updated and its FTS5
//     entry replaced (contentless, so no old text is tokenized), in one
//     transaction, checkpoint at close included; timed from the first read,
//     without the walk that found them. Added to elfsync's own no-op scan,
//     it is the least a scan of the modified notes costs;
//   - git status: `git status --porcelain` of the same files, committed in a
//     repository whose git dir lies outside the root: the least a no-op
//     check of every file costs (git keeps its own stat cache);
//   - git add -A + commit of the same files in a fresh repository: the least
//     a commit of a burst costs.

// gitFloor runs git on mem (as its work tree) with the repository in
// gitDir, outside the root, so elfsync never sees it.
func (e *env) gitFloor(ctx context.Context, timeout time.Duration, gitDir, mem string, args ...string) (timed, error) {
	argv := append([]string{"-c", "gc.auto=0", "-c", "maintenance.auto=false", "-c", "core.quotepath=off",
		"-c", "user.name=bench", "-c", "user.email=bench@localhost",
		"--git-dir", gitDir, "--work-tree", mem}, args...)
	return timedRun(ctx, timeout, e.timeTool, e.work, "git", argv...)
}

// gitAddCommit creates a fresh repository in gitDir and times `git add -A`
// plus `git commit` of every file in mem.
func (e *env) gitAddCommit(ctx context.Context, gitDir, mem string, files int) (time.Duration, error) {
	if err := os.RemoveAll(gitDir); err != nil {
		return 0, err
	}
	timeout := time.Minute + time.Duration(files)*10*time.Millisecond
	if _, err := e.gitFloor(ctx, time.Minute, gitDir, mem, "init", "-q"); err != nil {
		return 0, err
	}
	// Keep elfsync's index files out, as its own .gitignore does.
	if err := os.WriteFile(filepath.Join(gitDir, "info", "exclude"), []byte("index.db*\nfloor.db*\n"), 0o644); err != nil {
		return 0, err
	}
	add, err := e.gitFloor(ctx, timeout, gitDir, mem, "add", "-A")
	if err != nil {
		return 0, err
	}
	commit, err := e.gitFloor(ctx, timeout, gitDir, mem, "commit", "-q", "-m", "floor")
	if err != nil {
		return 0, err
	}
	return add.Wall + commit.Wall, nil
}

// floorRun runs bench/floor (insert or fts5) on root and returns its wall
// time and peak RSS.
func (e *env) floorRun(ctx context.Context, mode, root string, files int) (timed, error) {
	t, err := e.floorExec(ctx, mode, root, files)
	// The floor's database is not part of the corpus.
	if rerr := removeFloorDB(root); err == nil {
		err = rerr
	}
	return t, err
}

// floorExec runs bench/floor (insert, fts5 or update) on root, leaving
// its database.
func (e *env) floorExec(ctx context.Context, mode, root string, files int) (timed, error) {
	return timedRun(ctx, scanTimeout(files), e.timeTool, e.work, e.floorBin, mode, root)
}

// floorUpdated is what `floor update` prints.
type floorUpdated struct {
	Files        int     `json:"files"`
	WriteSeconds float64 `json:"write_seconds"`
}

// floorUpdate runs `floor update` on root, whose floor.db an fts5 run
// left (floorExec), and returns what it printed.
func (e *env) floorUpdate(ctx context.Context, root string, files int) (floorUpdated, error) {
	t, err := e.floorExec(ctx, "update", root, files)
	if err != nil {
		return floorUpdated{}, err
	}
	var u floorUpdated
	if err := json.Unmarshal(t.Stdout, &u); err != nil {
		return floorUpdated{}, fmt.Errorf("floor update output: %w", err)
	}
	return u, nil
}

// removeFloorDB removes root's floor.db and its journal files.
func removeFloorDB(root string) error { return removeDB(filepath.Join(root, "floor.db")) }

// ratio adds a "vs X" figure: elfsync's value over the floor's, when both
// exist.
func (e *env) ratio(scenario, cas, name string, num, den float64) {
	if den > 0 && num > 0 {
		e.res.add(scenario, cas, name, "×", num/den)
	}
}

// buildFloor builds bench/floor next to the elfsync binary.
func (e *env) buildFloor(ctx context.Context, goTool string) error {
	e.floorBin = filepath.Join(e.work, "floor")
	if _, err := runCmd(ctx, 15*time.Minute, e.repo, goTool, "build", "-o", e.floorBin, "./bench/floor"); err != nil {
		return fmt.Errorf("build bench/floor: %w", err)
	}
	return nil
}
