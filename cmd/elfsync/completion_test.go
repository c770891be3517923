package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emergent-learning/elfsync/completion"
)

// completionCases are command lines being completed (the last word is the
// one under the cursor, "" for a new word) and the candidates each must
// offer, exactly, in the folder completionDir makes.
var completionCases = []struct {
	line string
	want []string
}{
	{"elfsync st", []string{"status", "stop"}},
	{"elfsync co", []string{"completion", "context"}},
	{"elfsync --ro", []string{"--root"}},
	{"elfsync --root s", []string{"sub"}},
	{"elfsync --root sub st", []string{"status", "stop"}},
	{"elfsync --log-level d", []string{"debug"}},
	{"elfsync status --r", []string{"--root"}},
	{"elfsync status --root s", []string{"sub"}},
	{"elfsync watch --quiet 2s --max-", []string{"--max-batch", "--max-size", "--max-wait"}},
	{"elfsync watch --quiet ", nil},
	{"elfsync record ob", []string{"observation"}},
	{"elfsync record heuristic --ru", []string{"--rule"}},
	{"elfsync record failure --ru", nil},
	{"elfsync list --type he", []string{"heuristic"}},
	{"elfsync import --from s", []string{"sub"}},
	{"elfsync check a", []string{"a.md"}},
	{"elfsync heuristic v", []string{"validate", "violate"}},
	{"elfsync help wa", []string{"watch"}},
	{"elfsync completion z", []string{"zsh"}},
}

// completionDir returns a folder with a file a.md and a folder sub.
func completionDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.md"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// completionScript writes `elfsync completion SHELL` to a file.
func completionScript(t *testing.T, shell string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"completion", shell}, nil, &out, &errb); err != nil {
		t.Fatalf("completion %s: %v %s", shell, err, errb.String())
	}
	p := filepath.Join(t.TempDir(), "elfsync."+shell)
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// completes runs a shell harness that prints one candidate a line.
func completes(t *testing.T, dir string, name string, args ...string) []string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("%s %q: %v\n%s", name, args, err, stderr)
	}
	var got []string
	for _, l := range strings.Split(string(out), "\n") {
		if l, _, _ = strings.Cut(l, "\t"); l != "" { // fish: word<TAB>description
			got = append(got, strings.TrimSuffix(l, "/"))
		}
	}
	slices.Sort(got)
	return got
}

func checkCompletions(t *testing.T, shell string, complete func(line string) []string) {
	for _, tt := range completionCases {
		want := slices.Clone(tt.want)
		slices.Sort(want)
		if got := complete(tt.line); !slices.Equal(got, want) {
			t.Errorf("%s: %q completes to %q, want %q", shell, tt.line, got, want)
		}
	}
}

func TestCompletionBash(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	script := completionScript(t, "bash")
	if out, err := exec.Command("bash", "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	if _, err := exec.LookPath("shellcheck"); err == nil {
		if out, err := exec.Command("shellcheck", "-s", "bash", script).CombinedOutput(); err != nil {
			t.Errorf("shellcheck: %v\n%s", err, out)
		}
	}
	dir := completionDir(t)
	harness := `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _elfsync; printf '%s\n' "${COMPREPLY[@]}"`
	checkCompletions(t, "bash", func(line string) []string {
		return completes(t, dir, "bash", append([]string{"-c", harness, "bash", script}, strings.Split(line, " ")...)...)
	})
	// --flag=value is three words for bash.
	got := completes(t, dir, "bash", "-c", harness, "bash", script, "elfsync", "--root", "=", "s")
	if !slices.Equal(got, []string{"sub"}) {
		t.Errorf("bash: elfsync --root=s completes to %q, want [sub]", got)
	}
}

func TestCompletionZsh(t *testing.T) {
	if _, err := exec.LookPath("zsh"); err != nil {
		t.Skip("no zsh")
	}
	script := completionScript(t, "zsh")
	if out, err := exec.Command("zsh", "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v\n%s", err, out)
	}
	// The completion system's functions, replaced by ones that print
	// what they were given to offer.
	harness := `compadd() { [[ $1 == -- ]] && shift; print -rl -- ${(M)@:#${PREFIX}*} }
_describe() { local d; for d in ${(P)4}; do d=${d%%:*}; [[ $d == ${PREFIX}* ]] && print -r -- $d; done }
_directories() { print -rl -- ${PREFIX}*(/N) }
_files() { print -rl -- ${PREFIX}*(N) }
compdef() { }
source $1; shift
words=("$@"); CURRENT=$#; PREFIX=${words[CURRENT]}
_elfsync; exit 0`
	dir := completionDir(t)
	checkCompletions(t, "zsh", func(line string) []string {
		return completes(t, dir, "zsh", append([]string{"-f", "-c", harness, "zsh", script}, strings.Split(line, " ")...)...)
	})
}

func TestCompletionFish(t *testing.T) {
	if _, err := exec.LookPath("fish"); err != nil {
		t.Skip("no fish")
	}
	script := completionScript(t, "fish")
	if out, err := exec.Command("fish", "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("fish -n: %v\n%s", err, out)
	}
	dir := completionDir(t)
	checkCompletions(t, "fish", func(line string) []string {
		return completes(t, dir, "fish", "--no-config", "-c", `source $argv[1]; complete -C $argv[2]`, script, line)
	})
}

// TestCompletionCoversCommands: every command of the table, and each of
// its flags, is in the generated scripts.
func TestCompletionCoversCommands(t *testing.T) {
	var bash bytes.Buffer
	if err := run(context.Background(), []string{"completion", "bash"}, nil, &bash, &bash); err != nil {
		t.Fatal(err)
	}
	for _, c := range commands() {
		if !strings.Contains(bash.String(), "\t"+c.name+")\n") {
			t.Errorf("bash completion has no case for %s", c.name)
		}
	}
	watch := completion.Command{}
	for _, c := range completionModel() {
		if c.Name == "watch" {
			watch = c
		}
	}
	for _, f := range []string{"root", "quiet", "max-wait", "log-file", "remote"} {
		if !slices.ContainsFunc(watch.Flags, func(cf completion.Flag) bool { return cf.Name == f && cf.TakesValue }) {
			t.Errorf("watch's flags %v lack --%s (with a value)", watch.Flags, f)
		}
	}
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"completion", "tcsh"}, nil, &out, &errb); exitCode(err, &errb) != 2 {
		t.Errorf("completion tcsh: %v, want a usage error", err)
	}
}
