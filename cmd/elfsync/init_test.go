package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMissingRootIsRefused: a mistyped root is an error naming the init
// command, for every command, the default root included; nothing is created.
func TestMissingRootIsRefused(t *testing.T) {
	env := gitEnv(t)
	typo := filepath.Join(t.TempDir(), "emergent-lerning")
	want := "elfsync: root " + typo + " does not exist; to create it, run: elfsync init --root " + typo + "\n"
	for _, args := range [][]string{
		{"watch"}, {"scan"}, {"status"}, {"status", "--json"},
		{"record", "failure", "--title", "t"},
	} {
		r := elfsync(t, env, append(args, "--root", typo)...)
		if r.code != 2 || r.stderr != want || r.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", args, r.code, r.stdout, r.stderr, want)
		}
	}
	if _, err := os.Stat(typo); err == nil {
		t.Errorf("%s was created", typo)
	}
	// The default root: $HOME/.claude/emergent-learning.
	var home string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "HOME="); ok {
			home = v
		}
	}
	def := filepath.Join(home, ".claude", "emergent-learning")
	if r := elfsync(t, env, "status"); r.code != 2 || !strings.Contains(r.stderr, "elfsync init --root "+def) {
		t.Errorf("status with the default root: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := elfsync(t, env, "doctor", "--root", typo); r.code != 1 || !strings.Contains(r.stdout, "elfsync init --root "+typo) {
		t.Errorf("doctor: exit %d, stdout %q", r.code, r.stdout)
	}
}

func TestInit(t *testing.T) {
	env := gitEnv(t)
	root := filepath.Join(t.TempDir(), "home")
	r := elfsync(t, env, "init", "--root", root)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "created "+root) || !strings.Contains(r.stdout, "elfsync watch --root "+root) {
		t.Fatalf("init: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, p := range []string{"memory/failures", "memory/heuristics", "memory/decisions", "memory/index.db", "memory/.git", "memory/.gitignore"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("init left no %s: %v", p, err)
		}
	}
	if st := elfsync(t, env, "status", "--root", root); st.code != 0 {
		t.Errorf("status after init: exit %d\n%s%s", st.code, st.stdout, st.stderr)
	}
	writeFile(t, root, "failures/a.md", note("a"))
	r = elfsync(t, env, "init", "--root", root)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "already there; checked "+root) || !strings.Contains(r.stdout, "(1 record)") {
		t.Errorf("second init: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if st := elfsync(t, env, "status", "--root", root); st.code != 0 {
		t.Errorf("status after the second init: exit %d\n%s%s", st.code, st.stdout, st.stderr)
	}
}
