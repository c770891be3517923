package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"time"

	"github.com/emergent-learning/elfsync/bench/corpus"
)

// latencyRun is one run of the watch latency scenario, for results.json.
type latencyRun struct {
	Run      int      `json:"run"`
	Notes    int      `json:"notes"`
	Seen     int      `json:"seen"`
	RateHz   float64  `json:"achieved_rate"`
	P50MS    float64  `json:"p50_ms"`
	P90MS    float64  `json:"p90_ms"`
	P99MS    float64  `json:"p99_ms"`
	MaxMS    float64  `json:"max_ms"`
	PollMS   float64  `json:"poll_interval_ms"`
	Warnings []string `json:"watcher_warnings,omitempty"`
}

// pollInterval is how often the harness queries the index for new rows in
// the latency scenario: the resolution of the measurement.
const pollInterval = 2 * time.Millisecond

// scenarioLatency writes notes by atomic rename at a steady rate into a
// root watched by `elfsync watch --no-git` and measures, per note, the
// time from the rename until a read-only connection of this process sees
// its row.
func (e *env) scenarioLatency(ctx context.Context) error {
	const sc = "watch latency"
	cas := fmt.Sprintf("%d notes/s, %s-note root", e.cfg.LatencyRate, kilo(e.cfg.LatencyCorpus))
	on100 := e.cfg.LatencyRate == 100
	e.res.expect(sc, cas, "p50", "ms", targetIf(on100, "<=", 50, "≤ 50 ms"))
	e.res.expect(sc, cas, "p99", "ms", targetIf(on100, "<=", 250, "≤ 250 ms"))
	e.res.expect(sc, cas, "max", "ms", nil)
	e.res.expect(sc, cas, "notes never indexed", "notes", &Target{"==", 0, "0"})

	root := filepath.Join(e.work, "latency")
	if _, err := makeCorpus(root, e.cfg.LatencyCorpus, scanDirs(e.cfg.LatencyCorpus), e.cfg.Seed+1, corpus.Real); err != nil {
		return err
	}
	for run := 1; run <= e.cfg.runs("latency"); run++ {
		if err := e.latencyRun(ctx, root, cas, run); err != nil {
			e.res.fail(sc, cas, run, err)
			if ctx.Err() != nil {
				return err
			}
		}
	}
	return nil
}

func (e *env) latencyRun(ctx context.Context, root, cas string, run int) error {
	const sc = "watch latency"
	w, err := e.startWatch(ctx, root, 10*time.Minute, "--no-git")
	if err != nil {
		return err
	}
	defer w.stop()
	db, err := openRO(indexPath(root))
	if err != nil {
		return err
	}
	defer db.Close()

	count := max(1, int(float64(e.cfg.LatencyRate)*e.cfg.LatencySeconds))
	mk := newNoteMaker(e.cfg.Seed + uint64(run))
	notes := make([]pendingNote, count)
	for i := range notes {
		title := fmt.Sprintf("Latency probe %d of run %d", i, run)
		notes[i] = pendingNote{rel: fmt.Sprintf("failures/lat-r%d-%05d.md", run, i), data: mk.note("failure", title)}
	}
	var maxID int64
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM learnings`).Scan(&maxID); err != nil {
		return fmt.Errorf("read max id: %w", err)
	}

	// The poller owns seen until it returns on pollDone.
	want := map[string]bool{}
	for _, n := range notes {
		want["memory/"+n.rel] = true
	}
	seen := map[string]time.Time{}
	stopPoll := make(chan struct{})
	pollDone := make(chan error, 1)
	go func() { pollDone <- pollNewRows(ctx, db, maxID, want, seen, stopPoll) }()

	// The writer paces itself on an absolute schedule, so a slow write
	// does not lower the rate.
	mem := filepath.Join(root, "memory")
	written := make([]time.Time, count)
	interval := time.Second / time.Duration(e.cfg.LatencyRate)
	start := time.Now()
	var werr error
	for i, n := range notes {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			if werr = sleepCtx(ctx, d); werr != nil {
				break
			}
		}
		if written[i], werr = writeAtomic(mem, n.rel, n.data); werr != nil {
			break
		}
	}
	elapsed := time.Since(start)
	// Give stragglers 30 s, then stop the poller.
	var perr error
	select {
	case perr = <-pollDone:
	case <-time.After(30 * time.Second):
		close(stopPoll)
		perr = <-pollDone
	case <-ctx.Done():
		close(stopPoll)
		<-pollDone
		return ctx.Err()
	}
	if werr != nil {
		return fmt.Errorf("write notes: %w", werr)
	}
	if perr != nil {
		return perr
	}

	var lat []time.Duration
	lost := 0
	for i, n := range notes {
		t, ok := seen["memory/"+n.rel]
		if !ok {
			lost++
			continue
		}
		lat = append(lat, t.Sub(written[i]))
	}
	ms := millis(lat)
	r := latencyRun{
		Run: run, Notes: count, Seen: len(lat), RateHz: float64(count) / elapsed.Seconds(),
		P50MS: percentile(ms, 50), P90MS: percentile(ms, 90), P99MS: percentile(ms, 99),
		PollMS: float64(pollInterval) / float64(time.Millisecond), Warnings: w.lastErrors(),
	}
	_, r.MaxMS = minMax(ms)
	e.res.add(sc, cas, "p50", "ms", r.P50MS)
	e.res.add(sc, cas, "p99", "ms", r.P99MS)
	e.res.add(sc, cas, "max", "ms", r.MaxMS)
	e.res.add(sc, cas, "notes never indexed", "notes", float64(lost))
	e.res.raw("latency", r)
	e.logf("  latency run %d: %d notes at %.0f/s, p50 %.1f ms, p99 %.1f ms, max %.1f ms, %d never indexed",
		run, count, r.RateHz, r.P50MS, r.P99MS, r.MaxMS, lost)
	return w.stop()
}

// pollNewRows queries learnings for rows with an id above the last one
// seen, every pollInterval, stamping each wanted filepath with the time
// the query returned it. New rows get increasing ids (one writer, ids from
// max+1), so nothing is missed. It returns when every wanted path was seen
// or stop is closed.
func pollNewRows(ctx context.Context, db *sql.DB, maxID int64, want map[string]bool, seen map[string]time.Time, stop <-chan struct{}) error {
	for len(seen) < len(want) {
		rows, err := db.QueryContext(ctx, `SELECT id, filepath FROM learnings WHERE id > ? ORDER BY id`, maxID)
		if err != nil {
			return fmt.Errorf("poll index: %w", err)
		}
		now := time.Now()
		for rows.Next() {
			var id int64
			var p string
			if err := rows.Scan(&id, &p); err != nil {
				rows.Close()
				return err
			}
			maxID = max(maxID, id)
			if want[p] {
				if _, ok := seen[p]; !ok {
					seen[p] = now
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		select {
		case <-stop:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollInterval):
		}
	}
	return nil
}
