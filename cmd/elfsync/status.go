package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/emergent-learning/elfsync/committer"
	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/indexer"
	"github.com/emergent-learning/elfsync/instance"
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
	LastCommit   *lastCommit         `json:"last_commit"`
	LastGitError *gitErrorReport     `json:"last_git_error"`
	GitLockHeld  bool                `json:"git_lock_held"`
	GitOperation string              `json:"git_operation,omitempty"`
	Git          bool                `json:"git"`
	NoRepository bool                `json:"no_repository,omitempty"`
	Watcher      watcherReport       `json:"watcher"`
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

Exit status: 0 in sync; 1 drift (rows or commits behind the files);
2 error. Invalid files are reported but are not drift.`)
	asJSON := fs.Bool("json", false, "print one JSON object")
	noGit := fs.Bool("no-git", false, "leave git out of the report")
	maxSize := fs.Int64("max-size", frontmatter.DefaultMaxSize, "the --max-size the index was built with")
	root, err := e.parseRoot(fs, args, rootFlag)
	if err != nil {
		return err
	}
	d, err := indexer.Check(ctx, root, *maxSize)
	if err != nil {
		return mark(errCannotCheck, fmt.Errorf("status: %w", err))
	}
	rep := statusReport{
		Files: d.Files, Rows: d.Rows,
		MissingRows: d.MissingRows, OrphanRows: d.OrphanRows, StaleRows: d.StaleRows,
		Invalid: d.Invalid, Uncommitted: []string{}, Git: !*noGit,
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
	if !*noGit {
		gs, err := committer.ReadStatus(ctx, root)
		if errors.Is(err, committer.ErrNoRepository) {
			err, rep.NoRepository = nil, true
		}
		if err != nil {
			return mark(errCannotCheck, fmt.Errorf("status: git: %w", err))
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
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printStatus(e, rep)
	}
	if !rep.InSync {
		return errNotInSync
	}
	return nil
}

func printStatus(e *cmdEnv, r statusReport) {
	w := e.stdout
	state := "in sync"
	if !r.InSync {
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
