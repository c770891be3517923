package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// readSideRoot is a scanned root with a few memories, for the read-side
// end-to-end tests.
func readSideRoot(t *testing.T, env []string) string {
	t.Helper()
	root := t.TempDir()
	writeFile(t, root, "failures/20261101_sqlite-busy.md", "---\ntitle: SQLite busy under concurrent inserts\ndomain: sqlite\ntags: [db, concurrency]\nsummary: busy_timeout was 0.\n---\nSet a busy timeout.\n")
	writeFile(t, root, "failures/20261102_git-lock.md", "---\ntitle: Stale git index.lock\ndomain: git\nsummary: A crashed git left its lock.\n---\n")
	writeFile(t, root, "heuristics/busy.md", "---\ndomain: sqlite\nrule: Always set a busy timeout\nconfidence: 0.9\nis_golden: true\n---\n")
	writeFile(t, root, "heuristics/h-git.md", "---\ndomain: git\nrule: Never delete a lock you did not create\nconfidence: 0.8\n---\n")
	if r := elfsync(t, env, "scan", "--root", root, "--no-git"); r.code != 0 {
		t.Fatalf("scan: %d %s", r.code, r.stderr)
	}
	return root
}

func TestSearchCommand(t *testing.T) {
	env := gitEnv(t)
	root := readSideRoot(t, env)
	r := elfsync(t, env, "search", "--root", root, "busy", "timeout", "--limit", "5")
	if r.code != 0 || !strings.Contains(r.stdout, " 1. heuristic   Always set a busy timeout") || !strings.Contains(r.stdout, "memory/heuristics/busy.md") {
		t.Fatalf("search: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = elfsync(t, env, "search", "--root", root, "--json", "--type", "failure", "lock* OR busy")
	var out struct {
		Hits []struct {
			Rank         int
			Type, Path   string
			Snippet, Ref string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 0 {
		t.Fatalf("search --json: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if len(out.Hits) != 2 {
		t.Fatalf("want the two failures, got %+v", out.Hits)
	}
	for _, h := range out.Hits {
		if h.Type != "failure" {
			t.Errorf("--type failure let %s through", h.Path)
		}
	}
	// Plain text with punctuation is no syntax error.
	if r := elfsync(t, env, "search", "--root", root, `error: "database -locked`); r.code != 0 {
		t.Errorf("plain text: exit %d %s", r.code, r.stderr)
	}
	// Bad syntax: one line, exit 2.
	r = elfsync(t, env, "search", "--root", root, "--", "busy OR")
	if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, "bad search query") {
		t.Errorf("bad syntax: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := elfsync(t, env, "search", "--root", root); r.code != 2 {
		t.Errorf("no query: exit %d", r.code)
	}
	// A misspelt type is a usage error, not "no matches"; a folder name
	// names its type.
	if r := elfsync(t, env, "search", "--root", root, "--type", "falure", "lock"); r.code != 2 || !strings.Contains(r.stderr, "heuristic") {
		t.Errorf("--type falure: exit %d %s", r.code, r.stderr)
	}
	if r := elfsync(t, env, "search", "--root", root, "--type", "Heuristics", "lock"); r.code != 0 || !strings.Contains(r.stdout, "Never delete a lock") {
		t.Errorf("--type Heuristics: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	if r := elfsync(t, env, "search", "--root", t.TempDir(), "x"); r.code == 0 || !strings.Contains(r.stderr, "elfsync scan") {
		t.Errorf("no index: exit %d %s", r.code, r.stderr)
	}
}

func TestContextCommand(t *testing.T) {
	env := gitEnv(t)
	root := readSideRoot(t, env)
	r := elfsync(t, env, "context", "--root", root, "--domain", "git")
	for _, want := range []string{"## Golden rules", "Always set a busy timeout", "## Heuristics: git", "Never delete a lock", "Stale git index.lock"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("context lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "SQLite busy under") {
		t.Errorf("--domain git shows an sqlite failure:\n%s", r.stdout)
	}
	r = elfsync(t, env, "context", "--root", root, "--format", "json", "--depth", "minimal")
	var b struct {
		Depth    string
		Sections []struct{ Kind string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil || b.Depth != "minimal" || len(b.Sections) != 1 {
		t.Errorf("context json: %v %+v\n%s", err, b, r.stdout)
	}
	if r := elfsync(t, env, "context", "--root", root, "--depth", "huge"); r.code != 2 {
		t.Errorf("bad depth: exit %d", r.code)
	}
}
