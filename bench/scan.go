package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/emergent-learning/elfsync/bench/corpus"
)

// scanSummary is the part of `elfsync scan --json` the harness checks.
type scanSummary struct {
	Added     int     `json:"added"`
	Updated   int     `json:"updated"`
	Removed   int     `json:"removed"`
	Unchanged int     `json:"unchanged"`
	Seconds   float64 `json:"seconds"`
	// RowsSeconds is when every row was in, for a scan that writes the
	// full-text index right after the rows (absent otherwise).
	RowsSeconds float64 `json:"rows_seconds"`
}

// scanRun is one measured scan, for results.json.
type scanRun struct {
	Kind    string      `json:"kind"` // cold, noop, modified
	Notes   int         `json:"notes"`
	Prose   string      `json:"prose"`
	Run     int         `json:"run"`
	WallS   float64     `json:"wall_s"`
	RSSMB   float64     `json:"rss_mb"`
	Summary scanSummary `json:"summary"`
}

// scanCase is one corpus the scans run on.
type scanCase struct {
	n      int
	prose  corpus.Prose
	cas    string
	floors bool // measure the floors and peers beside elfsync
}

func (e *env) scanCases() []scanCase {
	var out []scanCase
	for _, n := range e.cfg.ScanSizes {
		out = append(out, scanCase{n: n, prose: corpus.Real, cas: kilo(n) + " notes", floors: true})
	}
	if n := e.cfg.SmallSize; n > 0 {
		out = append(out, scanCase{n: n, prose: corpus.Small, cas: kilo(n) + " notes, small vocabulary"})
	}
	return out
}

// Scenario names of the scan figures.
const (
	scCold   = "cold scan"
	scNoop   = "no-op scan"
	scStatus = "status"
	// scStatusGit is `elfsync status` as a user runs it, with git, on the
	// root the git floor committed.
	scStatusGit = "status (with git)"
	scMod       = "1% modified scan"
)

// scenarioScan measures `elfsync scan --no-git` on each corpus: cold (no
// index), no-op (nothing changed) and 1% of the notes modified, and
// `elfsync status --no-git` with nothing changed (and on the real-prose
// corpora `elfsync status` with git, in the git floor's repository);
// beside them, on the real-prose corpora, the floors (find, read +
// insert, FTS5, git status, git add + commit, the update of the modified
// notes) and zk when it could be built, each elfsync figure also as a
// ratio to its floor.
func (e *env) scenarioScan(ctx context.Context) error {
	runs := e.cfg.runs("scan")
	has20k := slices.Contains(e.cfg.ScanSizes, 20000)
	for _, c := range e.scanCases() {
		main := c.n == 20000 && c.floors
		e.res.expect(scCold, c.cas, "wall time", "s", nil)
		e.res.expect(scCold, c.cas, "notes/s", "notes/s", nil)
		e.res.expect(scCold, c.cas, "peak RSS", "MB", &Target{"<=", 64, "≤ 64 MB"})
		if c.floors {
			e.res.expect(scCold, c.cas, "floor: find", "s", nil)
			e.res.expect(scCold, c.cas, "floor: read + insert", "s", nil)
			e.res.expect(scCold, c.cas, "floor: read + insert + FTS5", "s", nil)
			e.res.expect(scCold, c.cas, "floor: git add -A + commit", "s", nil)
			e.res.declare(scCold, c.cas, "all rows in", "s")
			e.res.expect(scCold, c.cas, "vs read + insert floor", "×", targetIf(main, "<=", 2, "≤ 2× (all rows)"))
			e.res.expect(scCold, c.cas, "vs FTS5 floor", "×", targetIf(main, "<=", 1.2, "≤ 1.2× (full text)"))
			if c.n > 20000 && has20k {
				e.res.expect(scCold, c.cas, "vs 20k cold", "×", &Target{"<=", float64(c.n) / 20000, fmt.Sprintf("≤ %g×", float64(c.n)/20000)})
			}
			if e.zk != "" {
				e.res.declare(scCold, c.cas, "peer: zk index", "s")
				e.res.declare(scCold, c.cas, "zk / elfsync", "×")
			}
		}
		e.res.expect(scNoop, c.cas, "wall time", "s", nil)
		e.res.expect(scNoop, c.cas, "peak RSS", "MB", &Target{"<=", 64, "≤ 64 MB"})
		if c.floors {
			e.res.expect(scNoop, c.cas, "floor: git status", "s", nil)
			e.res.expect(scNoop, c.cas, "vs git status", "×", targetIf(main, "<=", 1.5, "≤ 1.5×"))
			if c.n > 20000 && has20k {
				e.res.expect(scNoop, c.cas, "vs 20k no-op", "×", &Target{"<=", float64(c.n) / 20000, fmt.Sprintf("≤ %g×", float64(c.n)/20000)})
			}
			if e.zk != "" {
				e.res.declare(scNoop, c.cas, "peer: zk index", "s")
				e.res.declare(scNoop, c.cas, "zk / elfsync", "×")
			}
			e.res.expect(scStatus, c.cas, "wall time", "s", nil)
			e.res.expect(scStatus, c.cas, "vs git status", "×", targetIf(main, "<=", 1.5, "≤ 1.5×"))
			e.res.expect(scStatusGit, c.cas, "wall time", "s", nil)
			e.res.expect(scStatusGit, c.cas, "vs git status", "×", targetIf(main, "<=", 1.5, "≤ 1.5×"))
		}
		e.res.expect(scMod, c.cas, "wall time", "s", nil)
		e.res.expect(scMod, c.cas, "peak RSS", "MB", &Target{"<=", 64, "≤ 64 MB"})
		e.res.expect(scMod, c.cas, "vs no-op", "×", targetIf(main, "<=", 1.5, "≤ 1.5×"))
		if c.floors {
			e.res.expect(scMod, c.cas, "floor: update + FTS5 of the modified notes", "s", nil)
			e.res.expect(scMod, c.cas, "vs no-op + update floor", "×", nil)
		}
	}
	if e.zk != "" {
		// zk is 3× slower than elfsync at least, cold and no-op.
		for _, sc := range []string{scCold, scNoop} {
			if m := e.res.index[[3]string{sc, "20k notes", "zk / elfsync"}]; m != nil {
				m.Target = &Target{">=", 3, "≥ 3×"}
			}
		}
	}
	for _, c := range e.scanCases() {
		if err := e.scanSize(ctx, c, runs); err != nil {
			return err
		}
	}
	// Scaling: a larger corpus against 20k, in pairs run back to back.
	for _, c := range e.scanCases() {
		if c.floors && c.n > 20000 && has20k {
			if err := e.scaling(ctx, c, runs); err != nil {
				return err
			}
		}
	}
	return nil
}

// scaling measures the larger case c against 20k notes, cold and no-op,
// in runs pairs of scans back to back: a 20k cold scan, c's, then a 20k
// no-op and c's. Each size's own runs are minutes apart, and the machine
// drifts over minutes: paired by run index, they made 100k/20k cold range
// 4.4-6.0x within one run. A pair sees the same moment. The scans leave
// both roots freshly indexed for the search scenario.
func (e *env) scaling(ctx context.Context, c scanCase, runs int) error {
	type side struct {
		root string
		n    int
	}
	small, big := side{scanRoot(e.work, corpus.Real, 20000), 20000}, side{scanRoot(e.work, c.prose, c.n), c.n}
	scan := func(s side, kind string) (float64, error) {
		t, sum, err := e.runScan(ctx, s.root, s.n)
		if err != nil {
			return 0, err
		}
		if kind == "cold" && sum.Added < s.n || kind == "noop" && sum.Added+sum.Updated+sum.Removed != 0 {
			return 0, fmt.Errorf("%s scan of %d notes reported %+v", kind, s.n, sum)
		}
		return t.Wall.Seconds(), nil
	}
	for run := 1; run <= runs; run++ {
		settleDisk()
		for _, s := range []side{small, big} {
			if err := removeIndex(s.root); err != nil {
				return err
			}
		}
		var wall [2][2]float64 // [cold, noop][20k, big]
	pairs:
		for k, kind := range []string{"cold", "noop"} {
			for i, s := range []side{small, big} {
				w, err := scan(s, kind)
				if err != nil {
					// A no-op after a failed cold scan would be a cold
					// one: the run ends here.
					e.res.fail([]string{scCold, scNoop}[k], c.cas, run, fmt.Errorf("paired with 20k: %w", err))
					break pairs
				}
				wall[k][i] = w
			}
		}
		if wall[1][1] == 0 {
			continue
		}
		e.ratio(scCold, c.cas, "vs 20k cold", wall[0][1], wall[0][0])
		e.ratio(scNoop, c.cas, "vs 20k no-op", wall[1][1], wall[1][0])
		e.logf("  paired with 20k, run %d: cold %.3f / %.3f s, no-op %.3f / %.3f s", run, wall[0][1], wall[0][0], wall[1][1], wall[1][0])
	}
	return nil
}

// runScan runs `elfsync scan --no-git --json` on root, a corpus of n
// notes, and returns its timing and summary.
func (e *env) runScan(ctx context.Context, root string, n int) (timed, scanSummary, error) {
	t, err := timedRun(ctx, scanTimeout(n), e.timeTool, e.work, e.bin, "scan", "--root", root, "--no-git", "--json")
	if err != nil {
		return t, scanSummary{}, err
	}
	var s scanSummary
	if err := json.Unmarshal(t.Stdout, &s); err != nil {
		return t, scanSummary{}, fmt.Errorf("scan --json output: %w", err)
	}
	return t, s, nil
}

// scanTimeout bounds a run over n notes: a scan should not take more than
// a few ms a note even on a loaded machine; anything slower is a hang.
func scanTimeout(n int) time.Duration {
	return time.Minute + time.Duration(n)*5*time.Millisecond
}

// removeIndex removes root's index and its journal files, for a cold
// scan.
func removeIndex(root string) error { return removeDB(indexPath(root)) }

// removeDB removes the SQLite database at path and its journal files.
func removeDB(path string) error {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if err := os.Remove(path + suffix); err != nil && !os.IsNotExist(err) {
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

func (e *env) scanSize(ctx context.Context, c scanCase, runs int) error {
	n, cas := c.n, c.cas
	root := scanRoot(e.work, c.prose, n)
	mem := filepath.Join(root, "memory")
	gitDir := root + ".git"
	start := time.Now()
	paths, err := makeCorpus(root, n, scanDirs(n), e.cfg.Seed, c.prose)
	if err != nil {
		return err
	}
	// The root stays for the search scenario (the work directory goes at
	// the end); the floor's repository goes now.
	gitFile := filepath.Join(mem, ".git")
	defer func() {
		if !e.cfg.Keep {
			os.RemoveAll(gitDir)
			os.Remove(gitFile)
		}
		// The FTS5 floor's last database, which the update floor used.
		removeFloorDB(root)
	}()
	e.logf("  %s corpus of %d notes in %d dirs generated in %s", c.prose, n, scanDirs(n), time.Since(start).Round(100*time.Millisecond))
	timeout := scanTimeout(n)
	scan := func(kind string, run int) (scanSummary, float64, error) {
		t, s, err := e.runScan(ctx, root, n)
		if err != nil {
			return scanSummary{}, 0, err
		}
		rss := float64(t.RSSKB) / 1024
		name := map[string]string{"cold": scCold, "noop": scNoop, "modified": scMod}[kind]
		e.res.add(name, cas, "wall time", "s", t.Wall.Seconds())
		if kind == "cold" {
			e.res.add(name, cas, "notes/s", "notes/s", float64(n)/t.Wall.Seconds())
		}
		if t.RSSKB > 0 {
			e.res.add(name, cas, "peak RSS", "MB", rss)
		}
		e.res.raw("scan", scanRun{Kind: kind, Notes: n, Prose: string(c.prose), Run: run, WallS: t.Wall.Seconds(), RSSMB: rss, Summary: s})
		e.logf("  %s scan of %d %s notes, run %d: %.3f s, %.1f MB", kind, n, c.prose, run, t.Wall.Seconds(), rss)
		return s, t.Wall.Seconds(), nil
	}

	if c.floors {
		// git add -A + commit of every file once: it also makes the
		// repository git status is measured in.
		d, err := e.gitAddCommit(ctx, gitDir, mem, n)
		if err != nil {
			return fmt.Errorf("git floor: %w", err)
		}
		e.res.add(scCold, cas, "floor: git add -A + commit", "s", d.Seconds())
		e.logf("  git add -A + commit of %d notes: %.3f s", n, d.Seconds())
		// A gitdir file makes the floor's repository memory/'s own, for
		// `elfsync status` with git (git status never lists .git, and the
		// indexer skips dot files).
		if err := os.WriteFile(gitFile, []byte("gitdir: "+gitDir+"\n"), 0o644); err != nil {
			return err
		}
	}
	for run := 1; run <= runs; run++ {
		var insert, fts float64
		if c.floors {
			t, err := timedRun(ctx, timeout, e.timeTool, e.work, "find", mem, "-name", "*.md")
			if err != nil {
				return fmt.Errorf("find floor: %w", err)
			}
			e.res.add(scCold, cas, "floor: find", "s", t.Wall.Seconds())
			if t, err = e.floorRun(ctx, "insert", root, n); err != nil {
				return fmt.Errorf("read + insert floor: %w", err)
			}
			insert = t.Wall.Seconds()
			e.res.add(scCold, cas, "floor: read + insert", "s", insert)
			// The last run's database stays: the update floor of the
			// modified runs starts from it (the notes are the same until
			// then).
			fts5 := e.floorRun
			if run == runs {
				fts5 = e.floorExec
			}
			if t, err = fts5(ctx, "fts5", root, n); err != nil {
				return fmt.Errorf("FTS5 floor: %w", err)
			}
			fts = t.Wall.Seconds()
			e.res.add(scCold, cas, "floor: read + insert + FTS5", "s", fts)
			e.logf("  floors, run %d: read + insert %.3f s, + FTS5 %.3f s", run, insert, fts)
		}
		if err := removeIndex(root); err != nil {
			return err
		}
		s, wall, err := scan("cold", run)
		if err != nil {
			e.res.fail(scCold, cas, run, err)
			continue
		}
		if s.Added < n {
			e.res.fail(scCold, cas, run, fmt.Errorf("cold scan added %d rows for %d notes", s.Added, n))
		}
		// All rows are in when the scan says so (it writes the full-text
		// index right after), else at its end.
		rows := wall
		if s.RowsSeconds > 0 && s.RowsSeconds < wall {
			rows = s.RowsSeconds
			e.res.add(scCold, cas, "all rows in", "s", rows)
		}
		e.ratio(scCold, cas, "vs read + insert floor", rows, insert)
		e.ratio(scCold, cas, "vs FTS5 floor", wall, fts)
		if c.floors && e.zk != "" {
			if err := e.zkRun(ctx, mem, cas, scCold, n, true, wall); err != nil {
				e.res.note("zk index failed on %s (%v); zk not measured further", cas, err)
				e.zk = ""
			}
		}
	}
	for run := 1; run <= runs; run++ {
		var gst float64
		if c.floors {
			t, err := e.gitFloor(ctx, timeout, gitDir, mem, "status", "--porcelain")
			if err != nil {
				return fmt.Errorf("git status floor: %w", err)
			}
			gst = t.Wall.Seconds()
			e.res.add(scNoop, cas, "floor: git status", "s", gst)
		}
		s, wall, err := scan("noop", run)
		if err != nil {
			e.res.fail(scNoop, cas, run, err)
			continue
		}
		if s.Added+s.Updated+s.Removed != 0 {
			e.res.fail(scNoop, cas, run, fmt.Errorf("no-op scan changed rows: %+v", s))
		}
		e.ratio(scNoop, cas, "vs git status", wall, gst)
		if !c.floors {
			continue
		}
		t, err := timedRun(ctx, timeout, e.timeTool, e.work, e.bin, "status", "--root", root, "--no-git", "--json")
		if err != nil {
			e.res.fail(scStatus, cas, run, err)
			continue
		}
		e.res.add(scStatus, cas, "wall time", "s", t.Wall.Seconds())
		e.ratio(scStatus, cas, "vs git status", t.Wall.Seconds(), gst)
		// Exit 0: in sync, nothing uncommitted (the floor committed all).
		if t, err = timedRun(ctx, timeout, e.timeTool, e.work, e.bin, "status", "--root", root, "--json"); err != nil {
			e.res.fail(scStatusGit, cas, run, err)
		} else {
			e.res.add(scStatusGit, cas, "wall time", "s", t.Wall.Seconds())
			e.ratio(scStatusGit, cas, "vs git status", t.Wall.Seconds(), gst)
			e.logf("  status with git, run %d: %.3f s (git status %.3f s)", run, t.Wall.Seconds(), gst)
		}
		if e.zk != "" {
			if err := e.zkRun(ctx, mem, cas, scNoop, n, false, wall); err != nil {
				e.res.note("zk index failed on %s (%v); zk not measured further", cas, err)
				e.zk = ""
			}
		}
	}
	if e.zk != "" {
		os.RemoveAll(filepath.Join(mem, ".zk"))
	}
	noop := median(e.res.index[[3]string{scNoop, cas, "wall time"}].Values)
	// Modify single-record notes only: a domain file holds several.
	var plain []string
	for _, p := range paths {
		if !corpus.IsDomainFile(p) {
			plain = append(plain, p)
		}
	}
	r := rand.New(rand.NewPCG(e.cfg.Seed, 77))
	k := max(1, n/100)
	for run := 1; run <= runs; run++ {
		for _, i := range r.Perm(len(plain))[:k] {
			p := filepath.Join(mem, filepath.FromSlash(plain[i]))
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
		s, wall, err := scan("modified", run)
		if err != nil {
			e.res.fail(scMod, cas, run, err)
			continue
		}
		if s.Updated != k || s.Added+s.Removed != 0 {
			e.res.fail(scMod, cas, run, fmt.Errorf("modified %d notes, scan reported %+v", k, s))
		}
		e.ratio(scMod, cas, "vs no-op", wall, noop)
		if c.floors {
			u, err := e.floorUpdate(ctx, root, n)
			if err == nil && u.Files != k {
				err = fmt.Errorf("modified %d notes, it updated %d", k, u.Files)
			}
			if err != nil {
				e.res.fail(scMod, cas, run, fmt.Errorf("update floor: %w", err))
				continue
			}
			e.res.add(scMod, cas, "floor: update + FTS5 of the modified notes", "s", u.WriteSeconds)
			e.ratio(scMod, cas, "vs no-op + update floor", wall, noop+u.WriteSeconds)
			e.logf("  update floor, run %d: %.3f s", run, u.WriteSeconds)
		}
	}
	return nil
}

// zkRun measures one `zk index` of the corpus (cold: its database
// removed first) and its ratio to elfsync's figure of the same run.
func (e *env) zkRun(ctx context.Context, mem, cas, sc string, n int, cold bool, elfsync float64) error {
	t, err := e.zkIndex(ctx, mem, n, cold)
	if err != nil {
		return err
	}
	e.res.add(sc, cas, "peer: zk index", "s", t.Wall.Seconds())
	e.ratio(sc, cas, "zk / elfsync", t.Wall.Seconds(), elfsync)
	return nil
}

// scanRoot is where the scan scenario keeps a corpus of n notes.
func scanRoot(work string, prose corpus.Prose, n int) string {
	return filepath.Join(work, fmt.Sprintf("scan-%s-%d", prose, n))
}

// kilo prints 1000 as 1k and 20000 as 20k.
func kilo(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}
