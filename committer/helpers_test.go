package committer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestMain gives every test a git configuration of its own: a HOME with a
// known identity, and no system or XDG configuration, so that the machine's
// settings (hooks, signing, templates) cannot leak in.
func TestMain(m *testing.M) {
	home, err := os.MkdirTemp("", "committer-home-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cfg := "[user]\n\tname = Test Person\n\temail = person@example.com\n[init]\n\tdefaultBranch = main\n"
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte(cfg), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("HOME", home)
	os.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "xdg"))
	os.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	for _, k := range []string{"GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
		"GIT_COMMITTER_EMAIL", "EMAIL", "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"} {
		os.Unsetenv(k)
	}
	if root := os.Getenv(childEnv); root != "" {
		childCommitLoop(root) // never returns
	}
	code := m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}

// logBuffer is a zerolog sink safe for concurrent writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// count returns how many log lines contain all of subs.
func (l *logBuffer) count(subs ...string) int {
	n := 0
	for _, line := range strings.Split(l.String(), "\n") {
		ok := line != ""
		for _, s := range subs {
			ok = ok && strings.Contains(line, s)
		}
		if ok {
			n++
		}
	}
	return n
}

// git runs git in dir (as a person would, without elfsync's settings) and
// returns its trimmed output.
func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return strings.TrimSpace(string(out))
}

// lines splits output into non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// writeFile writes content to root-relative rel, creating directories.
func writeFile(t testing.TB, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// note returns markdown for a note titled title.
func note(title string) string {
	return "---\ntitle: " + title + "\n---\n\n# " + title + "\n\nSome body text that is long enough to be a note.\n"
}

type testOpts struct {
	quiet, maxWait time.Duration
	maxBatch       int
}

// newCommitter makes a Committer for root whose log goes to the returned
// buffer. Describe returns "Title of <path>".
func newCommitter(t testing.TB, root string, o testOpts) (*Committer, *logBuffer) {
	t.Helper()
	lb := &logBuffer{}
	c, err := Open(context.Background(), Config{
		Root:     root,
		Quiet:    o.quiet,
		MaxWait:  o.maxWait,
		MaxBatch: o.maxBatch,
		Logger:   zerolog.New(lb).Level(zerolog.DebugLevel),
		Describe: func(p string) string { return "Title of " + p },
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, lb
}

// runCommitter starts c.Run and stops it (and waits for it) at cleanup.
func runCommitter(t testing.TB, c *Committer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// poll waits until cond holds, failing the test after timeout.
func poll(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// commitCount returns the number of commits reachable from HEAD in dir.
func commitCount(t testing.TB, dir string) int {
	t.Helper()
	cmd := exec.Command("git", "rev-list", "--count", "HEAD")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return 0 // unborn
	}
	var n int
	fmt.Sscan(string(out), &n)
	return n
}

// deadPID returns the pid of a process that has exited.
func deadPID(t testing.TB) int {
	t.Helper()
	cmd := exec.Command("git", "--version")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// childEnv makes the test binary act as an elfsync that commits in a loop
// (see childCommitLoop), for TestSIGKILLWhileCommitting.
const childEnv = "ELFSYNC_COMMITTER_TEST_CHILD_ROOT"

// childCommitLoop writes notes and commits them until it is killed.
func childCommitLoop(root string) {
	c, err := Open(context.Background(), Config{Root: root, Logger: zerolog.Nop()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		for j := range 50 {
			p := filepath.Join(root, "memory", "failures", fmt.Sprintf("c%d-%d-%d.md", os.Getpid(), i, j))
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, []byte(note(p)), 0o644)
		}
		c.CommitAll(context.Background())
	}
}
