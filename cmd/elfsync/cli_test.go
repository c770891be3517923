package main

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestGlobalFlagsLast(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"status"}, []string{"status"}},
		{[]string{"--root", "/r", "status", "--json"}, []string{"status", "--json", "--root", "/r"}},
		{[]string{"--root=/r", "-log-level", "debug", "watch"}, []string{"watch", "--root=/r", "-log-level", "debug"}},
		{[]string{"--no-git", "scan"}, []string{"scan", "--no-git"}},
		{[]string{"--root", "/r", "record", "failure", "--title", "t"}, []string{"record", "failure", "--title", "t", "--root", "/r"}},
		{[]string{"--version"}, []string{"--version"}},
		{[]string{"--root", "/r", "--help"}, []string{"--help", "--root", "/r"}},
		{[]string{"--root", "/r"}, []string{"--root", "/r"}},
	}
	for _, tt := range tests {
		if got := globalFlagsLast(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("globalFlagsLast(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCommandLine(t *testing.T) {
	env := gitEnv(t)
	root := t.TempDir()
	if r := elfsync(t, env, "status", "--root", root); r.code != 2 || !strings.Contains(r.stderr, "has no memory folder yet; to create it, run: elfsync init --root "+root) {
		t.Errorf("status without memory/: exit %d %q", r.code, r.stderr)
	}
	if r := elfsync(t, env, "init", "--root", root, "--no-git"); r.code != 0 {
		t.Fatalf("init: exit %d %s", r.code, r.stderr)
	}
	if r := elfsync(t, env, "--root", root, "status", "--no-git"); r.code != 0 || !strings.HasPrefix(r.stdout, "in sync: 0 files, 0 rows") {
		t.Errorf("elfsync --root X status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r := elfsync(t, env, "help", "watch")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: elfsync watch") || !strings.Contains(r.stdout, "  --scan-interval duration") {
		t.Errorf("help watch: exit %d\n%s", r.code, r.stdout)
	}
	if strings.Contains(r.stdout, "\n  -scan-interval") {
		t.Errorf("help watch writes flags with one dash:\n%s", r.stdout)
	}
	r = elfsync(t, env, "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "elfsync ") || !strings.Contains(r.stdout, runtime.Version()) || !strings.Contains(r.stdout, "commit ") {
		t.Errorf("--version: exit %d %q", r.code, r.stdout)
	}
	if r := elfsync(t, env, "--help"); r.code != 0 || !strings.Contains(r.stdout, "--version") || !strings.Contains(r.stdout, "init ") {
		t.Errorf("--help lists no --version or init:\n%s", r.stdout)
	}
	if r := elfsync(t, env, "status", "--root", root, "extra"); r.code != 2 || r.stderr != "elfsync: status takes no arguments, got [\"extra\"]\n" {
		t.Errorf("stray argument: exit %d %q", r.code, r.stderr)
	}
}

func TestLogFile(t *testing.T) {
	env := gitEnv(t)
	root := t.TempDir()
	logf := filepath.Join(t.TempDir(), "logs", "elfsync.log")
	r := elfsync(t, env, "scan", "--root", root, "--log-file", logf, "--log-level", "debug")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("scan --log-file: exit %d, stderr %q (want the log in the file)", r.code, r.stderr)
	}
	b, err := os.ReadFile(logf)
	if err != nil || !strings.Contains(string(b), `"level":`) {
		t.Errorf("log file %s: %v\n%s", logf, err, b)
	}
}

func TestCheck(t *testing.T) {
	env := gitEnv(t)
	root := t.TempDir()
	writeFile(t, root, "failures/good.md", note("good"))
	writeFile(t, root, "failures/bad.md", "---\ntitle: [x\n---\n")
	good := filepath.Join(root, "memory", "failures", "good.md")
	bad := filepath.Join(root, "memory", "failures", "bad.md")
	r := elfsync(t, env, "check", "--root", root, good)
	if r.code != 0 || !strings.HasPrefix(r.stdout, good+": ok (failure)\n") || !strings.Contains(r.stdout, "  title:       good\n") {
		t.Errorf("check good: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = elfsync(t, env, "check", "--root", root, good, bad)
	want := bad + ": invalid: bad YAML frontmatter: line 1: did not find expected ',' or ']'\n"
	if r.code != 1 || !strings.HasSuffix(r.stdout, want) {
		t.Errorf("check bad: exit %d, stdout %q; want it to end %q", r.code, r.stdout, want)
	}
	if r := elfsync(t, env, "check"); r.code != 2 {
		t.Errorf("check without a file: exit %d", r.code)
	}
}

func TestList(t *testing.T) {
	env := gitEnv(t)
	root := t.TempDir()
	writeFile(t, root, "failures/a.md", note("a"))
	writeFile(t, root, "heuristics/git/h.md", "---\nrule: Never force-push\ndomain: git\n---\n")
	writeFile(t, root, "failures/bad.md", "---\ntitle: [x\n---\n")
	writeFile(t, root, "failures/.a.md.swp", "noise")
	r := elfsync(t, env, "list", "--root", root)
	want := "memory/failures/a.md\tfailure\ttest\ta\nmemory/heuristics/git/h.md\theuristic\tgit\tNever force-push\n"
	if r.code != 0 || r.stdout != want || r.stderr != "1 invalid file not listed (see elfsync status)\n" {
		t.Errorf("list: exit %d\n%q\nwant %q\nstderr %q", r.code, r.stdout, want, r.stderr)
	}
	r = elfsync(t, env, "list", "--root", root, "--type", "heuristics", "--domain", "GIT")
	if r.code != 0 || r.stdout != "memory/heuristics/git/h.md\theuristic\tgit\tNever force-push\n" {
		t.Errorf("list --type --domain: exit %d %q", r.code, r.stdout)
	}
	if r := elfsync(t, env, "list", "--root", root, "--type", "note"); r.code != 2 {
		t.Errorf("list --type note: exit %d", r.code)
	}
}

// TestLogDurationsHaveUnits: a duration in a log line says its unit,
// either in its value ("1s") or in its name ("took_ms").
func TestLogDurationsHaveUnits(t *testing.T) {
	env := gitEnv(t)
	root := filepath.Join(t.TempDir(), "root")
	if r := elfsync(t, env, "init", "--root", root); r.code != 0 {
		t.Fatalf("init: exit %d %s", r.code, r.stderr)
	}
	bare := filepath.Join(t.TempDir(), "shared.git")
	git(t, env, root, "init", "-q", "--bare", "--", bare)
	git(t, env, filepath.Join(root, "memory"), "remote", "add", "origin", bare)
	w := startWatch(t, env, root, "--remote", "origin", "--sync-interval", "1s")
	w.waitLog("syncing with the remote", "")
	if code := w.stop(); code != 0 {
		t.Fatalf("watch: exit %d", code)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, l := range w.lines {
		if l["message"] == "syncing with the remote" && l["interval"] != "1s" {
			t.Errorf("interval logged as %#v, want \"1s\"", l["interval"])
		}
		for _, k := range []string{"took", "waited", "merge"} {
			if v, ok := l[k]; ok {
				if _, isString := v.(string); !isString {
					t.Errorf("%q logged %s as %#v: no unit", l["message"], k, v)
				}
			}
		}
	}
}
