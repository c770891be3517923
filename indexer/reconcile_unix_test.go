//go:build linux || darwin

package indexer

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rs/zerolog"
)

// scanChildEnv, when set, makes TestUnreadableDirectoryKeepsRows scan the
// root it names and print the result: the test runs itself as nobody that
// way when it runs as root, since permission bits do not bind root.
const scanChildEnv = "ELFSYNC_TEST_SCAN_ROOT"

// TestUnreadableDirectoryKeepsRows checks, on a real directory with
// permission 000, that a scan keeps the rows of the files it cannot see
// (they are not deleted, only unreadable) and still drops those of a file
// that did vanish.
func TestUnreadableDirectoryKeepsRows(t *testing.T) {
	if root := os.Getenv(scanChildEnv); root != "" {
		ix, err := Open(context.Background(), Options{Root: root, Logger: zerolog.Nop()})
		if err != nil {
			fmt.Println("open:", err)
			os.Exit(1)
		}
		res, err := ix.Scan(context.Background(), nil)
		ix.Close()
		if err != nil {
			fmt.Println("scan:", err)
			os.Exit(1)
		}
		fmt.Printf("removed=%d added=%d\n", res.Removed, res.Added)
		os.Exit(0)
	}
	// A folder everyone may enter, for the test binary and the root.
	dir, err := os.MkdirTemp("", "elfsync-unreadable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if info != nil && info.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
		os.RemoveAll(dir)
	})
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "root")
	writeTree(t, root, map[string]string{
		"failures/a.md":      failureNote,
		"failures/deep/b.md": strings.Replace(failureNote, "Lock: held", "Deep", 1),
		"successes/c.md":     strings.Replace(failureNote, "type: failure", "type: success", 1),
		"successes/d.md":     strings.Replace(failureNote, "type: failure", "type: success", 1),
	})
	ix, err := Open(context.Background(), Options{Root: root, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ix.Scan(context.Background(), nil)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if err != nil || res.Added != 4 {
		t.Fatalf("first scan: added %d, %v; want 4", res.Added, err)
	}
	if err := os.Remove(filepath.Join(root, MemoryDir, "successes", "d.md")); err != nil {
		t.Fatal(err)
	}
	failures := filepath.Join(root, MemoryDir, "failures")
	if err := os.Chmod(failures, 0); err != nil {
		t.Fatal(err)
	}

	var out string
	if os.Geteuid() != 0 {
		ix, err := Open(context.Background(), Options{Root: root, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		res, err := ix.Scan(context.Background(), nil)
		ix.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = fmt.Sprintf("removed=%d added=%d\n", res.Removed, res.Added)
	} else {
		if err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, 65534, 65534)
		}); err != nil {
			t.Fatal(err)
		}
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(exe)
		if err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(dir, "indexer.test")
		if err := os.WriteFile(bin, data, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-test.run=^TestUnreadableDirectoryKeepsRows$")
		cmd.Env = append(os.Environ(), scanChildEnv+"="+root, "HOME="+dir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("scan as nobody: %v\n%s", err, b)
		}
		out = string(b)
	}
	if !strings.Contains(out, "removed=1 added=0\n") {
		t.Errorf("scan with failures/ unreadable: %q, want removed=1 added=0 (only successes/d.md dropped)", out)
	}
	if err := os.Chmod(failures, 0o755); err != nil {
		t.Fatal(err)
	}
	db := reader(t, root)
	for fp, want := range map[string]int{
		"memory/failures/a.md":      1,
		"memory/failures/deep/b.md": 1,
		"memory/successes/c.md":     1,
		"memory/successes/d.md":     0,
	} {
		if n := count(t, db, `SELECT count(*) FROM learnings WHERE filepath = ?`, fp); n != want {
			t.Errorf("%s: %d rows, want %d", fp, n, want)
		}
		if n := count(t, db, `SELECT count(*) FROM files WHERE filepath = ?`, fp); n != want {
			t.Errorf("%s: %d ledger entries, want %d", fp, n, want)
		}
	}
}
