package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// env is what every scenario needs: the configuration, the paths, the
// binary under test and the results being collected.
type env struct {
	cfg      config
	repo     string // the module root
	bin      string // the elfsync binary
	work     string // corpora and roots live here
	timeTool string // "/usr/bin/time" when it can report peak RSS, else ""
	recorder string // path of scripts/record-failure.sh, or "" to write files directly
	oldRec   string // path of bench/old-record.sh
	floorBin string // bench/floor, built
	zk       string // the zk binary, or "" when it could not be built
	ownWork  bool   // work was made by the harness, so it removes it
	res      *Results
	log      io.Writer
}

func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(e.log, "bench: "+format+"\n", args...)
}

// run is the whole harness: parse flags, build elfsync, run the scenarios,
// write the table, results.json and the chart. It returns an error when a
// scenario produced no figure (or failed outright), so CI sees it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if cfg.Report != "" {
		return report(cfg, stdout, stderr)
	}
	if runtime.GOOS != "linux" {
		return fmt.Errorf("the harness measures through /proc and runs on Linux only (this is %s)", runtime.GOOS)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	// Cancelling kills every child still running (each is in its own
	// process group and made with command), watchers included.
	defer cancel()

	e := &env{cfg: cfg, res: newResults(), log: stderr}
	if e.repo, err = moduleRoot(); err != nil {
		return err
	}
	for _, tool := range []string{"git", "sqlite3", "flock", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found: the harness needs git, sqlite3, flock and bash (scripts/test.sh installs sqlite3)", tool)
		}
	}
	if err := e.setupDirs(); err != nil {
		return err
	}
	defer func() {
		// Every watcher was stopped by its scenario; cancelling kills
		// anything a failure left behind before its files go.
		cancel()
		if cfg.Keep || !e.ownWork {
			e.logf("kept the work directory %s", e.work)
			return
		}
		if rerr := os.RemoveAll(e.work); rerr != nil {
			e.logf("remove %s: %v", e.work, rerr)
		}
	}()
	if err := e.setupTools(ctx); err != nil {
		return err
	}
	e.res.Config = e.cfg
	e.res.Meta = e.meta(ctx)
	e.res.Meta.Command = strings.TrimSpace("go run ./bench " + strings.Join(args, " "))

	scenarios := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"scan", e.scenarioScan},
		{"latency", e.scenarioLatency},
		{"burst", e.scenarioBurst},
		{"trickle", e.scenarioTrickle},
		{"idle", e.scenarioIdle},
		{"oldnew", e.scenarioOldNew},
		{"search", e.scenarioSearch},
		{"writeback", e.scenarioWriteBack},
	}
	var failed []string
	for _, s := range scenarios {
		if !cfg.enabled(s.name) {
			continue
		}
		if ctx.Err() != nil {
			failed = append(failed, s.name+": "+ctx.Err().Error())
			break
		}
		settleDisk()
		start := time.Now()
		e.logf("scenario %s", s.name)
		if err := s.fn(ctx); err != nil {
			e.res.fail(s.name, "", 0, err)
			failed = append(failed, s.name+": "+err.Error())
			e.logf("scenario %s failed: %v", s.name, err)
		}
		e.res.Seconds[s.name] = time.Since(start).Seconds()
		e.logf("scenario %s took %s", s.name, time.Since(start).Round(100*time.Millisecond))
	}

	e.res.Meta.Finished = time.Now()
	e.res.Meta.LoadAfter = loadAvg()
	e.res.finish()
	if werr := e.writeOutputs(stdout); werr != nil {
		return werr
	}
	switch {
	case len(e.res.Missing) > 0:
		return fmt.Errorf("%d figures missing: %s; errors: %s", len(e.res.Missing),
			strings.Join(e.res.Missing, "; "), strings.Join(failed, "; "))
	case len(failed) > 0:
		return fmt.Errorf("scenarios failed: %s", strings.Join(failed, "; "))
	}
	return nil
}

// setupDirs settles the output and work directories.
func (e *env) setupDirs() error {
	c := &e.cfg
	var err error
	if c.Out == "" {
		if c.Quick {
			if c.Out, err = os.MkdirTemp("", "elfsync-bench-out-"); err != nil {
				return err
			}
		} else {
			c.Out = filepath.Join(e.repo, "bench", "out")
		}
	}
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return err
	}
	if c.SVG == "" {
		c.SVG = filepath.Join(e.repo, "docs", "bench.svg")
		if c.Quick {
			c.SVG = filepath.Join(c.Out, "bench.svg")
		}
	}
	if c.Work == "" {
		if c.Work, err = os.MkdirTemp("", "elfsync-bench-"); err != nil {
			return err
		}
		e.ownWork = true
	} else if err := os.MkdirAll(c.Work, 0o755); err != nil {
		return err
	}
	if e.work, err = filepath.Abs(c.Work); err != nil {
		return err
	}
	// elfsync commits into the git work tree that contains memory/ when
	// there is one: a root inside the project's own checkout would get
	// benchmark commits. Refuse.
	if out, err := exec.Command("git", "-C", e.work, "rev-parse", "--show-toplevel").Output(); err == nil {
		return fmt.Errorf("work directory %s is inside the git work tree %s; pass --work outside any repository",
			e.work, strings.TrimSpace(string(out)))
	}
	return nil
}

// setupTools builds elfsync (unless --elfsync names a binary) and finds
// the record scripts and /usr/bin/time.
func (e *env) setupTools(ctx context.Context) error {
	if e.cfg.Elfsync != "" {
		abs, err := filepath.Abs(e.cfg.Elfsync)
		if err != nil {
			return err
		}
		e.bin = abs
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if p, err := exec.LookPath("go"); err == nil {
		goTool = p
	}
	if e.cfg.Elfsync == "" {
		e.bin = filepath.Join(e.work, "elfsync")
		start := time.Now()
		if _, err := runCmd(ctx, 15*time.Minute, e.repo, goTool, "build", "-o", e.bin, "./cmd/elfsync"); err != nil {
			return fmt.Errorf("build elfsync: %w", err)
		}
		e.logf("built elfsync in %s", time.Since(start).Round(100*time.Millisecond))
	}
	if _, err := runCmd(ctx, time.Minute, e.work, e.bin, "status", "--help"); err != nil {
		return fmt.Errorf("elfsync binary does not run: %w", err)
	}
	if e.cfg.enabled("scan") {
		if err := e.buildFloor(ctx, goTool); err != nil {
			return err
		}
		if e.cfg.Peers {
			e.zk = e.buildZK(ctx, goTool)
		}
	}
	if p := "/usr/bin/time"; fileExists(p) {
		if _, err := runCmd(ctx, time.Minute, e.work, p, "-v", "true"); err == nil {
			e.timeTool = p
		}
	}
	e.oldRec = filepath.Join(e.repo, "bench", "old-record.sh")
	if !fileExists(e.oldRec) {
		return fmt.Errorf("%s missing", e.oldRec)
	}
	// Writers use the real record script when it works, as agents would;
	// otherwise they write the files themselves (atomic rename).
	rec := filepath.Join(e.repo, "scripts", "record-failure.sh")
	if _, err := runCmd(ctx, time.Minute, e.work, rec, "--help"); err == nil {
		e.recorder = rec
	} else {
		e.logf("scripts/record-failure.sh not usable (%v): elfsync writers write files directly", err)
	}
	return nil
}

// report redraws the table and the chart from an earlier results.json
// (--report), without running anything: for adjusting the chart, or for
// the README, after a long run.
func report(cfg config, stdout, stderr io.Writer) error {
	b, err := os.ReadFile(cfg.Report)
	if err != nil {
		return err
	}
	res := newResults()
	if err := json.Unmarshal(b, res); err != nil {
		return fmt.Errorf("%s: %w", cfg.Report, err)
	}
	for _, m := range res.Metrics {
		res.index[[3]string{m.Scenario, m.Case, m.Name}] = m
	}
	out, svg := cfg.Out, cfg.SVG
	if out == "" {
		out = filepath.Dir(cfg.Report)
	}
	if svg == "" {
		svg = res.Config.SVG
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	e := &env{cfg: res.Config, res: res, log: stderr}
	e.cfg.Out, e.cfg.SVG = out, svg
	return e.writeOutputs(stdout)
}

// writeOutputs prints the table and writes results.json, results.md and
// the chart.
func (e *env) writeOutputs(stdout io.Writer) error {
	var md strings.Builder
	m := e.res.Meta
	fmt.Fprintf(&md, "elfsync benchmark, %s mode, %s", m.Mode, m.Started.Format(time.RFC3339))
	if m.Command != "" {
		fmt.Fprintf(&md, ": `%s`", m.Command)
	}
	md.WriteString("\n\n")
	fmt.Fprintf(&md, "Machine: %s, %d cores, %d MB RAM, Linux %s; %s, %s, sqlite3 %s; elfsync %s; load %s → %s\n\n",
		m.CPU, m.Cores, m.MemoryMB, m.Kernel, m.Go, m.Git, m.SQLite3, m.Elfsync, m.LoadBefore, m.LoadAfter)
	e.res.writeTable(&md)
	if len(e.res.Notes) > 0 {
		md.WriteString("\n")
		for _, n := range e.res.Notes {
			fmt.Fprintf(&md, "- %s\n", n)
		}
	}
	if len(e.res.Errors) > 0 {
		md.WriteString("\nErrors:\n\n")
		for _, re := range e.res.Errors {
			fmt.Fprintf(&md, "- %s %s run %d: %s\n", re.Scenario, re.Case, re.Run, re.Error)
		}
	}
	if len(e.res.Missing) > 0 {
		md.WriteString("\nMissing figures:\n\n")
		for _, s := range e.res.Missing {
			fmt.Fprintf(&md, "- %s\n", s)
		}
	}
	fmt.Fprint(stdout, md.String())
	if err := os.WriteFile(filepath.Join(e.cfg.Out, "results.md"), []byte(md.String()), 0o644); err != nil {
		return err
	}
	if err := e.res.writeJSON(filepath.Join(e.cfg.Out, "results.json")); err != nil {
		return err
	}
	if e.cfg.enabled("oldnew") {
		svg, err := chartSVG(e.res)
		if err != nil {
			return fmt.Errorf("chart: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(e.cfg.SVG), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(e.cfg.SVG, svg, 0o644); err != nil {
			return err
		}
	}
	e.logf("wrote %s, %s and %s", filepath.Join(e.cfg.Out, "results.json"), filepath.Join(e.cfg.Out, "results.md"), e.cfg.SVG)
	return nil
}

// moduleRoot finds the directory holding go.mod, from the working
// directory up (go run ./bench runs in the root; go test in bench/).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if fileExists(filepath.Join(dir, "go.mod")) && fileExists(filepath.Join(dir, "cmd", "elfsync")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the harness inside the elfsync module (no go.mod with cmd/elfsync above the working directory)")
		}
		dir = parent
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
