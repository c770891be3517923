package status

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/emergent-learning/elfsync/committer"
)

// WriteText writes the report for people: a first line "in sync",
// "pending" or "DRIFT" with the counts, then what is out of line (at most
// 20 paths a list; --json has them all), git's side and the watcher.
func (r Report) WriteText(w io.Writer) {
	state := "in sync"
	switch {
	case r.OnlyPending:
		state = "pending"
	case !r.InSync:
		state = "DRIFT"
	}
	fmt.Fprintf(w, "%s: %s, %s\n", state, plural(r.Files, "file"), plural(r.Rows, "row"))
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
	list("rows that differ from their file", r.StaleRows)
	if len(r.Refused) > 0 {
		fmt.Fprintf(w, "rows refused by write-back (%d, kept in the database as they are; repair or delete the row, or rewrite its file):\n", len(r.Refused))
		for i, x := range r.Refused {
			if i == 20 {
				fmt.Fprintf(w, "  … and %d more (see --json)\n", len(r.Refused)-20)
				break
			}
			// Quoted: a hostile row's path may hold control characters.
			fmt.Fprintf(w, "  %s %d %q: %s\n", x.Table, x.ID, x.Path, x.Reason)
		}
	}
	if r.SearchPending > 0 {
		fmt.Fprintf(w, "full text incomplete: %s not yet searchable (written right after the rows; `elfsync scan` completes it)\n", plural(r.SearchPending, "record"))
	}
	if r.ForeignRows > 0 {
		fmt.Fprintf(w, "the framework's own rows (no file of elfsync's, not drift): %d\n", r.ForeignRows)
	}
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

// plural returns "1 file" or "n files".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// WriteJSON writes the report as one indented JSON object, as `elfsync
// status --json` prints it.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
