package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/emergent-learning/elfsync/bench/corpus"
)

// idleRun is one run of the idle scenario, for results.json.
type idleRun struct {
	Run          int     `json:"run"`
	Seconds      float64 `json:"seconds"`
	CPUPercent   float64 `json:"cpu_percent"`          // of one core, elfsync itself
	ChildPercent float64 `json:"children_cpu_percent"` // git commands it ran meanwhile
	HWMMB        float64 `json:"vmhwm_mb"`
	RSSMB        float64 `json:"vmrss_mb"`
	StartupS     float64 `json:"startup_to_in_sync_s"`
}

// scenarioIdle starts `elfsync watch` (git on) on a tree of IdleNotes
// notes in IdleDirs directories, waits until it has indexed and committed
// everything, then measures its CPU time over IdleSeconds from
// /proc/PID/stat, and its memory from /proc/PID/status.
func (e *env) scenarioIdle(ctx context.Context) error {
	const sc = "idle watch"
	cas := fmt.Sprintf("%s notes, %d dirs, %.0f s", kilo(e.cfg.IdleNotes), e.cfg.IdleDirs, e.cfg.IdleSeconds)
	e.res.expect(sc, cas, "CPU", "% of a core", &Target{"<", 1, "< 1%"})
	e.res.expect(sc, cas, "peak RSS (VmHWM)", "MB", &Target{"<=", 64, "≤ 64 MB"})
	e.res.expect(sc, cas, "RSS while idle (VmRSS)", "MB", nil)

	root := filepath.Join(e.work, "idle")
	start := time.Now()
	if _, err := makeCorpus(root, e.cfg.IdleNotes, e.cfg.IdleDirs, e.cfg.Seed+2, corpus.Real); err != nil {
		return err
	}
	e.logf("  corpus of %d notes in %d dirs generated in %s", e.cfg.IdleNotes, e.cfg.IdleDirs, time.Since(start).Round(100*time.Millisecond))
	for run := 1; run <= e.cfg.runs("idle"); run++ {
		if err := e.idleRun(ctx, root, cas, run); err != nil {
			e.res.fail(sc, cas, run, err)
			if ctx.Err() != nil {
				return err
			}
		}
	}
	return nil
}

func (e *env) idleRun(ctx context.Context, root, cas string, run int) error {
	const sc = "idle watch"
	start := time.Now()
	// The first start indexes and commits the whole tree: git needs ~12 s
	// for 20,000 files on a quiet machine, so allow plenty.
	setup := 2*time.Minute + time.Duration(e.cfg.IdleNotes)*10*time.Millisecond
	w, err := e.startWatch(ctx, root, setup, "--quiet", e.cfg.Quiet.String())
	if err != nil {
		return err
	}
	defer w.stop()
	if _, _, err := e.waitInSync(ctx, root, e.cfg.IdleNotes, false, setup); err != nil {
		return err
	}
	startup := time.Since(start)
	// Let the last commit's aftermath (index refresh, logs) pass.
	if err := sleepCtx(ctx, time.Second); err != nil {
		return err
	}
	t0, err := readProcTimes(w.pid)
	if err != nil {
		return err
	}
	w0 := time.Now()
	if err := sleepCtx(ctx, time.Duration(e.cfg.IdleSeconds*float64(time.Second))); err != nil {
		return err
	}
	t1, err := readProcTimes(w.pid)
	if err != nil {
		return err
	}
	wall := time.Since(w0)
	hwm, rss, err := readProcMem(w.pid)
	if err != nil {
		return err
	}
	r := idleRun{
		Run: run, Seconds: wall.Seconds(),
		CPUPercent:   100 * (t1.self() - t0.self()).Seconds() / wall.Seconds(),
		ChildPercent: 100 * (t1.children() - t0.children()).Seconds() / wall.Seconds(),
		HWMMB:        float64(hwm) / 1024, RSSMB: float64(rss) / 1024, StartupS: startup.Seconds(),
	}
	e.res.add(sc, cas, "CPU", "% of a core", r.CPUPercent)
	e.res.add(sc, cas, "peak RSS (VmHWM)", "MB", r.HWMMB)
	e.res.add(sc, cas, "RSS while idle (VmRSS)", "MB", r.RSSMB)
	e.res.raw("idle", r)
	e.logf("  idle run %d: CPU %.2f%% of a core (git children %.2f%%) over %.0f s, VmHWM %.1f MB, VmRSS %.1f MB (startup to in sync %.1f s)",
		run, r.CPUPercent, r.ChildPercent, r.Seconds, r.HWMMB, r.RSSMB, r.StartupS)
	return w.stop()
}
