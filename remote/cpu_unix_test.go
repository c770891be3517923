//go:build unix

package remote

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func cpuTime() time.Duration {
	var self, kids syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(self.Utime) + tv(self.Stime) + tv(kids.Utime) + tv(kids.Stime)
}

// TestNoopRoundCPU measures the CPU (elfsync and the git processes it
// runs) of one sync round with nothing to do against a local remote. The
// target is 50 ms; the test fails only far above it, on a loaded machine.
func TestNoopRoundCPU(t *testing.T) {
	testEnv(t)
	bare := filepath.Join(t.TempDir(), "remote.git")
	run(t, filepath.Dir(bare), "init", "-q", "--bare", bare)
	a := newHost(t, bare)
	for i := range 200 {
		a.write(fmt.Sprintf("failures/f%03d.md", i), fmt.Sprintf("# f%d\n\nbody\n", i))
	}
	a.commit()
	a.sync()
	a.sync()
	const n = 10
	start, wall := cpuTime(), time.Now()
	for range n {
		res, err := a.s.Round(context.Background())
		if err != nil || res.Pushed != "" || res.Merged != "" {
			t.Fatalf("no-op round did something: %+v %v", res, err)
		}
	}
	per := (cpuTime() - start) / n
	t.Logf("no-op sync round: %v CPU, %v wall (target 50 ms CPU)", per.Round(100*time.Microsecond), (time.Since(wall) / n).Round(100*time.Microsecond))
	if per > 250*time.Millisecond {
		t.Errorf("no-op round costs %v of CPU", per)
	}
}
