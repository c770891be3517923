package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The README's sh blocks are run, in order, the way a user would type them:
// TestREADMECommands asks each elfsync line for --help (the command and
// every flag it shows exist), TestREADMEExamples runs every line for real
// against a fresh home and checks its exit status. New README sections are
// picked up as they are written; a line that needs a fixture (a file, a
// remote, a running watcher) or a placeholder mapped to something real
// gets a row in readmeFixtures or readmePlaceholders below.

// readmeCall is one runnable command of a README sh block.
type readmeCall struct {
	line int      // 1-based line of README.md
	text string   // the line as written
	env  []string // VAR=value words before the program
	prog string   // "elfsync" or "scripts/record-*.sh"
	args []string
	pipe string // the program its output is piped into ("jq"), if any
}

func (c readmeCall) String() string {
	return fmt.Sprintf("README.md:%d: %s", c.line, strings.TrimSpace(c.text))
}

// is reports whether the call's arguments start with words.
func (c readmeCall) is(words ...string) bool {
	return len(c.args) >= len(words) && slices.Equal(c.args[:len(words)], words)
}

// readmeCalls returns the elfsync commands and record scripts of the
// README's sh blocks, in order.
func readmeCalls(t *testing.T) []readmeCall {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var calls []readmeCall
	for _, l := range shLines(string(b)) {
		for _, c := range parseShell(l.text) {
			c.line, c.text = l.n, l.text
			calls = append(calls, c)
		}
	}
	if len(calls) < 20 {
		t.Fatalf("found %d elfsync command lines in the README, want the 20 or more it has", len(calls))
	}
	return calls
}

// shLine is one line of a README sh block, with backslash-continued lines
// joined; n is the line it starts on.
type shLine struct {
	n    int
	text string
}

func shLines(md string) []shLine {
	var out []shLine
	in, cont, start := false, "", 0
	for i, l := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(l, "```sh"):
			in = true
		case strings.HasPrefix(l, "```"):
			in = false
		case in:
			if cont == "" {
				start = i + 1
			}
			if s, ok := strings.CutSuffix(l, "\\"); ok {
				cont += s + " "
				continue
			}
			out = append(out, shLine{start, cont + l})
			cont = ""
		}
	}
	return out
}

// word is a shell word; quoted if any of it was in quotes.
type word struct {
	s      string
	quoted bool
}

// parseShell splits a shell line into simple commands (quotes honoured; a
// comment ends the line; |, &&, ||, ; and the parentheses of $( ) and
// <( ) separate commands) and returns those that run elfsync or a record
// script: directly, after VAR=value words, or after a "--" (as in
// `claude mcp add elf -- elfsync mcp`). Unquoted [optional] words lose
// their brackets.
func parseShell(line string) []readmeCall {
	var calls []readmeCall
	var words []word
	var w strings.Builder
	quote, have, quoted := rune(0), false, false
	flush := func() {
		if have {
			s := w.String()
			if !quoted {
				s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
			}
			words = append(words, word{s, quoted})
		}
		w.Reset()
		have, quoted = false, false
	}
	piped := -1 // the call whose output the next command reads
	end := func(pipe bool) {
		flush()
		c, ok := callOf(words)
		if piped >= 0 && len(words) > 0 {
			calls[piped].pipe = words[0].s
		}
		piped = -1
		if ok {
			calls = append(calls, c)
			if pipe {
				piped = len(calls) - 1
			}
		}
		words = nil
	}
	rs := []rune(line)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(c)
		case c == '"' || c == '\'':
			quote, have, quoted = c, true, true
		case c == ' ' || c == '\t':
			flush()
		case c == '#' && !have:
			end(false)
			return calls
		case (c == '<' || c == '$') && i+1 < len(rs) && rs[i+1] == '(':
			end(false)
			i++
		case c == ')':
			end(false)
		case c == '|' && (i+1 == len(rs) || rs[i+1] != '|'):
			end(true)
		case c == '|' || c == '&' || c == ';':
			end(false)
			for i+1 < len(rs) && (rs[i+1] == '&' || rs[i+1] == '|') {
				i++
			}
		default:
			w.WriteRune(c)
			have = true
		}
	}
	end(false)
	return calls
}

// callOf returns the elfsync or record-script call of a simple command.
func callOf(words []word) (readmeCall, bool) {
	var c readmeCall
	i := 0
	for i < len(words) && envWord.MatchString(words[i].s) {
		c.env = append(c.env, words[i].s)
		i++
	}
	if j := slices.IndexFunc(words, func(w word) bool { return w.s == "--" }); j >= 0 && j+1 < len(words) && isElfsync(words[j+1].s) {
		i = j + 1
	}
	if i >= len(words) {
		return c, false
	}
	switch prog := words[i].s; {
	case isElfsync(prog):
		c.prog = "elfsync"
	case strings.HasPrefix(prog, "scripts/record-") && strings.HasSuffix(prog, ".sh"):
		c.prog = prog
	default:
		return c, false
	}
	for j := i + 1; j < len(words); j++ {
		w := words[j]
		s := w.s
		if !w.quoted && strings.HasPrefix(s, ">") { // a redirection: not an argument
			if s == ">" || s == ">>" {
				j++
			}
			continue
		}
		if !w.quoted && (s == "~" || strings.HasPrefix(s, "~/")) {
			s = "$HOME" + s[1:]
		}
		c.args = append(c.args, s)
	}
	return c, c.prog != "elfsync" || len(c.args) > 0
}

// envWord is a VAR=value word before a command.
var envWord = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

func isElfsync(s string) bool { return s == "elfsync" || strings.HasSuffix(s, "/elfsync") }

// TestREADMECommands runs every elfsync command line of the README's sh
// blocks with --help added: the command exists and each flag it shows is
// one the binary takes (an unknown flag fails before --help is reached).
func TestREADMECommands(t *testing.T) {
	env := gitEnv(t)
	for _, c := range readmeCalls(t) {
		if c.prog != "elfsync" {
			continue
		}
		// A positional argument ends flag parsing: ask for help before
		// it (check, completion) or after the type (record).
		i := len(c.args)
		switch c.args[0] {
		case "check", "completion":
			i = 1
		case "record":
			i = min(2, len(c.args))
		}
		args := slices.Concat(c.args[:i], []string{"--help"}, c.args[i:])
		r := elfsync(t, env, args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: elfsync "+args[0]) {
			t.Errorf("%s\nelfsync %s: exit %d\n%s%s", c, strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}
}

// readmeFixture is what a README command needs around it.
type readmeFixture struct {
	args []string // the commands it applies to: their arguments start with these
	// own: the command is itself a watcher (watch): any background
	// watcher is stopped first, the command runs until it is up and is
	// then stopped with SIGINT (a clean stop, exit 0).
	own bool
	// stopsWatcher: the command stops the background watcher (stop).
	stopsWatcher bool
	// noWatcher: the command needs the root's instance lock (sync), so
	// the background watcher is stopped first.
	noWatcher bool
	// files are written under memory/ before the command, if missing.
	files map[string]string
	// remote: memory/ gets a remote named origin (a local bare repository).
	remote bool
	// code is the exit status the README promises (0 unless set).
	code int
}

// readmeFixtures lists, for README commands that need them, what the test
// sets up. Every command runs with a background watcher on the default
// root (the README's examples assume one, e.g. `record && status` exits
// 0 because the new file is pending), unless the fixture says otherwise.
var readmeFixtures = []readmeFixture{
	{args: []string{"watch"}, own: true},
	{args: []string{"watch", "--remote"}, own: true, remote: true},
	{args: []string{"stop"}, stopsWatcher: true},
	{args: []string{"sync"}, noWatcher: true, remote: true},
	{args: []string{"heuristic", "violate", "heuristics/git-never-delete-locks.md"}, files: map[string]string{
		"heuristics/git-never-delete-locks.md": "---\ntype: heuristic\ndomain: git\nrule: \"Never delete a lock you did not create\"\n---\n",
	}},
}

func fixtureFor(c readmeCall) readmeFixture {
	var best readmeFixture
	for _, f := range readmeFixtures {
		if c.prog == "elfsync" && c.is(f.args...) && len(f.args) > len(best.args) {
			best = f
		}
	}
	return best
}

// readmeHint ends a failure: what to do when the README is right.
const readmeHint = "(if the README line is right and needs something set up first, a file, a remote, " +
	"a placeholder mapped to a real path or another exit status, add it to readmeFixtures or " +
	"readmePlaceholders in cmd/elfsync/readme_test.go)"

// readmeRun is the state of a run of the README's examples.
type readmeRun struct {
	t       *testing.T
	env     []string
	home    string // $HOME: the default root is $HOME/.claude/emergent-learning
	root    string
	repo    string // the checkout, for scripts/
	bg      *watchProc
	oldRoot string // an old framework home, for import
}

// readmePlaceholders map a README word that names something on the
// reader's machine to its stand-in in the test.
var readmePlaceholders = []struct {
	word string
	to   func(r *readmeRun) string
}{
	{"$HOME/old-emergent-learning", func(r *readmeRun) string { return r.oldRoot }},
	{"/path/to/root", func(r *readmeRun) string { return r.root }},
	{"H-12", func(r *readmeRun) string { return r.heuristicID() }},
}

// heuristicID returns the id of a heuristic in the index, as H-<id>.
func (r *readmeRun) heuristicID() string {
	var id int
	if err := openDB(r.t, r.root).QueryRow(`SELECT id FROM heuristics ORDER BY id LIMIT 1`).Scan(&id); err != nil {
		r.t.Fatalf("no heuristic in the index for H-12: %v", err)
	}
	return fmt.Sprintf("H-%d", id)
}

// TestREADMEExamples runs the README's examples in order against a fresh
// home, as a new user would: init first (the README's install section),
// then every elfsync line and record script, each expected to exit 0 (or
// as its fixture says). watch runs until it is up and is stopped with
// SIGINT; mcp gets a closed stdin. No network: placeholders and remotes
// are mapped to local stand-ins.
func TestREADMEExamples(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash for the record scripts")
	}
	calls := readmeCalls(t)
	env := gitEnv(t)
	r := &readmeRun{t: t, env: env}
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "HOME="); ok {
			r.home = v
		}
	}
	// The README's examples write records dated 2026-11-27 and check one.
	r.env = append(r.env, "ELF_NOW=2026-11-27T10:00:00Z")
	r.root = filepath.Join(r.home, ".claude", "emergent-learning")
	r.repo, _ = filepath.Abs("../..")
	r.oldRoot = filepath.Join(t.TempDir(), "old-emergent-learning")
	copyTree(t, filepath.Join(r.repo, "testdata", "elf-legacy"), r.oldRoot)
	if c := calls[0]; !c.is("init") {
		t.Fatalf("the README's first command is %s, want elfsync init (the first thing a user runs)", c)
	}
	start := time.Now()
	for _, c := range calls {
		t0 := time.Now()
		r.runCall(c)
		t.Logf("%s (%v)", c, time.Since(t0).Round(time.Millisecond))
		if t.Failed() {
			break
		}
	}
	r.stopBackground()
	t.Logf("ran %d README commands in %v", len(calls), time.Since(start).Round(time.Millisecond))
}

// runCall runs one README command with its fixture.
func (r *readmeRun) runCall(c readmeCall) {
	t := r.t
	t.Helper()
	f := fixtureFor(c)
	args := r.expand(c.args)
	mem := filepath.Join(r.root, "memory")
	for rel, content := range f.files {
		if _, err := os.Stat(filepath.Join(mem, rel)); os.IsNotExist(err) {
			writeFile(t, r.root, rel, content)
		}
	}
	if f.remote {
		r.addRemote()
	}
	if f.own {
		r.stopBackground()
		r.runWatcher(c, args)
		return
	}
	if f.noWatcher {
		r.stopBackground()
	} else if _, err := os.Stat(r.root); err == nil && r.bg == nil {
		r.bg = startWatch(t, r.env, r.root)
	}
	name, argv := binPath, args
	if c.prog != "elfsync" {
		name, argv = "bash", append([]string{filepath.Join(r.repo, c.prog)}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := exec.CommandContext(ctx, name, argv...) // stdin: none, so mcp sees its client hang up
	run.Dir = r.home
	if _, err := os.Stat(r.root); err == nil {
		run.Dir = r.root // so that memory/... paths resolve
	}
	run.Env = append(slices.Clone(r.env), r.expand(c.env)...)
	var stderr strings.Builder
	run.Stderr = &stderr
	out, err := run.Output()
	if err != nil && run.ProcessState == nil {
		t.Fatalf("%s: %v", c, err)
	}
	if code := run.ProcessState.ExitCode(); code != f.code {
		t.Errorf("%s\nran %s %s in %s: exit %d, want %d\n%s%s\n%s", c, c.prog, strings.Join(args, " "), run.Dir, code, f.code, out, stderr.String(), readmeHint)
		return
	}
	if c.pipe == "jq" && !json.Valid(out) {
		t.Errorf("%s\nits output is piped into jq but is not JSON:\n%s", c, out)
	}
	if f.stopsWatcher && r.bg != nil {
		select {
		case <-r.bg.done:
			if code := r.bg.cmd.ProcessState.ExitCode(); code != 0 {
				t.Errorf("%s: the watcher exited %d after stop", c, code)
			}
		case <-time.After(time.Minute):
			t.Errorf("%s: the watcher still runs a minute after stop", c)
		}
		r.bg = nil
	}
}

// expand replaces placeholders and $HOME in words.
func (r *readmeRun) expand(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		for _, p := range readmePlaceholders {
			if w == p.word || strings.HasSuffix(w, "="+p.word) {
				w = strings.TrimSuffix(w, p.word) + p.to(r)
			}
		}
		out[i] = strings.ReplaceAll(w, "$HOME", r.home)
	}
	return out
}

// addRemote gives memory/ a remote origin: a local bare repository.
func (r *readmeRun) addRemote() {
	mem := filepath.Join(r.root, "memory")
	cmd := exec.Command("git", "-C", mem, "remote", "get-url", "origin")
	cmd.Env = r.env
	if cmd.Run() == nil {
		return
	}
	bare := filepath.Join(r.t.TempDir(), "elf-memory.git")
	git(r.t, r.env, r.home, "init", "-q", "--bare", "--", bare)
	git(r.t, r.env, mem, "remote", "add", "origin", bare)
}

// runWatcher runs a README watch command until its watcher is up (status
// says it runs and has scanned), then stops it with SIGINT.
func (r *readmeRun) runWatcher(c readmeCall, args []string) {
	t := r.t
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Dir, cmd.Env = r.root, r.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	started := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", c, err)
	}
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-done
		}
	}()
	root := r.root
	if i := slices.Index(args, "--root"); i >= 0 && i+1 < len(args) {
		root = args[i+1]
	}
	var st result
	up := poll(time.Minute, time.Millisecond, 100*time.Millisecond, done, func() bool {
		select {
		case <-done:
			t.Fatalf("%s\nexited before it was up: %v\n%s", c, waitErr, stderr.String())
		default:
		}
		// Up: this process holds the root's lock and finished a full
		// scan after it was started.
		var s struct {
			Watcher struct {
				PID      int        `json:"pid"`
				LastScan *time.Time `json:"last_scan"`
			} `json:"watcher"`
		}
		st = runElfsync(r.env, "status", "--json", "--root", root)
		return json.Unmarshal([]byte(st.stdout), &s) == nil && s.Watcher.PID == cmd.Process.Pid &&
			s.Watcher.LastScan != nil && s.Watcher.LastScan.After(started)
	})
	if !up {
		t.Fatalf("%s\nnot up after a minute (status: %s)\n%s", c, st.stdout, stderr.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("%s\nexit %d after SIGINT, want 0\n%s", c, code, stderr.String())
		}
		if i := slices.Index(args, "--log-file"); i >= 0 && i+1 < len(args) {
			if b, err := os.ReadFile(args[i+1]); err != nil || !strings.Contains(string(b), "stopped cleanly") {
				t.Errorf("%s\nthe log file does not say it stopped cleanly: %v\n%s", c, err, b)
			}
		}
	case <-time.After(time.Minute):
		t.Errorf("%s\nstill running a minute after SIGINT\n%s", c, stderr.String())
	}
}

// stopBackground stops the background watcher, if one runs.
func (r *readmeRun) stopBackground() {
	if r.bg == nil {
		return
	}
	if code := r.bg.stop(); code != 0 {
		r.t.Errorf("background watcher: exit %d\n%s", code, r.bg.log())
	}
	r.bg = nil
}
