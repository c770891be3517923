package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/committer"
	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/indexer"
	"github.com/emergent-learning/elfsync/remote"
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
	Watcher      watcherReport       `json:"watcher"`
	// Remote is the sync state with a git remote; absent until memory/
	// was first synced (`sync`, `watch --remote`).
	Remote *remote.Status `json:"remote,omitempty"`
	// Conflicts are the conflict copies a merge kept beside a file.
	Conflicts []conflictReport `json:"conflicts"`
}

type conflictReport struct {
	Path    string `json:"path"`
	Resolve string `json:"resolve"`
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
		return &exitError{Code: 2, Err: fmt.Errorf("status: %w", err)}
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
	inst := readInstance(root)
	rep.Watcher.Running, rep.Watcher.PID = inst.Running, inst.PID
	if inst.Running && !inst.Started.IsZero() {
		rep.Watcher.Since = &inst.Started
	}
	if !*noGit {
		gs, err := gitStatus(ctx, root)
		if err != nil {
			return &exitError{Code: 2, Err: fmt.Errorf("status: git: %w", err)}
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
	if rs, err := remote.ReadStatus(ctx, root); err == nil {
		rep.Remote = rs
	}
	rep.Conflicts = conflictCopies(root)
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
		return &exitError{Code: 1}
	}
	return nil
}

func printStatus(e *cmdEnv, r statusReport) {
	w := e.stdout
	state := "in sync"
	if !r.InSync {
		state = "DRIFT"
	}
	fmt.Fprintf(w, "%s: %d files, %d rows\n", state, r.Files, r.Rows)
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
		if r.LastCommit != nil {
			fmt.Fprintf(w, "last commit: %s %s (%s)\n", shortHash(r.LastCommit.Hash), r.LastCommit.Subject, r.LastCommit.Time.Local().Format(time.DateTime))
		} else {
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
	if r.Remote != nil {
		fmt.Fprintf(w, "remote %s (%s, branch %s): %d ahead, %d behind", r.Remote.Name, r.Remote.URL, r.Remote.Branch, r.Remote.Ahead, r.Remote.Behind)
		if r.Remote.LastSync != nil {
			fmt.Fprintf(w, ", last sync %s", r.Remote.LastSync.Local().Format(time.DateTime))
		}
		fmt.Fprintln(w)
		if r.Remote.LastError != "" {
			fmt.Fprintf(w, "last sync error: %s\n", r.Remote.LastError)
		}
	}
	if len(r.Conflicts) > 0 {
		fmt.Fprintf(w, "conflict copies (%d): both versions kept; keep what you want in the file, then remove the copy:\n", len(r.Conflicts))
		for _, c := range r.Conflicts {
			fmt.Fprintf(w, "  %s\n    %s\n", c.Path, c.Resolve)
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

// gitStatus reads the git side of status without changing anything: no
// repository is created and no lock taken. A memory folder with no
// repository yet has every file uncommitted.
func gitStatus(ctx context.Context, root string) (committer.Status, error) {
	cm, err := committer.New(committer.Config{Root: root, ReadOnly: true, Logger: zerolog.Nop()})
	if errors.Is(err, committer.ErrNoRepository) {
		return committer.Status{LastError: "no git repository yet: the first `elfsync scan` or `elfsync watch` creates one"}, nil
	}
	if err != nil {
		return committer.Status{}, err
	}
	return cm.Status(ctx)
}

// conflictCopies lists the conflict copies under root's memory/ with the
// command that resolves each (after keeping what is wanted of it in the
// file it names).
func conflictCopies(root string) []conflictReport {
	out := []conflictReport{}
	mem := filepath.Join(root, indexer.MemoryDir)
	_ = filepath.WalkDir(mem, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && p != mem && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !remote.IsConflictCopy(d.Name()) {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		out = append(out, conflictReport{Path: rel, Resolve: "rm -- " + shellQuote(p)})
		return nil
	})
	return out
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
