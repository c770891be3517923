package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/emergent-learning/elfsync/committer"
	"github.com/emergent-learning/elfsync/indexer"
)

// Summary is what one run of the pipeline did; `elfsync scan --json` prints
// it (its keys are pinned by cmd/elfsync/testdata/scan.shape.json).
type Summary struct {
	Added     int                 `json:"added"`
	Updated   int                 `json:"updated"`
	Removed   int                 `json:"removed"`
	Unchanged int                 `json:"unchanged"`
	Invalid   []indexer.FileError `json:"invalid"`
	Rebuilt   bool                `json:"rebuilt"`
	Committed *Committed          `json:"committed"` // nil without git
	Seconds   float64             `json:"seconds"`   // set by the caller: the whole command's time
	// RowsSeconds, set by the caller from RowsAt, is when every row was
	// in, for a scan that wrote the full-text index right after them.
	RowsSeconds float64   `json:"rows_seconds,omitempty"`
	RowsAt      time.Time `json:"-"`
}

// Committed is the commit a run made.
type Committed struct {
	Commit string `json:"commit"` // "" when there was nothing to commit
	Paths  int    `json:"paths"`
}

// ErrGit marks an error of Once's git step: the index part of its Summary
// stands.
var ErrGit = errors.New("git not brought in line")

// GitOnce is what Once needs of the committer.
type GitOnce interface {
	CommitAll(ctx context.Context) (committer.Result, error)
}

// Once runs the pipeline once, for `elfsync scan` and `elfsync init`: a
// full scan of the index, then, unless openGit is nil, a commit of
// everything under memory/ that differs from HEAD, waiting at most gitWait
// for another git process's lock. The committer is opened after the scan,
// so that a git problem never keeps the index from being brought in line.
func Once(ctx context.Context, ix Index, openGit func() (GitOnce, error), gitWait time.Duration, progress indexer.Progress) (Summary, error) {
	res, err := ix.Scan(ctx, progress)
	if err != nil {
		return Summary{}, fmt.Errorf("scan: %w", err)
	}
	sum := Summary{
		Added: res.Added, Updated: res.Updated, Removed: res.Removed, Unchanged: res.Unchanged,
		Invalid: res.Errors, Rebuilt: res.Rebuilt, RowsAt: res.RowsAt,
	}
	if sum.Invalid == nil {
		sum.Invalid = []indexer.FileError{}
	}
	if openGit == nil {
		return sum, nil
	}
	cm, err := openGit()
	if err != nil {
		return sum, fmt.Errorf("%w: %w", ErrGit, err)
	}
	wctx, cancel := context.WithTimeout(ctx, gitWait)
	defer cancel()
	r, err := cm.CommitAll(wctx)
	if err != nil {
		return sum, fmt.Errorf("%w: %w", ErrGit, err)
	}
	sum.Committed = &Committed{Commit: r.Commit, Paths: len(r.Paths)}
	return sum, nil
}

// WriteText writes the summary for people: counts, each invalid file with
// its error, and the commit.
func (s Summary) WriteText(w io.Writer) {
	if s.Rebuilt {
		fmt.Fprintln(w, "index was unusable: set aside and rebuilt from the files")
	}
	fmt.Fprintf(w, "added %d, updated %d, removed %d, unchanged %d, invalid %d (%.2fs)\n",
		s.Added, s.Updated, s.Removed, s.Unchanged, len(s.Invalid), s.Seconds)
	for _, fe := range s.Invalid {
		fmt.Fprintf(w, "invalid: %s: %s\n", fe.Path, fe.Error)
	}
	switch {
	case s.Committed == nil:
		fmt.Fprintln(w, "git: off (--no-git)")
	case s.Committed.Commit == "":
		fmt.Fprintln(w, "committed: nothing to commit")
	default:
		noun := "paths"
		if s.Committed.Paths == 1 {
			noun = "path"
		}
		fmt.Fprintf(w, "committed %d %s in %s\n", s.Committed.Paths, noun, committer.ShortHash(s.Committed.Commit))
	}
}

// WriteJSON writes the summary as indented JSON, as `elfsync scan --json`
// prints it.
func (s Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}
