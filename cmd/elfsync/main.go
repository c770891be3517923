// Command elfsync keeps a folder of markdown memories in sync with a SQLite
// index and a git history. See README.md and docs/DESIGN.md.
//
// This package is the command line only: flags, help texts (help/*.txt,
// embedded), the instance lock and signal handling around `watch`, wiring
// the packages together, and printing. What each command does lives in a
// package of its own (agent, status, doctor, record, layout, indexer,
// committer, ...). main calls run and maps the error to an exit status in
// one table (exit.go).
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"

	"github.com/rs/zerolog"
)

func main() {
	ctx := context.Background()
	// A background agent should stay small: ask the garbage collector to
	// work harder before the heap passes 40 MiB (a soft limit, never an
	// out-of-memory error). GOMEMLIMIT overrides it.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(40 << 20)
	}
	// A duration in a log line carries its unit ("took":"36.49ms"), never
	// a bare number a reader has to guess the unit of.
	zerolog.DurationFieldFormat = zerolog.DurationFormatString
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
