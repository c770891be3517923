package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/emergent-learning/elfsync/committer"
	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/indexer"
	"github.com/emergent-learning/elfsync/instance"
	"github.com/emergent-learning/elfsync/layout"
)

// statusReport is what `elfsync status --json` prints (DESIGN.md).
type statusReport struct {
	InSync       bool                `json:"in_sync"`
	Files        int                 `json:"files"`
	Rows         int                 `json:"rows"`
	MissingRows  []string            `json:"missing_rows"`
	OrphanRows   []string            `json:"orphan_rows"`
	StaleRows    []string            `json:"stale_rows"`
	Invalid      []indexer.FileError `json:"invalid"`
	Uncommitted  []string            `json:"uncommitted"`
	Pending      []string            `json:"pending"` // drift a running watcher is still within its deadlines for
	LastCommit   *lastCommit         `json:"last_commit"`
	LastGitError *gitErrorReport     `json:"last_git_error"`
	GitLockHeld  bool                `json:"git_lock_held"`
	GitOperation string              `json:"git_operation,omitempty"`
	Git          bool                `json:"git"`
	NoRepository bool                `json:"no_repository,omitempty"`
	Watcher      watcherReport       `json:"watcher"`

	onlyPending bool // all drift is pending: exit 0
}

type lastCommit struct {
	Hash    string    `json:"hash"`
	Subject string    `json:"subject"`
	Time    time.Time `json:"time"`
}

type gitErrorReport struct {
	Error string    `json:"error"`
	Time  time.Time `json:"time"`
}

type watcherReport struct {
	Running  bool       `json:"running"`
	PID      int        `json:"pid,omitempty"`
	Since    *time.Time `json:"since,omitempty"`
	LastScan *time.Time `json:"last_scan"`
}

func cmdStatus(ctx context.Context, e *cmdEnv, args []string) error {
	fs, rootFlag := e.newFlagSet("status", "[flags]", `
Show drift at a glance: record files against index rows (missing, orphan
and stale rows), invalid files with their errors, paths under memory/ not
yet committed, the last commit and git error, and whether a watcher runs.
It changes nothing.

Drift that a running watcher has not caught up with yet, within the
deadlines it publishes (its settle time for the index, its quiet period and
--max-wait for git), is pending, not drift: it is listed under pending and
status exits 0. --wait blocks until everything is in sync (or the time is
up) and then reports.

Exit status: 0 in sync, or only pending work; 1 drift (rows or commits
behind the files); 2 error. Invalid files are reported but are not drift.`)
	asJSON := fs.Bool("json", false, "print one JSON object")
	noGit := fs.Bool("no-git", false, "leave git out of the report")
	maxSize := fs.Int64("max-size", frontmatter.DefaultMaxSize, "the --max-size the index was built with")
	wait := fs.Duration("wait", 0, "wait up to this long (e.g. 30s) for everything to be in sync, then report")
	root, err := e.parseRoot(fs, args, rootFlag)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(*wait)
	rep, err := readStatus(ctx, root, *maxSize, !*noGit)
	for err == nil && !rep.InSync && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		rep, err = readStatus(ctx, root, *maxSize, !*noGit)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printStatus(e, rep)
	}
	if !rep.InSync && !rep.onlyPending {
		return errNotInSync
	}
	return nil
}

// readStatus gathers the report: the index's drift, git's side, the
// watcher, and which drift the watcher is still within its deadlines for.
func readStatus(ctx context.Context, root string, maxSize int64, withGit bool) (statusReport, error) {
	if _, err := os.Stat(filepath.Join(root, layout.MemoryDir)); errors.Is(err, fs.ErrNotExist) {
		return statusReport{}, mark(errNoRoot, fmt.Errorf("root %s has no memory folder yet; to create it, run: elfsync init --root %s", root, shellQuote(root)))
	}
	d, err := indexer.Check(ctx, root, maxSize)
	if err != nil {
		return statusReport{}, mark(errCannotCheck, fmt.Errorf("status: %w", err))
	}
	rep := statusReport{
		Files: d.Files, Rows: d.Rows,
		MissingRows: d.MissingRows, OrphanRows: d.OrphanRows, StaleRows: d.StaleRows,
		Invalid: d.Invalid, Uncommitted: []string{}, Pending: []string{}, Git: withGit,
	}
	if !d.LastScan.IsZero() {
		t := d.LastScan
		rep.Watcher.LastScan = &t
	}
	inst := instance.Read(root)
	rep.Watcher.Running, rep.Watcher.PID = inst.Running, inst.PID
	if inst.Running && !inst.Started.IsZero() {
		rep.Watcher.Since = &inst.Started
	}
	if withGit {
		gs, err := committer.ReadStatus(ctx, root)
		if errors.Is(err, committer.ErrNoRepository) {
			err, rep.NoRepository = nil, true
		}
		if err != nil {
			return rep, mark(errCannotCheck, fmt.Errorf("status: git: %w", err))
		}
		if gs.Uncommitted != nil {
			rep.Uncommitted = gs.Uncommitted
		}
		if gs.LastCommit.Hash != "" {
			rep.LastCommit = &lastCommit{Hash: gs.LastCommit.Hash, Subject: gs.LastCommit.Subject, Time: gs.LastCommit.Time}
		}
		if gs.LastError != "" {
			rep.LastGitError = &gitErrorReport{Error: gs.LastError, Time: gs.LastErrorTime}
		}
		rep.GitLockHeld, rep.GitOperation = gs.LockHeld, gs.Operation
	}
	rep.InSync = d.InSync() && len(rep.Uncommitted) == 0
	if rep.Git && rep.LastCommit == nil && d.Files > 0 {
		rep.InSync = false // nothing committed yet
	}
	if !rep.InSync && inst.Running {
		rep.Pending, rep.onlyPending = pending(root, rep, inst.State, time.Now())
	}
	return rep, nil
}

// pending returns the drifting paths that the running watcher is still
// within its deadlines for, and whether that is all the drift: a path
// changed (its own mtime, or its folder's for one that is gone) less than
// the index deadline ago for a row, or the commit deadline ago for git; or
// the watcher is in a full scan.
func pending(root string, rep statusReport, st instance.State, now time.Time) ([]string, bool) {
	out := []string{}
	all := true
	check := func(paths []string, deadline time.Duration) {
		for _, p := range paths {
			if st.Scanning || now.Sub(changedAt(filepath.Join(root, filepath.FromSlash(p)))) < deadline {
				out = append(out, p)
			} else {
				all = false
			}
		}
	}
	check(rep.MissingRows, st.IndexDeadline)
	check(rep.StaleRows, st.IndexDeadline)
	check(rep.OrphanRows, st.IndexDeadline)
	check(rep.Uncommitted, st.CommitDeadline)
	if rep.Git && rep.LastCommit == nil && !st.Scanning {
		all = false // nothing committed yet, and nothing on its way
	}
	slices.Sort(out)
	return slices.Compact(out), all
}

// changedAt returns when path last changed: its mtime, or, once it is gone,
// that of the nearest folder above it that exists (removing or renaming an
// entry updates its folder's mtime).
func changedAt(path string) time.Time {
	for p := path; ; p = filepath.Dir(p) {
		if info, err := os.Lstat(p); err == nil {
			if p == path {
				if dir, err := os.Lstat(filepath.Dir(p)); err == nil && dir.ModTime().After(info.ModTime()) {
					return dir.ModTime()
				}
			}
			return info.ModTime()
		}
		if filepath.Dir(p) == p {
			return time.Time{}
		}
	}
}

func printStatus(e *cmdEnv, r statusReport) {
	w := e.stdout
	state := "in sync"
	switch {
	case r.onlyPending:
		state = "pending"
	case !r.InSync:
		state = "DRIFT"
	}
	fmt.Fprintf(w, "%s: %s, %s\n", state, count(r.Files, "file"), count(r.Rows, "row"))
	list := func(label string, paths []string) {
		if len(paths) == 0 {
			return
		}
		fmt.Fprintf(w, "%s (%d):\n", label, len(paths))
		for i, p := range paths {
			if i == 20 {
				fmt.Fprintf(w, "  … and %d more (see --json)\n", len(paths)-20)
				break
			}
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	list("pending, the running watcher is on it", r.Pending)
	if r.onlyPending {
		r.MissingRows, r.OrphanRows, r.StaleRows, r.Uncommitted = nil, nil, nil, nil
	}
	list("files without a row", r.MissingRows)
	list("rows without a file", r.OrphanRows)
	list("rows behind their file", r.StaleRows)
	if len(r.Invalid) > 0 {
		fmt.Fprintf(w, "invalid files (%d, tracked and committed, not indexed until fixed):\n", len(r.Invalid))
		for _, fe := range r.Invalid {
			fmt.Fprintf(w, "  %s: %s\n", fe.Path, fe.Error)
		}
	}
	if r.Git {
		list("uncommitted", r.Uncommitted)
		switch {
		case r.NoRepository:
			fmt.Fprintln(w, "last commit: none (no git repository yet: the first `elfsync scan` or `elfsync watch` creates one)")
		case r.LastCommit != nil:
			fmt.Fprintf(w, "last commit: %s %s (%s)\n", committer.ShortHash(r.LastCommit.Hash), r.LastCommit.Subject, r.LastCommit.Time.Local().Format(time.DateTime))
		default:
			fmt.Fprintln(w, "last commit: none")
		}
		if r.GitLockHeld {
			fmt.Fprintln(w, "git: index.lock held by another process; commits wait for it")
		}
		if r.GitOperation != "" {
			fmt.Fprintf(w, "git: %s in progress; commits wait for it\n", r.GitOperation)
		}
		if r.LastGitError != nil {
			fmt.Fprintf(w, "last git error: %s (%s)\n", r.LastGitError.Error, r.LastGitError.Time.Local().Format(time.DateTime))
		}
	}
	if r.Watcher.Running {
		fmt.Fprintf(w, "watcher: running (pid %d)\n", r.Watcher.PID)
	} else {
		fmt.Fprintln(w, "watcher: not running")
	}
	if r.Watcher.LastScan != nil {
		fmt.Fprintf(w, "last full scan: %s\n", r.Watcher.LastScan.Local().Format(time.DateTime))
	}
}
