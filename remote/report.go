package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/emergent-learning/elfsync/committer"
)

// Report is the outcome of `elfsync sync`: what its rounds merged, landed
// and pushed, and whether the memory ended in step with the remote. Its
// JSON form is what `elfsync sync --json` prints; the key names are part
// of the command's contract.
type Report struct {
	Remote      string   `json:"remote"`
	URL         string   `json:"url"`
	Branch      string   `json:"branch"`
	InStep      bool     `json:"in_step"`
	Merged      string   `json:"merged,omitempty"`
	FastForward bool     `json:"fast_forward,omitempty"`
	Pushed      string   `json:"pushed,omitempty"`
	Landed      int      `json:"landed"`
	Conflicts   []string `json:"conflicts"`
	Refused     int      `json:"refused"`
	Error       string   `json:"error,omitempty"`
}

// NewReport returns an empty report of the syncer's remote and branch.
func (s *Syncer) NewReport() Report {
	name, url, branch := s.Remote()
	return Report{Remote: name, URL: url, Branch: branch, Conflicts: []string{}}
}

// Add counts one round's result in the report: the last merge and push
// are the ones kept.
func (r *Report) Add(res Result) {
	r.Landed += res.Landed
	r.Conflicts = append(r.Conflicts, res.Conflicts...)
	r.Refused += res.Skipped
	if res.Merged != "" {
		r.Merged, r.FastForward = res.Merged, res.FastForward
	}
	if res.Pushed != "" {
		r.Pushed = res.Pushed
	}
}

// WriteJSON writes the report as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for a person, one line per thing that
// happened; nothing when nothing happened and the memory is not in step.
func (r Report) WriteText(w io.Writer) {
	if r.Merged != "" {
		how := "merged"
		if r.FastForward {
			how = "fast-forwarded to"
		}
		fmt.Fprintf(w, "%s %s/%s (%s): %d files updated\n", how, r.Remote, r.Branch, committer.ShortHash(r.Merged), r.Landed)
	}
	for _, c := range r.Conflicts {
		fmt.Fprintf(w, "conflict: kept both versions; theirs is %s\n", c)
	}
	if r.Refused > 0 {
		fmt.Fprintf(w, "refused %d changes from the remote (dot-files, symlinks, submodules, the index)\n", r.Refused)
	}
	if r.Pushed != "" {
		fmt.Fprintf(w, "pushed %s to %s (%s)\n", committer.ShortHash(r.Pushed), r.Remote, r.URL)
	}
	if r.InStep {
		fmt.Fprintf(w, "in step with %s/%s\n", r.Remote, r.Branch)
	}
}

// Sync brings the memory in step with the remote once, the way `elfsync
// sync` does, and reports it. commit indexes and commits what memory/
// holds; head returns the last commit. It commits first, then runs a
// round, indexes and commits what the merge brought, and runs a second
// round when that made a new local commit to push (a file the merge
// brought that a local write changed meanwhile). The memory is in step
// when no error stopped it and the sync state shows nothing ahead or
// behind; otherwise the error is returned and, redacted, in Report.Error.
func (s *Syncer) Sync(ctx context.Context, commit func() error, head func() string) (Report, error) {
	r := s.NewReport()
	syncErr := commit()
	for round := 0; round < 2 && syncErr == nil; round++ {
		before := head()
		res, err := s.Round(ctx)
		r.Add(res)
		if err != nil {
			syncErr = err
			break
		}
		if err := commit(); err != nil {
			syncErr = err
			break
		}
		if after := head(); after == before || after == res.Pushed || after == res.Fetched {
			break
		}
	}
	st, _ := ReadStatus(ctx, s.cfg.Root)
	r.InStep = syncErr == nil && st != nil && st.Ahead == 0 && st.Behind == 0
	if syncErr == nil && !r.InStep {
		syncErr = errors.New("not in step with the remote yet; run sync again")
	}
	if syncErr != nil {
		r.Error = Redact(syncErr.Error())
	}
	return r, syncErr
}
