package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// writeBackRun is one run of the write-back scenario, for results.json.
type writeBackRun struct {
	Run     int     `json:"run"`
	Updates int     `json:"updates"`
	P50MS   float64 `json:"p50_ms"`
	P99MS   float64 `json:"p99_ms"`
	MaxMS   float64 `json:"max_ms"`
	Missed  int     `json:"never_in_file"`
}

// writeBackHeuristics is how many heuristic files the scenario's root has.
const writeBackHeuristics = 20

// scenarioWriteBack measures the way back: the framework's learning-loop
// hook bumps a heuristic's times_validated with a direct UPDATE (from this
// process, as another writer of the shared database), and the time until
// the heuristic's file says the new count is taken, under `elfsync watch
// --no-git`. One update at a time, 20 per second.
func (e *env) scenarioWriteBack(ctx context.Context) error {
	const sc = "write-back"
	cas := fmt.Sprintf("row UPDATE → file, %d heuristics", writeBackHeuristics)
	e.res.expect(sc, cas, "p50", "ms", &Target{"<=", 250, "≤ 250 ms"})
	e.res.expect(sc, cas, "p99", "ms", nil)
	e.res.expect(sc, cas, "updates never in the file", "updates", &Target{"==", 0, "0"})

	root := filepath.Join(e.work, "writeback")
	for i := range writeBackHeuristics {
		p := filepath.Join(root, "memory", "heuristics", fmt.Sprintf("h-%02d.md", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		note := fmt.Sprintf("---\ntype: heuristic\ndomain: bench\nrule: \"Write-back probe %d\"\nconfidence: 0.5\n---\n\nA heuristic the bench bumps.\n", i)
		if err := os.WriteFile(p, []byte(note), 0o644); err != nil {
			return err
		}
	}
	for run := 1; run <= e.cfg.runs("writeback"); run++ {
		if err := e.writeBackRun(ctx, root, cas, run); err != nil {
			e.res.fail(sc, cas, run, err)
			if ctx.Err() != nil {
				return err
			}
		}
	}
	return nil
}

func (e *env) writeBackRun(ctx context.Context, root, cas string, run int) error {
	const sc = "write-back"
	w, err := e.startWatch(ctx, root, 2*time.Minute, "--no-git")
	if err != nil {
		return err
	}
	defer w.stop()
	u := url.URL{Scheme: "file", Path: indexPath(root), RawQuery: "_pragma=busy_timeout(5000)"}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	updates := 100
	if e.cfg.Quick {
		updates = 20
	}
	var lat []time.Duration
	missed := 0
	for i := range updates {
		rel := fmt.Sprintf("memory/heuristics/h-%02d.md", i%writeBackHeuristics)
		var n int64
		start := time.Now()
		if err := db.QueryRowContext(ctx, `UPDATE heuristics SET times_validated = times_validated + 1, updated_at = CURRENT_TIMESTAMP
			WHERE filepath = ? RETURNING times_validated`, rel).Scan(&n); err != nil {
			return fmt.Errorf("update %s: %w", rel, err)
		}
		want := fmt.Sprintf("times_validated: %d\n", n)
		deadline := start.Add(10 * time.Second)
		for {
			data, _ := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
			if strings.Contains(string(data), want) {
				lat = append(lat, time.Since(start))
				break
			}
			if time.Now().After(deadline) {
				missed++
				break
			}
			if err := sleepCtx(ctx, time.Millisecond); err != nil {
				return err
			}
		}
		if err := sleepCtx(ctx, time.Until(start.Add(50*time.Millisecond))); err != nil {
			return err
		}
	}
	ms := millis(lat)
	r := writeBackRun{Run: run, Updates: updates, P50MS: percentile(ms, 50), P99MS: percentile(ms, 99), Missed: missed}
	_, r.MaxMS = minMax(ms)
	e.res.add(sc, cas, "p50", "ms", r.P50MS)
	e.res.add(sc, cas, "p99", "ms", r.P99MS)
	e.res.add(sc, cas, "updates never in the file", "updates", float64(missed))
	e.res.raw("writeback", r)
	e.logf("  write-back run %d: %d updates, p50 %.1f ms, p99 %.1f ms, max %.1f ms, %d never in the file",
		run, updates, r.P50MS, r.P99MS, r.MaxMS, missed)
	return w.stop()
}
