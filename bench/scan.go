package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

// scanSummary is the part of `elfsync scan --json` the harness checks.
type scanSummary struct {
	Added     int     `json:"added"`
	Updated   int     `json:"updated"`
	Removed   int     `json:"removed"`
	Unchanged int     `json:"unchanged"`
	Seconds   float64 `json:"seconds"`
}

// scanRun is one measured scan, for results.json.
type scanRun struct {
	Kind    string      `json:"kind"` // cold, noop, modified
	Notes   int         `json:"notes"`
	Run     int         `json:"run"`
	WallS   float64     `json:"wall_s"`
	RSSMB   float64     `json:"rss_mb"`
	Summary scanSummary `json:"summary"`
}

// scenarioScan measures `elfsync scan --no-git` on each corpus size:
// cold (no index), no-op (nothing changed) and 1% of the notes modified.
func (e *env) scenarioScan(ctx context.Context) error {
	runs := e.cfg.runs("scan")
	for _, n := range e.cfg.ScanSizes {
		cas := fmt.Sprintf("%s notes", kilo(n))
		var cold, noop, mod *Target
		if n == 20000 {
			cold, noop, mod = &Target{"<=", 2, "≤ 2 s"}, &Target{"<=", 0.1, "≤ 0.1 s"}, &Target{"<=", 0.15, "≤ 0.15 s"}
		}
		e.res.expect("cold scan", cas, "wall time", "s", cold)
		e.res.expect("cold scan", cas, "notes/s", "notes/s", targetIf(n == 20000, ">=", 10000, "≥ 10,000"))
		e.res.expect("cold scan", cas, "peak RSS", "MB", targetIf(n == 20000, "<=", 64, "≤ 64 MB"))
		e.res.expect("no-op scan", cas, "wall time", "s", noop)
		e.res.expect("no-op scan", cas, "peak RSS", "MB", nil)
		e.res.expect("1% modified scan", cas, "wall time", "s", mod)
		e.res.expect("1% modified scan", cas, "peak RSS", "MB", nil)
	}
	for _, n := range e.cfg.ScanSizes {
		if err := e.scanSize(ctx, n, runs); err != nil {
			return err
		}
	}
	return nil
}

func targetIf(cond bool, op string, limit float64, text string) *Target {
	if !cond {
		return nil
	}
	return &Target{Op: op, Limit: limit, Text: text}
}

func (e *env) scanSize(ctx context.Context, n, runs int) error {
	cas := fmt.Sprintf("%s notes", kilo(n))
	root := filepath.Join(e.work, fmt.Sprintf("scan-%d", n))
	start := time.Now()
	paths, err := makeCorpus(root, n, scanDirs(n), e.cfg.Seed)
	if err != nil {
		return err
	}
	e.logf("  corpus of %d notes in %d dirs generated in %s", n, scanDirs(n), time.Since(start).Round(100*time.Millisecond))
	// A scan of n notes should not take more than a few ms a note even on
	// a loaded machine; anything slower is a hang.
	timeout := time.Minute + time.Duration(n)*5*time.Millisecond
	scan := func(kind string, run int) (scanSummary, error) {
		t, err := timedRun(ctx, timeout, e.timeTool, e.work, e.bin, "scan", "--root", root, "--no-git", "--json")
		if err != nil {
			return scanSummary{}, err
		}
		var s scanSummary
		if err := json.Unmarshal(t.Stdout, &s); err != nil {
			return scanSummary{}, fmt.Errorf("scan --json output: %w", err)
		}
		rss := float64(t.RSSKB) / 1024
		name := map[string]string{"cold": "cold scan", "noop": "no-op scan", "modified": "1% modified scan"}[kind]
		e.res.add(name, cas, "wall time", "s", t.Wall.Seconds())
		if kind == "cold" {
			e.res.add(name, cas, "notes/s", "notes/s", float64(n)/t.Wall.Seconds())
		}
		if t.RSSKB > 0 {
			e.res.add(name, cas, "peak RSS", "MB", rss)
		}
		e.res.raw("scan", scanRun{Kind: kind, Notes: n, Run: run, WallS: t.Wall.Seconds(), RSSMB: rss, Summary: s})
		e.logf("  %s scan of %d notes, run %d: %.3f s, %.1f MB", kind, n, run, t.Wall.Seconds(), rss)
		return s, nil
	}

	for run := 1; run <= runs; run++ {
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			if err := os.Remove(indexPath(root) + suffix); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
		s, err := scan("cold", run)
		if err != nil {
			e.res.fail("cold scan", cas, run, err)
			continue
		}
		if s.Added != n {
			e.res.fail("cold scan", cas, run, fmt.Errorf("cold scan added %d of %d notes", s.Added, n))
		}
	}
	for run := 1; run <= runs; run++ {
		s, err := scan("noop", run)
		if err != nil {
			e.res.fail("no-op scan", cas, run, err)
			continue
		}
		if s.Added+s.Updated+s.Removed != 0 {
			e.res.fail("no-op scan", cas, run, fmt.Errorf("no-op scan changed rows: %+v", s))
		}
	}
	r := rand.New(rand.NewPCG(e.cfg.Seed, 77))
	k := max(1, n/100)
	for run := 1; run <= runs; run++ {
		for _, i := range r.Perm(n)[:k] {
			p := filepath.Join(root, "memory", filepath.FromSlash(paths[i]))
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(f, "\nEdited again in run %d.\n", run)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
		s, err := scan("modified", run)
		if err != nil {
			e.res.fail("1% modified scan", cas, run, err)
			continue
		}
		if s.Updated != k || s.Added+s.Removed != 0 {
			e.res.fail("1% modified scan", cas, run, fmt.Errorf("modified %d notes, scan reported %+v", k, s))
		}
	}
	return nil
}

// kilo prints 1000 as 1k and 20000 as 20k.
func kilo(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}
