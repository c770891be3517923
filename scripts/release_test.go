package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestReleaseScript builds every platform with release.sh and checks the
// checksums and the version. With -short it only checks the script's
// syntax: a cold -trimpath build costs about 45 s per platform here.
func TestReleaseScript(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	if out, err := exec.Command("bash", "-n", "release.sh").CombinedOutput(); err != nil {
		t.Fatalf("bash -n release.sh: %v\n%s", err, out)
	}
	if testing.Short() {
		t.Skip("builds six binaries; run without -short")
	}
	dist := t.TempDir()
	targets := ""
	cmd := exec.Command("bash", "release.sh", "v0.0.0-test")
	cmd.Env = append(os.Environ(), "ELFSYNC_DIST="+dist, "ELFSYNC_TARGETS="+targets)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("release.sh: %v\n%s", err, out)
	}
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	want := 6
	if n := strings.Count(string(sums), "\n"); n != want {
		t.Errorf("SHA256SUMS lists %d binaries, want %d:\n%s", n, want, sums)
	}
	check := exec.Command("sha256sum", "-c", "SHA256SUMS")
	check.Dir = dist
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("sha256sum -c: %v\n%s", err, out)
	}
	host := filepath.Join(dist, "elfsync-v0.0.0-test-"+runtime.GOOS+"-"+runtime.GOARCH)
	out, err := exec.Command(host, "--version").Output()
	if err != nil || !strings.HasPrefix(string(out), "elfsync v0.0.0-test (") {
		t.Errorf("%s --version = %q, %v", host, out, err)
	}
}
