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

	"github.com/emergent-learning/elfsync/committer"
	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/remote"
	"github.com/emergent-learning/elfsync/status"
)

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
	if !rep.InSync && !rep.OnlyPending {
		return errNotInSync
	}
	return nil
}

// readStatus is status.Read with its errors marked for exitCode.
func readStatus(ctx context.Context, root string, maxSize int64, withGit bool) (status.Report, error) {
	rep, err := status.Read(ctx, root, maxSize, withGit)
	switch {
	case errors.Is(err, status.ErrNoMemory):
		return rep, mark(errNoRoot, fmt.Errorf("root %s has no memory folder yet; to create it, run: elfsync init --root %s", root, shellQuote(root)))
	case err != nil:
		return rep, mark(errCannotCheck, err)
	}
	if rs, err := remote.ReadStatus(ctx, root); err == nil && rs != nil {
		r := status.Remote(*rs)
		rep.Remote = &r
	}
	rep.Conflicts = conflictCopies(root)
	return rep, nil
}

// conflictCopies lists the conflict copies under root's memory/ with the
// command that resolves each (after keeping what is wanted of it in the
// file it names).
func conflictCopies(root string) []status.Conflict {
	out := []status.Conflict{}
	mem := filepath.Join(root, "memory")
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
		out = append(out, status.Conflict{Path: filepath.ToSlash(rel), Resolve: "rm -- " + shellQuote(p)})
		return nil
	})
	return out
}

func printStatus(e *cmdEnv, r status.Report) {
	w := e.stdout
	state := "in sync"
	switch {
	case r.OnlyPending:
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
	if r.OnlyPending {
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
