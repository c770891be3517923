package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// burstRun is one run of the burst scenario, for results.json.
type burstRun struct {
	Run              int            `json:"run"`
	Notes            int            `json:"notes"`
	Writers          int            `json:"writers"`
	WriteS           float64        `json:"write_s"`        // first write to last write
	ToIndexedS       float64        `json:"to_indexed_s"`   // last write → all rows readable
	ToCommittedS     float64        `json:"to_committed_s"` // last write → HEAD holds every note
	ToCleanS         float64        `json:"to_clean_s"`     // last write → git status clean, ls-files right
	GitFloorS        float64        `json:"git_floor_s"`    // git add -A + commit of the same files, alone
	Rows             int            `json:"rows"`           // rows at the end
	Commits          int            `json:"commits"`        // commits made during the burst
	GitCPUMSPerNote  float64        `json:"git_cpu_ms_per_note"`
	GitWallMSPerNote float64        `json:"git_wall_ms_per_note,omitempty"` // only when the log has "took_ms"
	LoggedCommits    []loggedCommit `json:"logged_commits"`
	Warnings         []string       `json:"watcher_warnings,omitempty"`
}

// scenarioBurst writes BurstNotes notes from BurstWriters goroutines as
// fast as they go into a watched root with git on, and measures from the
// last write to all rows indexed and to all notes committed.
func (e *env) scenarioBurst(ctx context.Context) error {
	const sc = "burst"
	cas := fmt.Sprintf("%d notes, %d writers, quiet %s", e.cfg.BurstNotes, e.cfg.BurstWriters, e.cfg.Quiet)
	full := e.cfg.BurstNotes == 10000 && e.cfg.BurstWriters == 20
	e.res.expect(sc, cas, "last write → all indexed", "s", targetIf(full, "<=", 2, "≤ 2 s"))
	e.res.expect(sc, cas, "rows lost", "notes", &Target{"==", 0, "0"})
	e.res.expect(sc, cas, "last write → all committed", "s", nil)
	e.res.expect(sc, cas, "floor: git add -A + commit", "s", nil)
	e.res.expect(sc, cas, "(committed − quiet) vs git floor", "×", &Target{"<=", 1.3, "≤ 1.3×"})
	e.res.expect(sc, cas, "commits", "commits", targetIf(full, "<=", 3, "≤ 3"))
	e.res.expect(sc, cas, "git CPU per note", "ms", targetIf(full, "<=", 5, "≤ 5 ms (target is git time)"))
	e.res.expect(sc, cas, "writers' rate", "notes/s", nil)
	for run := 1; run <= e.cfg.runs("burst"); run++ {
		if err := e.burstRun(ctx, cas, run); err != nil {
			e.res.fail(sc, cas, run, err)
			if ctx.Err() != nil {
				return err
			}
		}
	}
	return nil
}

// newGitRoot makes an empty root with the type folders and starts
// `elfsync watch` with git on it, waiting until the startup commit is
// done.
func (e *env) newGitRoot(ctx context.Context, name string) (string, *watchProc, error) {
	root := filepath.Join(e.work, name)
	for _, f := range typeFolders() {
		if err := os.MkdirAll(filepath.Join(root, "memory", f), 0o755); err != nil {
			return "", nil, err
		}
	}
	w, err := e.startWatch(ctx, root, 2*time.Minute, "--quiet", e.cfg.Quiet.String())
	if err != nil {
		return "", nil, err
	}
	if _, _, err := e.waitInSync(ctx, root, 0, false, 2*time.Minute); err != nil {
		w.stop()
		return "", nil, fmt.Errorf("fresh root never in sync: %w", err)
	}
	return root, w, nil
}

func (e *env) burstRun(ctx context.Context, cas string, run int) error {
	const sc = "burst"
	root, w, err := e.newGitRoot(ctx, fmt.Sprintf("burst-%d", run))
	if err != nil {
		return err
	}
	defer w.stop()
	mem := filepath.Join(root, "memory")
	before, err := commitCount(ctx, mem)
	if err != nil {
		return err
	}
	_, trackedBefore, err := gitClean(ctx, mem)
	if err != nil {
		return err
	}
	db, err := openRO(indexPath(root))
	if err != nil {
		return err
	}
	defer db.Close()
	rowsBefore, err := countRows(ctx, db)
	if err != nil {
		return err
	}

	n, nw := e.cfg.BurstNotes, e.cfg.BurstWriters
	folders := typeFolders()
	mk := newNoteMaker(e.cfg.Seed + 100 + uint64(run))
	notes := make([]pendingNote, n)
	rels := make([]string, n)
	for i := range notes {
		f := folders[i%len(folders)]
		rels[i] = fmt.Sprintf("%s/burst-%05d.md", f, i)
		notes[i] = pendingNote{rel: rels[i], data: mk.note(folderType(f), fmt.Sprintf("Burst note %d of run %d", i, run))}
	}

	obs, err := newCommitObserver(ctx, mem, rels)
	if err != nil {
		return err
	}
	stopObs := make(chan struct{})
	obsDone := make(chan error, 1)
	// The commit deadline: the writes, then at most the maximum wait (30 s
	// by default) and a generous allowance for git on 10,000 files.
	obsDeadline := time.Now().Add(5*time.Minute + time.Duration(n)*time.Millisecond)
	go func() { obsDone <- obs.run(ctx, 20*time.Millisecond, obsDeadline, stopObs) }()

	idxDone := make(chan error, 1)
	idxCtx, idxCancel := context.WithCancel(ctx)
	defer idxCancel()
	var indexedAt time.Time
	var rowsAfter int
	go func() {
		idxDone <- pollUntil(idxCtx, obsDeadline, 5*time.Millisecond, "all burst rows", func() (bool, error) {
			c, err := countRows(idxCtx, db)
			if err != nil {
				return false, err
			}
			rowsAfter = c - rowsBefore
			indexedAt = time.Now()
			return rowsAfter >= n, nil
		})
	}()

	// Each run, and the floor below, starts with nothing of an earlier run
	// (or scenario) left to write back, so that neither the commit of the
	// burst (10k new objects) nor the floor pays for another's writeback.
	settleDisk()
	cpu0, err := readProcTimes(w.pid)
	if err != nil {
		return err
	}
	start := time.Now()
	last := make([]time.Time, nw)
	errs := make([]error, nw)
	var wg sync.WaitGroup
	for j := 0; j < nw; j++ {
		wg.Add(1)
		go func(j int) {
			defer wg.Done()
			for i := j; i < n; i += nw {
				if _, err := writeAtomic(mem, notes[i].rel, notes[i].data); err != nil {
					errs[j] = err
					return
				}
				last[j] = time.Now()
			}
		}(j)
	}
	wg.Wait()
	var lastWrite time.Time
	for j := range last {
		if errs[j] != nil {
			close(stopObs)
			idxCancel()
			<-obsDone
			<-idxDone
			return fmt.Errorf("writer %d: %w", j, errs[j])
		}
		if last[j].After(lastWrite) {
			lastWrite = last[j]
		}
	}

	ierr := <-idxDone
	oerr := <-obsDone
	r := burstRun{Run: run, Notes: n, Writers: nw, WriteS: lastWrite.Sub(start).Seconds(), Rows: rowsAfter}
	e.res.add(sc, cas, "writers' rate", "notes/s", float64(n)/lastWrite.Sub(start).Seconds())
	e.res.add(sc, cas, "rows lost", "notes", float64(n-rowsAfter))
	if ierr == nil {
		r.ToIndexedS = indexedAt.Sub(lastWrite).Seconds()
		e.res.add(sc, cas, "last write → all indexed", "s", r.ToIndexedS)
	} else {
		e.res.fail(sc, cas, run, fmt.Errorf("index: %w (%d of %d rows)", ierr, rowsAfter, n))
	}
	if oerr != nil {
		return fmt.Errorf("commits: %w", oerr)
	}
	r.ToCommittedS = obs.doneAt.Sub(lastWrite).Seconds()
	e.res.add(sc, cas, "last write → all committed", "s", r.ToCommittedS)

	// HEAD holds everything; the work tree and index must agree (nothing
	// left staged or untracked) once elfsync refreshed git's index.
	err = pollUntil(ctx, time.Now().Add(time.Minute), 100*time.Millisecond, "git status clean", func() (bool, error) {
		clean, tracked, err := gitClean(ctx, mem)
		return clean && tracked == trackedBefore+n, err
	})
	if err != nil {
		e.res.fail(sc, cas, run, err)
	} else {
		r.ToCleanS = time.Since(lastWrite).Seconds()
	}
	after, err := commitCount(ctx, mem)
	if err != nil {
		return err
	}
	r.Commits = after - before
	e.res.add(sc, cas, "commits", "commits", float64(r.Commits))
	cpu1, err := readProcTimes(w.pid)
	if err != nil {
		return err
	}
	r.GitCPUMSPerNote = float64(cpu1.children()-cpu0.children()) / float64(time.Millisecond) / float64(n)
	e.res.add(sc, cas, "git CPU per note", "ms", r.GitCPUMSPerNote)
	r.LoggedCommits = w.loggedCommits()
	var took float64
	for _, c := range r.LoggedCommits {
		took += c.TookMS
	}
	if took > 0 {
		r.GitWallMSPerNote = took / float64(n)
		e.res.add(sc, cas, "git wall time per note", "ms", r.GitWallMSPerNote)
	}
	r.Warnings = w.lastErrors()
	if err := w.stop(); err != nil {
		return err
	}
	// The floor: git alone adding and committing the same files, in a
	// fresh repository of its own.
	gitDir := root + ".floor.git"
	settleDisk()
	floor, err := e.gitAddCommit(ctx, gitDir, mem, n)
	os.RemoveAll(gitDir)
	if err != nil {
		return fmt.Errorf("git floor: %w", err)
	}
	r.GitFloorS = floor.Seconds()
	e.res.add(sc, cas, "floor: git add -A + commit", "s", r.GitFloorS)
	if r.GitFloorS > 0 {
		// Committed within the quiet period (a maximum wait came first) is 0.
		e.res.add(sc, cas, "(committed − quiet) vs git floor", "×", max(0, r.ToCommittedS-e.cfg.Quiet.Seconds())/r.GitFloorS)
	}
	e.res.raw("burst", r)
	e.logf("  burst run %d: %d notes in %.2f s; indexed %.2f s and committed %.2f s after the last write (git alone %.2f s); %d commits; git CPU %.2f ms/note",
		run, n, r.WriteS, r.ToIndexedS, r.ToCommittedS, r.GitFloorS, r.Commits, r.GitCPUMSPerNote)
	return nil
}

// trickleRun is one run of the trickle scenario, for results.json.
type trickleRun struct {
	Run      int       `json:"run"`
	Notes    int       `json:"notes"`
	Commits  int       `json:"commits"`
	LatencyS []float64 `json:"write_to_commit_s"`
	P50S     float64   `json:"p50_s"`
	MaxS     float64   `json:"max_s"`
	Warnings []string  `json:"watcher_warnings,omitempty"`
}

// scenarioTrickle writes one note a second into a watched root with git on
// and counts the commits, and the time from each write to the commit that
// holds it.
func (e *env) scenarioTrickle(ctx context.Context) error {
	const sc = "trickle"
	cas := fmt.Sprintf("1 note/s for %d s, quiet %s", e.cfg.TrickleSeconds, e.cfg.Quiet)
	lim := e.cfg.Quiet + time.Second
	e.res.expect(sc, cas, "commits", "commits", &Target{"<", float64(e.cfg.TrickleSeconds), fmt.Sprintf("< %d (not one per note)", e.cfg.TrickleSeconds)})
	e.res.expect(sc, cas, "write → commit p50", "s", &Target{"<=", lim.Seconds(), fmt.Sprintf("≤ quiet + 1 s = %s", lim)})
	e.res.expect(sc, cas, "write → commit max", "s", &Target{"<=", lim.Seconds(), fmt.Sprintf("≤ quiet + 1 s = %s", lim)})
	for run := 1; run <= e.cfg.runs("trickle"); run++ {
		if err := e.trickleRun(ctx, cas, run); err != nil {
			e.res.fail(sc, cas, run, err)
			if ctx.Err() != nil {
				return err
			}
		}
	}
	return nil
}

func (e *env) trickleRun(ctx context.Context, cas string, run int) error {
	const sc = "trickle"
	root, w, err := e.newGitRoot(ctx, fmt.Sprintf("trickle-%d", run))
	if err != nil {
		return err
	}
	defer w.stop()
	mem := filepath.Join(root, "memory")
	before, err := commitCount(ctx, mem)
	if err != nil {
		return err
	}
	n := e.cfg.TrickleSeconds
	mk := newNoteMaker(e.cfg.Seed + 200 + uint64(run))
	notes := make([]pendingNote, n)
	rels := make([]string, n)
	for i := range notes {
		rels[i] = fmt.Sprintf("failures/trickle-%03d.md", i)
		notes[i] = pendingNote{rel: rels[i], data: mk.note("failure", fmt.Sprintf("Trickle note %d of run %d", i, run))}
	}
	obs, err := newCommitObserver(ctx, mem, rels)
	if err != nil {
		return err
	}
	stopObs := make(chan struct{})
	obsDone := make(chan error, 1)
	deadline := time.Now().Add(time.Duration(n)*time.Second + 3*time.Minute)
	go func() { obsDone <- obs.run(ctx, 20*time.Millisecond, deadline, stopObs) }()

	written := make([]time.Time, n)
	start := time.Now()
	var werr error
	for i, nt := range notes {
		if d := time.Until(start.Add(time.Duration(i) * time.Second)); d > 0 {
			if werr = sleepCtx(ctx, d); werr != nil {
				break
			}
		}
		if _, werr = writeAtomic(mem, nt.rel, nt.data); werr != nil {
			break
		}
		written[i] = time.Now()
	}
	if werr != nil {
		close(stopObs)
		<-obsDone
		return fmt.Errorf("write: %w", werr)
	}
	if err := <-obsDone; err != nil {
		return fmt.Errorf("commits: %w", err)
	}
	after, err := commitCount(ctx, mem)
	if err != nil {
		return err
	}
	r := trickleRun{Run: run, Notes: n, Commits: after - before, Warnings: w.lastErrors()}
	for i, rel := range rels {
		r.LatencyS = append(r.LatencyS, obs.seen[rel].Sub(written[i]).Seconds())
	}
	r.P50S = percentile(r.LatencyS, 50)
	_, r.MaxS = minMax(r.LatencyS)
	e.res.add(sc, cas, "commits", "commits", float64(r.Commits))
	e.res.add(sc, cas, "write → commit p50", "s", r.P50S)
	e.res.add(sc, cas, "write → commit max", "s", r.MaxS)
	e.res.raw("trickle", r)
	e.logf("  trickle run %d: %d notes, %d commits, write→commit p50 %.2f s, max %.2f s", run, n, r.Commits, r.P50S, r.MaxS)
	return w.stop()
}
