package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// userHZ is the unit of the times in /proc/PID/stat (USER_HZ), 100 on
// every Linux architecture the harness runs on.
const userHZ = 100

// command builds a child process in a process group of its own, killed
// with the whole group (git, sqlite3, flock children included) when ctx
// ends. Every child of the harness is made here, so cancelling the run's
// context leaves nothing behind.
func command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	setProcessGroup(cmd)
	cmd.Cancel = func() error { return killGroup(cmd, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// runCmd runs a command to completion within timeout and returns its
// stdout. A failure's error carries the end of stderr.
func runCmd(ctx context.Context, timeout time.Duration, dir string, name string, args ...string) ([]byte, error) {
	return runCmdInput(ctx, timeout, dir, "", name, args...)
}

// runCmdInput is runCmd with stdin.
func runCmdInput(ctx context.Context, timeout time.Duration, dir, stdin string, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := command(ctx, name, args...)
	cmd.Dir = dir
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil && err != nil {
		err = fmt.Errorf("%w (after %s)", ctx.Err(), timeout)
	}
	if err != nil {
		return stdout.Bytes(), fmt.Errorf("%s: %w: %s", cmdLine(name, args), err, tail(stderr.String(), 600))
	}
	return stdout.Bytes(), nil
}

// git runs git in dir with the harness's fixed environment.
func git(ctx context.Context, dir string, args ...string) ([]byte, error) {
	return runCmd(ctx, 2*time.Minute, dir, "git", append([]string{"-c", "core.quotepath=off"}, args...)...)
}

// cmdLine shows a command in an error message, long arguments shortened.
func cmdLine(name string, args []string) string {
	parts := []string{name}
	for _, a := range args {
		if len(a) > 60 {
			a = a[:57] + "..."
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// timed is one measured run of a short-lived command.
type timed struct {
	Wall   time.Duration
	RSSKB  int64 // peak resident set size of the command
	Stdout []byte
}

// timedRun runs name with args within timeout and measures its wall time
// and peak RSS: from /usr/bin/time -v when timeTool is set, else from the
// child's rusage (the same ru_maxrss, read by wait4).
func timedRun(ctx context.Context, timeout time.Duration, timeTool, tmpDir, name string, args ...string) (timed, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var report string
	argv := append([]string{name}, args...)
	if timeTool != "" {
		f, err := os.CreateTemp(tmpDir, "time-*.txt")
		if err != nil {
			return timed{}, err
		}
		report = f.Name()
		f.Close()
		defer os.Remove(report)
		argv = append([]string{timeTool, "-v", "-o", report}, argv...)
	}
	cmd := command(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (after %s)", ctx.Err(), timeout)
		}
		return timed{}, fmt.Errorf("%s: %w: %s", cmdLine(argv[0], argv[1:]), err, tail(stderr.String(), 600))
	}
	t := timed{Wall: wall, Stdout: stdout.Bytes()}
	if report != "" {
		if kb, err := parseTimeMaxRSS(report); err == nil {
			t.RSSKB = kb
		}
	}
	if t.RSSKB == 0 {
		t.RSSKB = maxRSSKB(cmd.ProcessState)
	}
	return t, nil
}

// parseTimeMaxRSS reads "Maximum resident set size (kbytes): N" from a
// GNU time -v report.
func parseTimeMaxRSS(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "Maximum resident set size (kbytes):"); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("%s: no maximum resident set size", path)
}

// procTimes are a process's CPU times from /proc/PID/stat, in USER_HZ
// ticks: its own, and those of its children it has waited for (for
// elfsync, the git commands it ran).
type procTimes struct {
	Utime, Stime, Cutime, Cstime uint64
}

func (p procTimes) self() time.Duration {
	return time.Duration(p.Utime+p.Stime) * time.Second / userHZ
}

func (p procTimes) children() time.Duration {
	return time.Duration(p.Cutime+p.Cstime) * time.Second / userHZ
}

func readProcTimes(pid int) (procTimes, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procTimes{}, err
	}
	return parseProcStat(string(b))
}

// parseProcStat parses the text of /proc/PID/stat. The command name (field
// 2) may hold spaces and parentheses, so fields are counted after the last
// ')'.
func parseProcStat(s string) (procTimes, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procTimes{}, fmt.Errorf("parse /proc stat: no ')' in %q", tail(s, 80))
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime is field 14, so f[11].
	if len(f) < 15 {
		return procTimes{}, fmt.Errorf("parse /proc stat: %d fields", len(f)+2)
	}
	var v [4]uint64
	for j := range v {
		n, err := strconv.ParseUint(f[11+j], 10, 64)
		if err != nil {
			return procTimes{}, fmt.Errorf("parse /proc stat field %d: %w", 14+j, err)
		}
		v[j] = n
	}
	return procTimes{Utime: v[0], Stime: v[1], Cutime: v[2], Cstime: v[3]}, nil
}

// readProcMem returns VmHWM (peak) and VmRSS (now) of a process, in KB.
func readProcMem(pid int) (hwm, rss int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		n, perr := strconv.ParseInt(fields[0], 10, 64)
		if perr != nil {
			continue
		}
		switch k {
		case "VmHWM":
			hwm = n
		case "VmRSS":
			rss = n
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	if hwm == 0 {
		return 0, 0, fmt.Errorf("/proc/%d/status: no VmHWM", pid)
	}
	return hwm, rss, nil
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pollUntil calls f every interval until it returns true, an error, or
// the deadline passes (an error naming what).
func pollUntil(ctx context.Context, deadline time.Time, interval time.Duration, what string, f func() (bool, error)) error {
	for {
		ok, err := f()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for %s", what)
		}
		if err := sleepCtx(ctx, interval); err != nil {
			return err
		}
	}
}
