//go:build unix

package committer

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGKILLWhileCommitting kills an elfsync process group (elfsync and its
// git children, as a service manager does) at random moments while it
// commits, then restarts: HEAD converges, no lock or temporary index is
// left behind, and nothing of memory/ stays staged in the person's index.
func TestSIGKILLWhileCommitting(t *testing.T) {
	if testing.Short() {
		t.Skip("kills processes")
	}
	proj, root := personRepo(t, false)
	writeFile(t, proj, "README.md", "staged\n")
	git(t, proj, "add", "README.md")
	newCommitter(t, root, testOpts{}) // set up the repository and .gitignore
	gitDir := filepath.Join(proj, ".git")

	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+root)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Let it commit a few times, then kill the whole group.
		start := commitCount(t, proj)
		poll(t, 60*time.Second, "the child's first commit", func() bool { return commitCount(t, proj) > start })
		time.Sleep(time.Duration(rand.IntN(300)) * time.Millisecond) // a random moment, not synchronisation
		if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		t.Logf("round %d: killed after %d commits; lock left: %v", round, commitCount(t, proj)-start, exists(filepath.Join(gitDir, "index.lock")))
	}

	// Restart.
	c, logs := newCommitter(t, root, testOpts{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := c.CommitAll(ctx); err != nil {
		t.Fatalf("CommitAll after restart: %v\n%s", err, logs)
	}
	if got := git(t, proj, "status", "--porcelain", "--", "elf/memory/"); got != "" {
		t.Errorf("memory/ not clean after restart:\n%s", got)
	}
	if got := git(t, proj, "diff", "--cached", "--name-only"); got != "README.md" {
		t.Errorf("staged = %q, want only README.md", got)
	}
	left, _ := filepath.Glob(filepath.Join(gitDir, "*.lock"))
	more, _ := filepath.Glob(filepath.Join(gitDir, "refs", "heads", "*.lock"))
	tmps, _ := filepath.Glob(filepath.Join(gitDir, "elfsync-index-*"))
	markers, _ := filepath.Glob(filepath.Join(gitDir, markerPrefix+"*"))
	if rest := append(append(append(left, more...), tmps...), markers...); len(rest) > 0 {
		t.Errorf("left behind: %s", strings.Join(rest, " "))
	}
	git(t, proj, "fsck", "--no-progress", "--connectivity-only")
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
