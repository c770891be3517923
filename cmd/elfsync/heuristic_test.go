package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/emergent-learning/elfsync/frontmatter"
)

// readCounters parses a heuristic file's counters.
func readCounters(t *testing.T, root, rel string) (int64, int64) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "memory", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := frontmatter.Parse(frontmatter.Input{Path: rel, Data: data})
	if err != nil {
		t.Fatalf("%s does not parse (torn?): %v", rel, err)
	}
	return rec.TimesValidated, rec.TimesViolated
}

// TestHeuristicConcurrentBumps: N separate processes bump one heuristic
// at once; the file ends at exactly +N, and parses after every run.
func TestHeuristicConcurrentBumps(t *testing.T) {
	env := gitEnv(t)
	root := readSideRoot(t, env)
	n := pick(20, 100)
	var wg sync.WaitGroup
	results := make([]result, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ref := "heuristics/h-git.md"
			if i%2 == 1 {
				ref = "memory/heuristics/h-git.md"
			}
			results[i] = runElfsync(env, "heuristic", "validate", "--root", root, ref)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("bump %d: exit %d: %s", i, r.code, r.stderr)
		}
	}
	v, x := readCounters(t, root, "heuristics/h-git.md")
	if v != int64(n) || x != 0 {
		t.Errorf("after %d validations: times_validated %d, times_violated %d", n, v, x)
	}
	var rowV, rowX int64
	if err := openDB(t, root).QueryRow(`SELECT times_validated, times_violated FROM heuristics WHERE filepath = 'memory/heuristics/h-git.md'`).Scan(&rowV, &rowX); err != nil || rowV != int64(n) || rowX != 0 {
		t.Errorf("after %d validations the row says %d, %d (%v)", n, rowV, rowX, err)
	}
	// The last process to index read the final file: the index's view of
	// the file (its ledger) is current, so status sees no drift.
	if r := elfsync(t, env, "status", "--root", root, "--no-git"); r.code != 0 {
		t.Errorf("status after the bumps: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// By id, through the index, and the violation counter.
	id := heuristicID(t, root, "memory/heuristics/h-git.md")
	r := elfsync(t, env, "heuristic", "violate", "--root", root, id)
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("times_validated %d, times_violated 1", n)) || !strings.Contains(r.stdout, "indexed now") {
		t.Errorf("violate %s: exit %d\n%s%s", id, r.code, r.stdout, r.stderr)
	}
}

// heuristicID returns the H-<id> of a heuristic's row.
func heuristicID(t *testing.T, root, fp string) string {
	t.Helper()
	var id int64
	if err := openDB(t, root).QueryRow(`SELECT id FROM heuristics WHERE filepath = ?`, fp).Scan(&id); err != nil {
		t.Fatalf("id of %s: %v", fp, err)
	}
	return fmt.Sprintf("H-%d", id)
}

func TestHeuristicRefusals(t *testing.T) {
	env := gitEnv(t)
	root := readSideRoot(t, env)
	for _, args := range [][]string{
		{"validate", "../../etc/passwd"},
		{"validate", "/etc/passwd"},
		{"validate", "index.db"},
		{"validate", "L-1"},
		{"validate", "failures/20261101_sqlite-busy.md"},
		{"validate"},
		{"bless", "H-1"},
	} {
		r := elfsync(t, env, append([]string{"heuristic"}, append(args, "--root", root)...)...)
		if r.code == 0 {
			t.Errorf("heuristic %v: exit 0", args)
		}
	}
	if r := elfsync(t, env, "heuristic", "validate", "--root", root, "H-99"); r.code == 0 || !strings.Contains(r.stderr, "no such") {
		t.Errorf("H-99: exit %d %s", r.code, r.stderr)
	}
}

func TestHeuristicWithWatcher(t *testing.T) {
	env := gitEnv(t)
	root := readSideRoot(t, env)
	w := startWatch(t, env, root, "--no-git")
	r := elfsync(t, env, "heuristic", "validate", "--root", root, "heuristics/busy.md")
	if r.code != 0 || !strings.Contains(r.stdout, "running watcher") {
		t.Errorf("with a watcher: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if code := w.stop(); code != 0 {
		t.Errorf("watch exit %d", code)
	}
}
