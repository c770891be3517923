package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

//go:embed old-schema.sql
var oldSchema string

const scOldNew = "old vs new"

func oldNewCase(writers, records int) string {
	return fmt.Sprintf("%d writer%s × %d records", writers, plural(writers), records)
}

// oldNewRun is one run of one side at one concurrency, for results.json.
type oldNewRun struct {
	Side     string `json:"side"` // old or new
	Writers  int    `json:"writers"`
	Run      int    `json:"run"`
	Attempts int    `json:"attempts"`
	// Succeeded: the harness found the file, exactly one row with a
	// non-zero id, and the file in a commit.
	Succeeded int `json:"succeeded"`
	// Claimed: the writer exited 0 (and, for the old script, printed
	// "Failure recorded successfully!").
	Claimed        int      `json:"claimed"`
	ClaimedButNot  int      `json:"claimed_but_failed"` // silent failures
	MissingFile    int      `json:"missing_file"`
	RowProblems    int      `json:"no_row_or_duplicate_or_id0"`
	NotCommitted   int      `json:"not_committed"`
	StrayRows      int      `json:"rows_without_file"`
	StrayCommitted int      `json:"committed_files_missing_on_disk"`
	WritersS       float64  `json:"writers_s"` // first start → last writer returned
	SettledS       float64  `json:"settled_s"` // first start → elfsync in sync (new only)
	RecordsPerS    float64  `json:"records_per_s"`
	WriterRecsPerS float64  `json:"writer_records_per_s,omitempty"`
	Errors         []string `json:"errors,omitempty"`
}

// scenarioOldNew runs the old per-record script and elfsync with the same
// numbers of concurrent writers and records, and judges every record
// itself.
func (e *env) scenarioOldNew(ctx context.Context) error {
	rec := e.cfg.RecordsPerWriter
	for _, w := range e.cfg.Writers {
		cas := oldNewCase(w, rec)
		e.res.expect(scOldNew, cas, "old success", "%", nil)
		e.res.expect(scOldNew, cas, "new success", "%", &Target{"==", 100, "100%"})
		e.res.expect(scOldNew, cas, "old records/s", "rec/s", nil)
		e.res.expect(scOldNew, cas, "new records/s (to committed)", "rec/s", nil)
		e.res.expect(scOldNew, cas, "new records/s (writers return)", "rec/s", nil)
		e.res.declare(scOldNew, cas, "new/old records/s", "×")
		e.res.expect(scOldNew, cas, "old: reported success but failed", "records", nil)
	}
	for _, w := range e.cfg.Writers {
		cas := oldNewCase(w, rec)
		for run := 1; run <= e.cfg.runs("oldnew"); run++ {
			old, err := e.oldSide(ctx, w, rec, run)
			if err != nil {
				e.res.fail(scOldNew, cas+" old", run, err)
				if ctx.Err() != nil {
					return err
				}
			}
			nw, err := e.newSide(ctx, w, rec, run)
			if err != nil {
				e.res.fail(scOldNew, cas+" new", run, err)
				if ctx.Err() != nil {
					return err
				}
			}
			if old != nil && nw != nil && old.RecordsPerS > 0 {
				e.res.add(scOldNew, cas, "new/old records/s", "×", nw.RecordsPerS/old.RecordsPerS)
			}
		}
	}
	return nil
}

// setupOldRoot makes a root as the old framework had it: a git work tree
// at ROOT with memory/index.db (old schema, journal_mode=delete) committed.
func setupOldRoot(ctx context.Context, root string) error {
	mem := filepath.Join(root, "memory")
	if err := os.MkdirAll(filepath.Join(mem, "failures"), 0o755); err != nil {
		return err
	}
	db := filepath.Join(mem, "index.db")
	if _, err := runCmdInput(ctx, time.Minute, root, oldSchema+"\nPRAGMA journal_mode=delete;\n", "sqlite3", db); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"init", "-q"},
		{"config", "user.name", "Old Framework"},
		{"config", "user.email", "old@bench.invalid"},
		{"config", "commit.gpgsign", "false"},
		{"add", "memory/index.db"},
		{"commit", "-q", "-m", "init"},
	} {
		if _, err := git(ctx, root, args...); err != nil {
			return err
		}
	}
	return nil
}

// recordSpec is one record a writer makes.
type recordSpec struct {
	writer, index int
	title         string
	path          string // absolute path the writer reported (new side)
	claimed       bool
	err           error
}

// runWriters runs writers goroutines, each making records records in turn
// with do, and returns the specs and the time from start to the last
// writer's return.
func runWriters(writers, records int, title func(w, i int) string, do func(*recordSpec)) ([]*recordSpec, time.Duration) {
	specs := make([]*recordSpec, 0, writers*records)
	byWriter := make([][]*recordSpec, writers)
	for w := range byWriter {
		for i := 0; i < records; i++ {
			s := &recordSpec{writer: w, index: i, title: title(w, i)}
			byWriter[w] = append(byWriter[w], s)
			specs = append(specs, s)
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	for w := range byWriter {
		wg.Add(1)
		go func(list []*recordSpec) {
			defer wg.Done()
			for _, s := range list {
				do(s)
			}
		}(byWriter[w])
	}
	wg.Wait()
	return specs, time.Since(start)
}

// runScript runs one record script with a timeout and says whether it
// reported success: exit 0 and, when okText is set, okText on stdout.
func runScript(ctx context.Context, okText string, name string, args ...string) (stdout string, claimed bool, err error) {
	out, err := runCmd(ctx, 5*time.Minute, "", name, args...)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return string(out), false, err // timeout or could not start
	}
	return string(out), err == nil && strings.Contains(string(out), okText), nil
}

func (e *env) oldSide(ctx context.Context, writers, records, run int) (*oldNewRun, error) {
	cas := oldNewCase(writers, records)
	root := filepath.Join(e.work, fmt.Sprintf("old-%d-%d", writers, run))
	if err := setupOldRoot(ctx, root); err != nil {
		return nil, err
	}
	slug := func(w, i int) string { return fmt.Sprintf("old-bench-w%d-r%d-run%d", w, i, run) }
	specs, wall := runWriters(writers, records,
		func(w, i int) string { return fmt.Sprintf("Old bench w%d r%d run%d", w, i, run) },
		func(s *recordSpec) {
			_, s.claimed, s.err = runScript(ctx, "Failure recorded successfully!", "bash", e.oldRec,
				"--root", root, "--title", s.title, "--domain", "bench", "--severity", "3",
				"--tags", "bench,load", "--summary", "A record made by the benchmark's old-design writers.")
		})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	// Judge: the file, its one row with a non-zero id, and the file in
	// HEAD of the root's repository.
	mem := filepath.Join(root, "memory")
	files := map[string]string{} // slug → root-relative path
	ents, err := os.ReadDir(filepath.Join(mem, "failures"))
	if err != nil {
		return nil, err
	}
	onDisk := map[string]bool{}
	for _, ent := range ents {
		name := ent.Name()
		rel := "memory/failures/" + name
		onDisk[rel] = true
		if _, s, ok := strings.Cut(strings.TrimSuffix(name, ".md"), "_"); ok {
			files[s] = rel
		}
	}
	db, err := openRO(filepath.Join(mem, "index.db"))
	if err != nil {
		return nil, err
	}
	rows, err := rowsByPath(ctx, db, "learnings")
	db.Close()
	if err != nil {
		return nil, err
	}
	head, err := headFiles(ctx, root, "memory/failures")
	if err != nil {
		return nil, err
	}
	r := &oldNewRun{Side: "old", Writers: writers, Run: run, Attempts: len(specs), WritersS: wall.Seconds()}
	for _, s := range specs {
		rel := files[slug(s.writer, s.index)]
		ok := e.judge(r, rel != "", rows[rel], head[rel])
		if s.claimed {
			r.Claimed++
			if !ok {
				r.ClaimedButNot++
			}
		}
		if s.err != nil && len(r.Errors) < 5 {
			r.Errors = append(r.Errors, s.err.Error())
		}
	}
	for p := range rows {
		if !onDisk[p] {
			r.StrayRows++
		}
	}
	for p := range head {
		if !onDisk[p] {
			r.StrayCommitted++
		}
	}
	r.RecordsPerS = float64(r.Succeeded) / wall.Seconds()
	e.res.add(scOldNew, cas, "old success", "%", 100*float64(r.Succeeded)/float64(r.Attempts))
	e.res.add(scOldNew, cas, "old records/s", "rec/s", r.RecordsPerS)
	e.res.add(scOldNew, cas, "old: reported success but failed", "records", float64(r.ClaimedButNot))
	e.res.raw("oldnew", r)
	e.logf("  old, %d writers, run %d: %d/%d succeeded (%d reported success), %.2f records/s, %.1f s",
		writers, run, r.Succeeded, r.Attempts, r.Claimed, r.RecordsPerS, wall.Seconds())
	return r, nil
}

// judge counts one record's outcome into r and says whether it succeeded.
func (e *env) judge(r *oldNewRun, fileOK bool, row rowInfo, committed bool) bool {
	rowOK := row.n == 1 && !row.zeroID
	switch {
	case !fileOK:
		r.MissingFile++
	case !rowOK:
		r.RowProblems++
	case !committed:
		r.NotCommitted++
	default:
		r.Succeeded++
		return true
	}
	return false
}

func (e *env) newSide(ctx context.Context, writers, records, run int) (*oldNewRun, error) {
	cas := oldNewCase(writers, records)
	root, w, err := e.newGitRoot(ctx, fmt.Sprintf("new-%d-%d", writers, run))
	if err != nil {
		return nil, err
	}
	defer w.stop()
	mem := filepath.Join(root, "memory")
	mk := newNoteMaker(e.cfg.Seed + 300 + uint64(run))
	var mkMu sync.Mutex
	start := time.Now()
	specs, wall := runWriters(writers, records,
		func(w, i int) string { return fmt.Sprintf("New bench w%d r%d run%d", w, i, run) },
		func(s *recordSpec) {
			if e.recorder == "" {
				mkMu.Lock()
				data := mk.note("failure", s.title)
				mkMu.Unlock()
				rel := fmt.Sprintf("failures/new-bench-w%d-r%d-run%d.md", s.writer, s.index, run)
				if _, s.err = writeAtomic(mem, rel, data); s.err == nil {
					s.claimed, s.path = true, filepath.Join(mem, filepath.FromSlash(rel))
				}
				return
			}
			var out string
			out, s.claimed, s.err = runScript(ctx, "", e.recorder,
				"--root", root, "--title", s.title, "--domain", "bench", "--severity", "3",
				"--tags", "bench,load", "--summary", "A record made by the benchmark's elfsync writers.")
			if s.claimed {
				// The script prints the new file's absolute path.
				lines := strings.Split(strings.TrimSpace(out), "\n")
				s.path = strings.TrimSpace(lines[len(lines)-1])
			}
		})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	r := &oldNewRun{Side: "new", Writers: writers, Run: run, Attempts: len(specs), WritersS: wall.Seconds()}
	written := 0
	for _, s := range specs {
		if s.path != "" {
			written++
		}
	}
	settledAt, _, serr := e.waitInSync(ctx, root, written, false, 3*time.Minute)
	if serr != nil {
		r.Errors = append(r.Errors, serr.Error())
		settledAt = time.Now()
	}
	settled := settledAt.Sub(start)
	r.SettledS = settled.Seconds()

	db, err := openRO(indexPath(root))
	if err != nil {
		return nil, err
	}
	rows, err := rowsByPath(ctx, db, "learnings", "heuristics")
	db.Close()
	if err != nil {
		return nil, err
	}
	// elfsync commits in ROOT/memory's own repository here (the root is
	// not in a work tree); paths there are memory-relative.
	head, err := headFiles(ctx, mem)
	if err != nil {
		return nil, err
	}
	for _, s := range specs {
		var rel string
		if s.path != "" {
			if p, err := filepath.Rel(root, s.path); err == nil {
				rel = filepath.ToSlash(p)
			}
		}
		fileOK := rel != "" && fileExists(s.path)
		ok := e.judge(r, fileOK, rows[rel], head[strings.TrimPrefix(rel, "memory/")])
		if s.claimed {
			r.Claimed++
			if !ok {
				r.ClaimedButNot++
			}
		}
		if s.err != nil && len(r.Errors) < 5 {
			r.Errors = append(r.Errors, s.err.Error())
		}
	}
	r.RecordsPerS = float64(r.Succeeded) / settled.Seconds()
	r.WriterRecsPerS = float64(r.Succeeded) / wall.Seconds()
	e.res.add(scOldNew, cas, "new success", "%", 100*float64(r.Succeeded)/float64(r.Attempts))
	e.res.add(scOldNew, cas, "new records/s (to committed)", "rec/s", r.RecordsPerS)
	e.res.add(scOldNew, cas, "new records/s (writers return)", "rec/s", r.WriterRecsPerS)
	e.res.raw("oldnew", r)
	e.logf("  new, %d writers, run %d: %d/%d succeeded, %.2f records/s to committed (%.1f s), %.2f records/s as writers see it (%.1f s)",
		writers, run, r.Succeeded, r.Attempts, r.RecordsPerS, settled.Seconds(), r.WriterRecsPerS, wall.Seconds())
	if serr != nil {
		return r, serr
	}
	return r, w.stop()
}
