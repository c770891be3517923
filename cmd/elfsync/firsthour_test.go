package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFirstHour walks a new user's first hour on the built binary, with
// the default root ($HOME/.claude/emergent-learning): init, watch, record
// through each script and through elfsync record, edit, move, status after
// each step (exit 0 throughout: the watcher's pending work is not drift),
// check of a good and a bad file, doctor with nothing wrong, stop; then the
// mistakes a new user made, each with its exact message.
func TestFirstHour(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash for the record scripts")
	}
	env := gitEnv(t)
	var home string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "HOME="); ok {
			home = v
		}
	}
	root := filepath.Join(home, ".claude", "emergent-learning")
	mem := filepath.Join(root, "memory")
	run := func(args ...string) result {
		t.Helper()
		return elfsync(t, env, args...)
	}
	status := func(step string) {
		t.Helper()
		if r := run("status"); r.code != 0 {
			t.Errorf("status after %s: exit %d\n%s%s", step, r.code, r.stdout, r.stderr)
		}
	}
	script := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command("bash", append([]string{filepath.Join("..", "..", "scripts", name)}, args...)...)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}

	// A mistyped or missing root is refused before anything exists.
	if r := run("status"); r.code != 2 || r.stderr != "elfsync: root "+root+" does not exist; to create it, run: elfsync init --root "+root+"\n" {
		t.Errorf("status before init: exit %d %q", r.code, r.stderr)
	}
	if r := run("init"); r.code != 0 || !strings.HasPrefix(r.stdout, "created "+root) {
		t.Fatalf("init: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	w := startWatch(t, env, root)
	status("start")

	f1 := script("record-failure.sh", "--title", "Heredoc consumed", "--domain", "bash", "--severity", "high")
	status("record-failure.sh")
	script("record-success.sh", "--title", "Batching worked", "--domain", "git")
	status("record-success.sh")
	h := script("record-heuristic.sh", "--domain", "git", "--rule", "Never delete a lock you did not create", "--confidence", "high")
	status("record-heuristic.sh")
	if r := run("record", "decision", "--title", "Use WAL", "--domain", "sqlite"); r.code != 0 {
		t.Fatalf("record decision: exit %d %s", r.code, r.stderr)
	}
	status("elfsync record")

	// Edit, then move into a subfolder.
	data, err := os.ReadFile(f1)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f1, append(data, "\nMore detail.\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	status("edit")
	if r := run("status", "--wait", "60s"); r.code != 0 || !strings.HasPrefix(r.stdout, "in sync: 4 files, 4 rows") {
		t.Fatalf("status --wait after the edit: exit %d\n%s", r.code, r.stdout)
	}
	moved := filepath.Join(mem, "heuristics", "git", filepath.Base(h))
	if err := os.MkdirAll(filepath.Dir(moved), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(h, moved); err != nil {
		t.Fatal(err)
	}
	status("move")
	if r := run("status", "--wait", "60s"); r.code != 0 || !strings.HasPrefix(r.stdout, "in sync: 4 files, 4 rows") {
		t.Fatalf("status --wait after the move: exit %d\n%s", r.code, r.stdout)
	}
	if subject := git(t, env, mem, "log", "-1", "--format=%s"); !strings.Contains(subject, "renamed") {
		t.Errorf("the move was committed as %q, want a rename", subject)
	}

	// check: a good file and a bad one (outside memory/, so doctor stays clean).
	if r := run("check", moved); r.code != 0 || !strings.Contains(r.stdout, ": ok (heuristic)\n") {
		t.Errorf("check good: exit %d\n%s", r.code, r.stdout)
	}
	bad := filepath.Join(t.TempDir(), "draft.md")
	if err := os.WriteFile(bad, []byte("---\ntype: failure\nseverity: 9\n---\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run("check", bad); r.code != 1 || r.stdout != bad+": invalid: bad field severity (line 3): want 1-5 or low, medium, high, critical, got \"9\"\n" {
		t.Errorf("check bad: exit %d %q", r.code, r.stdout)
	}
	if r := run("list", "--type", "heuristic"); r.code != 0 || !strings.Contains(r.stdout, "memory/heuristics/git/") {
		t.Errorf("list: exit %d\n%s", r.code, r.stdout)
	}
	if r := run("doctor"); r.code != 0 || !strings.HasSuffix(r.stdout, "no problems found\n") {
		t.Errorf("doctor: exit %d\n%s", r.code, r.stdout)
	}
	if r := run("stop"); r.code != 0 {
		t.Errorf("stop: exit %d %s", r.code, r.stderr)
	}
	<-w.done
	if code := w.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("watch exit %d after stop", code)
	}
	status("stop")

	// The mistakes, each with its message.
	for _, tt := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"status", "extra"}, 2, "elfsync: status takes no arguments, got [\"extra\"]\n"},
		{[]string{"record", "note", "--title", "x"}, 2, "elfsync: record: unknown type \"note\" (want failure|success|heuristic|observation|experiment|decision)\n"},
		{[]string{"reload"}, 1, "elfsync: reload: no elfsync watch is running for " + root + "\n"},
		{[]string{"--root", root + "-typo", "scan"}, 2, "elfsync: root " + root + "-typo does not exist; to create it, run: elfsync init --root " + root + "-typo\n"},
	} {
		if r := run(tt.args...); r.code != tt.code || r.stderr != tt.stderr {
			t.Errorf("%q: exit %d %q; want %d %q", tt.args, r.code, r.stderr, tt.code, tt.stderr)
		}
	}
	big := filepath.Join(t.TempDir(), "big.md")
	if err := os.WriteFile(big, make([]byte, 10<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run("check", big); !strings.HasSuffix(r.stdout, "file is 10485760 bytes: too large (limit 4194304 bytes)\n") {
		t.Errorf("check of a 10 MB file: %q", r.stdout)
	}
}
