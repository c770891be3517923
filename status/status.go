package status

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/emergent-learning/elfsync/committer"
	"github.com/emergent-learning/elfsync/indexer"
	"github.com/emergent-learning/elfsync/instance"
	"github.com/emergent-learning/elfsync/layout"
)

// Report is what `elfsync status --json` prints: its keys are a contract
// (the DESIGN card; cmd/elfsync/testdata/status.shape.json pins them).
type Report struct {
	InSync      bool              `json:"in_sync"`
	Files       int               `json:"files"`
	Rows        int               `json:"rows"`
	MissingRows []string          `json:"missing_rows"`
	OrphanRows  []string          `json:"orphan_rows"`
	StaleRows   []string          `json:"stale_rows"`
	Refused     []indexer.Refused `json:"refused"`      // rows a direct write left that cannot be written into a file, with why (drift, never pending)
	ForeignRows int               `json:"foreign_rows"` // the framework's own rows (not elfsync's, not drift)
	// SearchPending counts records whose rows are in and whose full-text
	// entries are not yet: a scan writes them right after the rows (a
	// running watcher is on it; otherwise a crash left them, and the next
	// scan completes them).
	SearchPending int                 `json:"search_pending,omitempty"`
	Invalid       []indexer.FileError `json:"invalid"`
	Uncommitted   []string            `json:"uncommitted"`
	Pending       []string            `json:"pending"` // drift a running watcher is still within its deadlines for
	LastCommit    *LastCommit         `json:"last_commit"`
	LastGitError  *GitError           `json:"last_git_error"`
	GitLockHeld   bool                `json:"git_lock_held"`
	GitOperation  string              `json:"git_operation,omitempty"`
	Git           bool                `json:"git"`
	NoRepository  bool                `json:"no_repository,omitempty"`
	Watcher       Watcher             `json:"watcher"`
	// Remote is the sync state with a git remote, absent until memory/
	// was first synced (`sync`, `watch --remote`); Conflicts are the
	// conflict copies a merge kept beside a file. The remote package
	// fills both (cmd/elfsync's readStatus).
	Remote    *Remote    `json:"remote,omitempty"`
	Conflicts []Conflict `json:"conflicts"`
	// ConflictPaths are the root-relative paths of the conflict copies
	// ReadWith found (with Options.ConflictCopy), in walk order.
	ConflictPaths []string `json:"-"`

	// OnlyPending means all drift is pending: nothing is wrong, the
	// watcher has not caught up yet (status exits 0).
	OnlyPending bool `json:"-"`
}

// Remote is the sync state with a git remote.
type Remote struct {
	Name   string `json:"name"`
	URL    string `json:"url"` // credentials redacted
	Branch string `json:"branch"`
	// Ahead counts local commits the remote lacks, Behind remote commits
	// not merged here, as of the last fetch.
	Ahead     int        `json:"ahead"`
	Behind    int        `json:"behind"`
	LastSync  *time.Time `json:"last_sync"`
	LastError string     `json:"last_error"`
}

// Conflict is a conflict copy and the command that resolves it (once
// what is wanted of it is in the file it names).
type Conflict struct {
	Path    string `json:"path"`
	Resolve string `json:"resolve"`
}

// LastCommit is the newest commit that touched memory/.
type LastCommit struct {
	Hash    string    `json:"hash"`
	Subject string    `json:"subject"`
	Time    time.Time `json:"time"`
}

// GitError is the last git error an elfsync process recorded.
type GitError struct {
	Error string    `json:"error"`
	Time  time.Time `json:"time"`
}

// Watcher says whether a watcher runs and when the last full scan was.
type Watcher struct {
	Running  bool       `json:"running"`
	PID      int        `json:"pid,omitempty"`
	Since    *time.Time `json:"since,omitempty"`
	LastScan *time.Time `json:"last_scan"`
}

// ErrNoMemory means the root has no memory folder (elfsync init makes one).
var ErrNoMemory = errors.New("no memory folder")

// Read gathers the report of root: the index's drift (files of up to
// maxSize bytes), git's side unless withGit is false, the watcher, and which
// drift the watcher is still within its deadlines for. It changes nothing.
func Read(ctx context.Context, root string, maxSize int64, withGit bool) (Report, error) {
	return ReadWith(ctx, root, Options{MaxSize: maxSize, Git: withGit})
}

// Options are the settings of ReadWith.
type Options struct {
	MaxSize int64 // the --max-size the index was built with (0: the default)
	Git     bool  // report git's side
	// ConflictCopy, when set, tells a conflict copy by its file name: the
	// copies found are listed in Report.ConflictPaths (the caller, which
	// knows how to name their resolution, fills Conflicts from them). They
	// are found in the walk the index check makes anyway.
	ConflictCopy func(name string) bool
}

// ReadWith is Read with options.
func ReadWith(ctx context.Context, root string, o Options) (Report, error) {
	mem := filepath.Join(root, layout.MemoryDir)
	if _, err := os.Stat(mem); errors.Is(err, fs.ErrNotExist) {
		return Report{}, fmt.Errorf("%s: %w", mem, ErrNoMemory)
	}
	// git's side runs beside the index check, not after it: each is
	// about half of a status on a large tree (git status is a walk of its
	// own).
	type gitResult struct {
		st  committer.Status
		err error
	}
	// The walk the index check makes anyway goes to git's side, which
	// can then often tell without git status that nothing is uncommitted.
	gitDone := make(chan gitResult, 1)
	walked := make(chan *committer.WorkTree, 1)
	// The walk goes to git's side as soon as it is done (its cleanCheck
	// then runs beside the rest of the index check), or nil if the index
	// check fails first: once.
	var sendOnce sync.Once
	send := func(t *committer.WorkTree) { sendOnce.Do(func() { walked <- t }) }
	var onWalk func([]indexer.WalkEntry, []string)
	if o.Git {
		onWalk = func(es []indexer.WalkEntry, unreadable []string) { send(workTree(es, unreadable)) }
		gctx, cancel := context.WithCancel(ctx)
		defer cancel() // an index error returns early: stop git's children
		go func() {
			st, err := committer.ReadStatusWalked(gctx, root, walked)
			gitDone <- gitResult{st, err}
		}()
	}
	d, err := indexer.CheckWith(ctx, root, indexer.CheckOptions{MaxSize: o.MaxSize, Match: o.ConflictCopy, Entries: o.Git, Walked: onWalk})
	if err != nil {
		send(nil)
		return Report{}, fmt.Errorf("status: %w", err)
	}
	rep := Report{
		Files: d.Files, Rows: d.Rows,
		MissingRows: d.MissingRows, OrphanRows: d.OrphanRows, StaleRows: d.StaleRows, Refused: d.Refused, ForeignRows: d.ForeignRows,
		Invalid: d.Invalid, Uncommitted: []string{}, Pending: []string{}, Git: o.Git, ConflictPaths: d.Matched,
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
	if o.Git {
		g := <-gitDone
		gs, err := g.st, g.err
		if errors.Is(err, committer.ErrNoRepository) {
			err, rep.NoRepository = nil, true
		}
		if err != nil {
			return rep, fmt.Errorf("status: git: %w", err)
		}
		if gs.Uncommitted != nil {
			rep.Uncommitted = gs.Uncommitted
		}
		if gs.LastCommit.Hash != "" {
			rep.LastCommit = &LastCommit{Hash: gs.LastCommit.Hash, Subject: gs.LastCommit.Subject, Time: gs.LastCommit.Time}
		}
		if gs.LastError != "" {
			rep.LastGitError = &GitError{Error: gs.LastError, Time: gs.LastErrorTime}
		}
		rep.GitLockHeld, rep.GitOperation = gs.LockHeld, gs.Operation
	}
	rep.InSync = d.InSync() && len(rep.Uncommitted) == 0
	if rep.Git && rep.LastCommit == nil && d.Files > 0 {
		rep.InSync = false // nothing committed yet
	}
	searchOnly := false
	if d.SearchPending > 0 {
		rep.SearchPending = d.SearchPending
		searchOnly = rep.InSync
		rep.InSync = false
	}
	if !rep.InSync && inst.Running {
		rep.Pending, rep.OnlyPending = pending(root, rep, inst.State, time.Now())
		rep.OnlyPending = rep.OnlyPending || searchOnly
	}
	return rep, nil
}

// workTree is the walk of the index check (its entries, and the paths it
// could not read) as git's side takes it.
func workTree(entries []indexer.WalkEntry, unreadable []string) *committer.WorkTree {
	return &committer.WorkTree{Entries: entries, Complete: len(unreadable) == 0}
}

// pending returns the drifting paths that the running watcher is still
// within its deadlines for, and whether that is all the drift: a path
// changed (its own mtime, or its folder's for one that is gone) less than
// the index deadline ago for a row, or the commit deadline ago for git; or
// the watcher is in a full scan.
func pending(root string, rep Report, st instance.State, now time.Time) ([]string, bool) {
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
	if len(rep.Refused) > 0 {
		all = false // no watcher repairs a refused row
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
