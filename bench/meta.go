package main

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// meta describes the machine and the versions measured, for the README's
// "measured on" line.
func (e *env) meta(ctx context.Context) Meta {
	m := Meta{
		Started:    time.Now(),
		Mode:       "full",
		Cores:      runtime.NumCPU(),
		Go:         runtime.Version(),
		LoadBefore: loadAvg(),
		RSSSource:  "rusage",
		Recorder:   "direct (atomic rename)",
	}
	if e.cfg.Quick {
		m.Mode = "quick"
	}
	if e.timeTool != "" {
		m.RSSSource = e.timeTool + " -v"
	}
	if e.recorder != "" {
		m.Recorder = "scripts/record-failure.sh"
	}
	m.CPU = cpuModel()
	m.MemoryMB = memTotalMB()
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := runCmd(ctx, time.Minute, e.work, "git", "--version"); err == nil {
		m.Git = strings.TrimSpace(string(out))
	}
	if out, err := runCmd(ctx, time.Minute, e.work, "sqlite3", "--version"); err == nil {
		if f := strings.Fields(string(out)); len(f) > 0 {
			m.SQLite3 = f[0]
		}
	}
	if out, err := runCmd(ctx, time.Minute, e.repo, "git", "rev-parse", "--short=12", "HEAD"); err == nil {
		m.Elfsync = strings.TrimSpace(string(out))
		if st, err := runCmd(ctx, time.Minute, e.repo, "git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"); err == nil && len(strings.TrimSpace(string(st))) > 0 {
			m.Elfsync += "+dirty"
		}
	}
	if e.cfg.Elfsync != "" {
		m.Elfsync = e.cfg.Elfsync
	}
	return m
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func memTotalMB() int {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				kb, _ := strconv.Atoi(f[0])
				return kb / 1024
			}
		}
	}
	return 0
}

// loadAvg is the 1, 5 and 15 minute load average, to show how busy the
// machine was.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
