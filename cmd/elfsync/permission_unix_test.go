//go:build unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadOnlyMemoryFolderSaysWhy: the commands that read the index say,
// when memory/ cannot be written, that this is why (SQLite needs to write
// beside the index even to read it, and says only "attempt to write a
// readonly database"). Run as root, the commands run as nobody, since
// permission bits do not bind root.
func TestReadOnlyMemoryFolderSaysWhy(t *testing.T) {
	env := gitEnv(t)
	// A folder everyone may enter, for the binary and the root.
	dir, err := os.MkdirTemp("", "elfsync-perm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if err == nil && info.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
		os.RemoveAll(dir)
	})
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "elfsync")
	data, err := os.ReadFile(binPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "root")
	if r := elfsync(t, env, "init", "--root", root, "--no-git"); r.code != 0 {
		t.Fatalf("init: exit %d %s", r.code, r.stderr)
	}
	if err := os.Chmod(filepath.Join(root, "memory"), 0o555); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"status", "--no-git"}, {"search", "lock"}, {"context"}} {
		cmd := exec.Command(bin, append(args, "--root", root)...)
		cmd.Env = append(env, "HOME="+dir)
		if os.Geteuid() == 0 {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		}
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "not writable") || !strings.Contains(string(out), "give the user that runs elfsync write permission") {
			t.Errorf("%s in a read-only memory folder: %v\n%s", args[0], err, out)
		}
	}
}
