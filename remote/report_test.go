package remote

import (
	"bytes"
	"testing"
)

// TestReport pins the JSON key names of `elfsync sync --json` against a
// literal, and the text lines, for a report of two rounds.
func TestReport(t *testing.T) {
	r := Report{Remote: "origin", URL: "/srv/m.git", Branch: "main", Conflicts: []string{}}
	r.Add(Result{Landed: 2, Merged: "1111111111111111111111111111111111111111", Skipped: 1})
	r.Add(Result{Landed: 1, Conflicts: []string{"memory/a.conflict-b.md"}, Pushed: "2222222222222222222222222222222222222222"})
	r.InStep = true

	var j bytes.Buffer
	if err := r.WriteJSON(&j); err != nil {
		t.Fatal(err)
	}
	wantJSON := `{
  "remote": "origin",
  "url": "/srv/m.git",
  "branch": "main",
  "in_step": true,
  "merged": "1111111111111111111111111111111111111111",
  "pushed": "2222222222222222222222222222222222222222",
  "landed": 3,
  "conflicts": [
    "memory/a.conflict-b.md"
  ],
  "refused": 1
}
`
	if got := j.String(); got != wantJSON {
		t.Errorf("JSON:\ngot  %s\nwant %s", got, wantJSON)
	}

	var txt bytes.Buffer
	r.WriteText(&txt)
	wantText := `merged origin/main (111111111111): 3 files updated
conflict: kept both versions; theirs is memory/a.conflict-b.md
refused 1 changes from the remote (dot-files, symlinks, submodules, the index)
pushed 222222222222 to origin (/srv/m.git)
in step with origin/main
`
	if got := txt.String(); got != wantText {
		t.Errorf("text:\ngot  %s\nwant %s", got, wantText)
	}
}
