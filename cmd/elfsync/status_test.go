package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emergent-learning/elfsync/status"
)

// TestStatusPendingIsNotDrift: record then status at once, beside a
// running watcher, exits 0 with the note pending; --wait returns in sync.
func TestStatusPendingIsNotDrift(t *testing.T) {
	env := gitEnv(t)
	root := t.TempDir()
	w := startWatch(t, env, root)
	rec := elfsync(t, env, "record", "failure", "--root", root, "--title", "Just now")
	if rec.code != 0 {
		t.Fatalf("record: exit %d %s", rec.code, rec.stderr)
	}
	rel := "memory/" + filepath.ToSlash(strings.TrimPrefix(strings.TrimSpace(rec.stdout), filepath.Join(root, "memory")+string(filepath.Separator)))
	st := elfsync(t, env, "status", "--root", root, "--json")
	var rep status.Report
	decodeJSON(t, st.stdout, &rep)
	checkShape(t, "status.shape.json", st.stdout)
	// The watcher may already have caught up; if not, the note is pending.
	if st.code != 0 || (!rep.InSync && !slices.Contains(rep.Pending, rel)) {
		t.Errorf("status right after record: exit %d, %+v; want 0 with %s pending", st.code, rep, rel)
	}
	st = elfsync(t, env, "status", "--root", root, "--json", "--wait", "60s")
	rep = status.Report{}
	decodeJSON(t, st.stdout, &rep)
	if st.code != 0 || !rep.InSync || len(rep.Pending) != 0 {
		t.Errorf("status --wait: exit %d, %+v; want in sync", st.code, rep)
	}
	w.stop()
}
