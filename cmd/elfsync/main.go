// Command elfsync keeps a folder of markdown memories in sync with a SQLite
// index and a git history. See README.md and docs/DESIGN.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"
)

func main() {
	ctx := context.Background()
	// A background agent should stay small: ask the garbage collector to
	// work harder before the heap passes 48 MiB (a soft limit, never an
	// out-of-memory error). GOMEMLIMIT overrides it.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(48 << 20)
	}
	stopProfile := startProfile(os.Getenv("ELFSYNC_CPUPROFILE"))
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stopProfile()
	os.Exit(exitCode(err, os.Stderr))
}

// startProfile writes a CPU profile to path while the command runs, for
// performance work (ELFSYNC_CPUPROFILE=cpu.out elfsync scan; go tool pprof).
func startProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "elfsync: cpu profile: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "elfsync: cpu profile: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// exitError carries a specific exit code out of a command. A nil Err means
// the command already said what it had to (status drift, say).
type exitError struct {
	Code int
	Err  error
}

func (e *exitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *exitError) Unwrap() error { return e.Err }

// errUsage marks a command-line mistake; it exits 2.
var errUsage = errors.New("usage")

// exitCode maps a command's error to the process exit code and prints it.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(stderr, "elfsync: %v\n", ee.Err)
		}
		return ee.Code
	}
	if errors.Is(err, errUsage) {
		fmt.Fprintf(stderr, "elfsync: %v\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "elfsync: %v\n", err)
	return 1
}
