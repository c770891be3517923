package main

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/status"
)

// This file holds the stress suite's helpers (stress_test.go has the
// scenarios). The one that matters is assertInvariants: every scenario ends
// with it, so every scenario checks all of DESIGN.md's invariants the same
// way, from outside elfsync (a walk of the files, frontmatter.Parse, a
// read-only SQLite connection of our own, and the git command).

// stressFull reports whether the full-size suite runs (ELFSYNC_FULL=1).
// Otherwise the scenarios run their small subset, whether or not -short is
// given: the subset is what CI runs.
func stressFull() bool { return os.Getenv("ELFSYNC_FULL") == "1" }

// pick returns full for the full suite, else small.
func pick[T any](small, full T) T {
	if stressFull() {
		return full
	}
	return small
}

// scriptPath returns the absolute path of a record script in scripts/.
func scriptPath(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "scripts", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("record script: %v", err)
	}
	return p
}

// writerSpec is one run of a record script.
type writerSpec struct {
	script string // absolute path
	args   []string
	// marker is a string that only this writer's file holds (in its
	// summary or explanation), to check that no writer's file was
	// clobbered by another's.
	marker string
}

// failureSpec returns a record-failure.sh run. Titles repeat in groups of
// five so that concurrent writers race for the same file name.
func failureSpec(t *testing.T, root, label string, i int) writerSpec {
	marker := fmt.Sprintf("%s writer %d", label, i)
	return writerSpec{
		script: scriptPath(t, "record-failure.sh"),
		args: []string{"--root", root, "--title", fmt.Sprintf("%s group %d", label, i/5),
			"--domain", "stress", "--tags", "stress, " + label, "--severity", fmt.Sprint(1 + i%5),
			"--summary", marker},
		marker: marker,
	}
}

// heuristicSpec returns a record-heuristic.sh run.
func heuristicSpec(t *testing.T, root, label string, i int) writerSpec {
	marker := fmt.Sprintf("%s heuristic writer %d", label, i)
	return writerSpec{
		script: scriptPath(t, "record-heuristic.sh"),
		args: []string{"--root", root, "--domain", "stress", "--rule", fmt.Sprintf("%s rule %d", label, i/5),
			"--explanation", marker, "--confidence", fmt.Sprintf("0.%d", 1+i%9)},
		marker: marker,
	}
}

// runElfsync runs the binary to completion like elfsync, for goroutines
// other than the test's own (which must not call t.Fatal): a failure to
// start is reported as exit -1.
func runElfsync(env []string, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
		errb.WriteString(err.Error())
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// writerResult is how one script run ended.
type writerResult struct {
	spec   writerSpec
	path   string // the absolute path it printed
	code   int    // exit code; -1 if it could not run
	stderr string
	took   time.Duration
}

// runWriters runs every group of specs at once, each group's specs one
// after another, and returns the results in order (group by group). All
// groups wait on one gate, so the first runs start together.
func runWriters(t *testing.T, env []string, groups [][]writerSpec) []writerResult {
	t.Helper()
	res := make([][]writerResult, len(groups))
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for g, specs := range groups {
		res[g] = make([]writerResult, len(specs))
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			for i, s := range specs {
				res[g][i] = runWriter(env, s)
			}
		}()
	}
	close(gate)
	wg.Wait()
	var out []writerResult
	for _, r := range res {
		out = append(out, r...)
	}
	return out
}

// concurrent wraps specs as groups of one: every spec runs at once.
func concurrent(specs []writerSpec) [][]writerSpec {
	groups := make([][]writerSpec, len(specs))
	for i, s := range specs {
		groups[i] = []writerSpec{s}
	}
	return groups
}

func runWriter(env []string, s writerSpec) writerResult {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{s.script}, s.args...)...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := writerResult{spec: s, path: strings.TrimSuffix(out.String(), "\n"), stderr: errb.String(), took: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		r.code = -1
		r.stderr += err.Error()
	}
	return r
}

// checkWriters checks that every writer exited 0 and printed the path of a
// new file of its own under root/memory/folder, and returns how many did.
func checkWriters(t *testing.T, root, folder string, res []writerResult) int {
	t.Helper()
	dir := filepath.Join(root, "memory", folder) + string(filepath.Separator)
	seen := map[string]bool{}
	ok := 0
	lim := newLimiter(t)
	for _, r := range res {
		switch {
		case r.code != 0:
			lim.errorf("writer exit", "writer %q exited %d: %s", r.spec.marker, r.code, r.stderr)
		case !strings.HasPrefix(r.path, dir) || strings.Contains(r.path, "\n"):
			lim.errorf("writer path", "writer %q printed %q, want one path under %s", r.spec.marker, r.path, dir)
		case seen[r.path]:
			lim.errorf("writer path", "writer %q printed %s, which another writer printed too", r.spec.marker, r.path)
		default:
			seen[r.path] = true
			data, err := os.ReadFile(r.path)
			if err != nil {
				lim.errorf("writer file", "writer %q: %v", r.spec.marker, err)
			} else if !bytes.Contains(data, []byte(r.spec.marker+"\"")) {
				lim.errorf("writer file", "writer %q: %s holds another writer's record:\n%s", r.spec.marker, r.path, data)
			} else {
				ok++
			}
		}
	}
	lim.flush()
	return ok
}

// rootRelPath turns an absolute path under root into the database's form.
func rootRelPath(t *testing.T, root, p string) string {
	t.Helper()
	rel, err := filepath.Rel(root, p)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.ToSlash(rel)
}

// statusJSON runs `elfsync status --json`. ok is false when it did not
// print a report (exit 2: the index is unreadable, for instance).
func statusJSON(t *testing.T, env []string, root string) (rep status.Report, out result, ok bool) {
	t.Helper()
	out = elfsync(t, env, "status", "--root", root, "--json")
	if out.code != 0 && out.code != 1 {
		return rep, out, false
	}
	if err := json.Unmarshal([]byte(out.stdout), &rep); err != nil {
		return rep, out, false
	}
	return rep, out, true
}

// waitConverged polls `elfsync status --json` until the index and git are in
// line with the files: in sync, nothing uncommitted, git's lock free. A
// watcher w, when given, must stay alive meanwhile. It returns the last
// report. Convergence as status sees it is only the signal to look:
// assertInvariants then checks the invariants independently.
func waitConverged(t *testing.T, env []string, root string, w *watchProc, timeout time.Duration) status.Report {
	t.Helper()
	var rep status.Report
	var out result
	var exited chan struct{}
	if w != nil {
		exited = w.done
	}
	converged := poll(timeout, 20*time.Millisecond, 500*time.Millisecond, exited, func() bool {
		if w != nil {
			select {
			case <-w.done:
				t.Fatalf("watch exited while converging: %v\n%s", w.err, tail(w.log(), 60))
			default:
			}
		}
		var ok bool
		rep, out, ok = statusJSON(t, env, root)
		return ok && rep.InSync && len(rep.Uncommitted) == 0 && !rep.GitLockHeld && rep.LastCommit != nil
	})
	if !converged {
		t.Fatalf("not converged after %v: status exit %d: %s\n%s", timeout, out.code, summarizeStatus(rep), out.stderr)
	}
	return rep
}

// summarizeStatus is a short form of a status report for failure messages.
func summarizeStatus(r status.Report) string {
	first := func(p []string) string {
		if len(p) > 5 {
			return fmt.Sprintf("%q …(%d)", p[:5], len(p))
		}
		return fmt.Sprintf("%q", p)
	}
	return fmt.Sprintf("in_sync=%v files=%d rows=%d missing=%s orphan=%s stale=%s invalid=%d uncommitted=%s lock=%v last_git_error=%+v watcher=%+v",
		r.InSync, r.Files, r.Rows, first(r.MissingRows), first(r.OrphanRows), first(r.StaleRows),
		len(r.Invalid), first(r.Uncommitted), r.GitLockHeld, r.LastGitError, r.Watcher)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("… %d earlier lines", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// limiter caps the errors reported per kind, so that a scenario with 2,000
// broken rows prints ten of them and a count, not 2,000 lines.
type limiter struct {
	t *testing.T
	n map[string]int
}

func newLimiter(t *testing.T) *limiter { return &limiter{t: t, n: map[string]int{}} }

func (l *limiter) errorf(kind, format string, args ...any) {
	l.t.Helper()
	l.n[kind]++
	if l.n[kind] <= 10 {
		l.t.Errorf(format, args...)
	}
}

func (l *limiter) flush() {
	l.t.Helper()
	for _, k := range slices.Sorted(maps.Keys(l.n)) {
		if l.n[k] > 10 {
			l.t.Errorf("… %d %q errors in all", l.n[k], k)
		}
	}
}

// idHistory remembers which id each file had in each table across a
// scenario, for invariant 4: an id never goes to another file, and a file
// keeps its id while it exists.
type idHistory struct {
	byID   map[string]map[int64]string // table → id → root-relative path
	byPath map[string]int64            // table + "\x00" + path → id
	resets int
	// frameworkWriter: the scenario runs a framework-style writer, which
	// fills the framework's tables; it checks them itself.
	frameworkWriter bool
}

func newIDHistory() *idHistory {
	h := &idHistory{}
	h.reset()
	return h
}

// reset starts a new id space. Only a deliberately destroyed index calls
// for it: a rebuilt index numbers its rows afresh (ids are not stored in
// the files), which DESIGN.md accepts, since invariant 5 asks for the
// invariants to hold of the rebuilt index, not for the old ids.
func (h *idHistory) reset() {
	h.byID = map[string]map[int64]string{"learnings": {}, "heuristics": {}, "decisions": {}}
	h.byPath = map[string]int64{}
	h.resets++
}

// forget records that path was deleted: a new file at that path may get a
// new id (but never an id another file had).
func (h *idHistory) forget(path string) {
	delete(h.byPath, "learnings\x00"+path)
	delete(h.byPath, "heuristics\x00"+path)
}

// observe checks one row against the history and adds it; it returns a
// description of the violation, or "".
// The row is added even when it breaks a rule, so that each violation is
// reported once.
func (h *idHistory) observe(table string, id int64, path string) string {
	var v string
	if prev, ok := h.byID[table][id]; ok && prev != path {
		v = fmt.Sprintf("%s id %d reused: it was %s, now %s", table, id, prev, path)
	} else if prev, ok := h.byPath[table+"\x00"+path]; ok && prev != id {
		v = fmt.Sprintf("%s: %s changed id from %d to %d", table, path, prev, id)
	}
	h.byID[table][id] = path
	h.byPath[table+"\x00"+path] = id
	return v
}

// diskFile is one file under memory/ as a walk sees it.
type diskFile struct {
	data    []byte // content, or a symlink's target
	symlink bool
	modTime time.Time
	size    int64
}

// walkMemory returns every file under root/memory that elfsync must
// commit (regular files and symlinks, not Ignored), keyed by memory-relative
// path. Symlinks are not followed, as elfsync does not follow them.
func walkMemory(t *testing.T, root string) map[string]diskFile {
	t.Helper()
	mem := filepath.Join(root, "memory")
	files := map[string]diskFile{}
	err := filepath.WalkDir(mem, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(mem, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if frontmatter.Ignored(rel) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		switch {
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files[rel] = diskFile{data: data, modTime: info.ModTime(), size: info.Size()}
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			files[rel] = diskFile{data: []byte(target), symlink: true}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk memory/: %v", err)
	}
	return files
}

// dbRow is one row of learnings or heuristics, as the framework's tools
// read it.
type dbRow struct {
	table                       string
	id                          sql.NullInt64
	typ, title, rule            string
	summary, domain, tags       string
	severity                    int64
	explanation, titleHeuristic string
}

// readRows reads every row of both tables through a read-only connection of
// our own. A filepath in both tables is reported as an error.
func readRows(t *testing.T, db *sql.DB) (map[string]dbRow, []dbRow) {
	t.Helper()
	rows := map[string]dbRow{}
	var all []dbRow
	q := func(table, query string, scan func(r *sql.Rows, d *dbRow, fp *string) error) {
		r, err := db.Query(query)
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		defer r.Close()
		for r.Next() {
			d := dbRow{table: table}
			var fp string
			if err := scan(r, &d, &fp); err != nil {
				t.Fatalf("read %s: %v", table, err)
			}
			if prev, ok := rows[fp]; ok {
				t.Errorf("invariant 1: %s has a row in %s and in %s", fp, prev.table, table)
			}
			rows[fp] = d
			all = append(all, d)
		}
		if err := r.Err(); err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
	}
	q("learnings", `SELECT id, filepath, type, title, coalesce(summary, ''), coalesce(domain, ''),
		coalesce(tags, ''), coalesce(severity, 0) FROM learnings WHERE elf_key IS NOT NULL`,
		func(r *sql.Rows, d *dbRow, fp *string) error {
			return r.Scan(&d.id, fp, &d.typ, &d.title, &d.summary, &d.domain, &d.tags, &d.severity)
		})
	q("heuristics", `SELECT id, filepath, rule, coalesce(title, ''), coalesce(explanation, ''),
		coalesce(domain, ''), coalesce(tags, '') FROM heuristics WHERE elf_key IS NOT NULL`,
		func(r *sql.Rows, d *dbRow, fp *string) error {
			d.typ = frontmatter.TypeHeuristic
			return r.Scan(&d.id, fp, &d.rule, &d.titleHeuristic, &d.explanation, &d.domain, &d.tags)
		})
	// Decision records live in the framework's decisions table, which
	// has no tags or severity.
	q("decisions", `SELECT id, filepath, title, context, coalesce(domain, '') FROM decisions WHERE elf_key IS NOT NULL`,
		func(r *sql.Rows, d *dbRow, fp *string) error {
			d.typ = frontmatter.TypeDecision
			return r.Scan(&d.id, fp, &d.title, &d.summary, &d.domain)
		})
	return rows, all
}

// invariantCounts is what assertInvariants saw, for the results table.
type invariantCounts struct {
	Files   int // record files (.md) under memory/
	Valid   int // of them, those that parse
	Invalid int // of them, those that do not
	Rows    int // rows in learnings + heuristics
	Commits int // commits in memory/'s history
	Other   int // other files committed but not indexed (symlinks, images, …)
}

// assertInvariants checks DESIGN.md's invariants 1-4 on root after
// convergence; the scenarios themselves are invariant 5 (each calls this
// after a kill, a destroyed index, a held lock, hostile files).
//
//  1. every valid .md under memory/ has exactly one row, and no row lacks
//     its file: a walk of memory/ (regular files only, frontmatter.IsRecord,
//     editor noise and dot-files skipped) against the filepath column of
//     both tables;
//  2. each valid file's row equals what frontmatter.Parse says of the file
//     now (table, type, title, rule, summary or explanation, domain, tags,
//     severity); every invalid file is listed in `status --json` invalid
//     with its error, and status lists nothing else as invalid and reports
//     no drift;
//  3. `git status --porcelain` in memory/ is empty, every file is in `git
//     ls-files`, and HEAD holds every file's content: HEAD's blob for each
//     path (`git ls-tree -r HEAD`) is the git hash of the file's bytes (a
//     symlink's target for a symlink), which is `git show HEAD:path` checked
//     for all files with one git process instead of thousands; HEAD holds
//     no file that is gone;
//  4. no id is 0 or NULL, ids are unique per table, and, through ids,
//     no id was ever given to another file in this scenario and no file
//     changed its id.
//
// memory/ is its own git repository here (elfsync's default when ROOT is
// not inside a work tree).
func assertInvariants(t *testing.T, env []string, root string, ids *idHistory) invariantCounts {
	t.Helper()
	var c invariantCounts
	lim := newLimiter(t)
	defer lim.flush()
	disk := walkMemory(t, root)

	// What each record file says now.
	type parsed struct {
		rec frontmatter.Record
		err error
	}
	recs := map[string]parsed{} // root-relative path → parse
	for rel, f := range disk {
		if f.symlink || !frontmatter.IsRecord(rel) {
			c.Other++
			continue
		}
		rec, err := frontmatter.Parse(frontmatter.Input{Path: rel, Data: f.data, ModTime: f.modTime, Size: f.size})
		recs["memory/"+rel] = parsed{rec, err}
		c.Files++
		if err != nil {
			c.Invalid++
		} else {
			c.Valid++
		}
	}

	db := openDB(t, root)
	rows, all := readRows(t, db)
	c.Rows = len(all)

	// Invariants 1 and 2.
	for fp, p := range recs {
		row, ok := rows[fp]
		if p.err != nil {
			continue // checked against status below; a row it has keeps its last good values
		}
		if !ok {
			lim.errorf("inv1 missing", "invariant 1: %s parses but has no row", fp)
			continue
		}
		want, got := p.rec, row
		wantTable := "learnings"
		switch want.Type {
		case frontmatter.TypeHeuristic:
			wantTable = "heuristics"
		case frontmatter.TypeDecision:
			wantTable = "decisions"
		}
		var diffs []string
		diff := func(field string, got, want any) {
			if got != want {
				diffs = append(diffs, fmt.Sprintf("%s: row %q, file %q", field, got, want))
			}
		}
		diff("table", got.table, wantTable)
		diff("domain", got.domain, want.Domain)
		if wantTable != "decisions" {
			diff("tags", got.tags, want.TagString())
		}
		switch wantTable {
		case "decisions":
			diff("title", got.title, want.Title)
			diff("summary", got.summary, want.Summary)
		case "heuristics":
			diff("rule", got.rule, want.Rule)
			diff("title", got.titleHeuristic, want.Title)
			diff("explanation", got.explanation, want.Explanation)
		default:
			diff("type", got.typ, want.Type)
			diff("title", got.title, want.Title)
			diff("summary", got.summary, want.Summary)
			diff("severity", got.severity, int64(want.Severity))
		}
		if len(diffs) > 0 {
			lim.errorf("inv2 row", "invariant 2: the row of %s differs from the file: %s", fp, strings.Join(diffs, "; "))
		}
	}
	for fp, row := range rows {
		if _, ok := recs[fp]; !ok {
			lim.errorf("inv1 orphan", "invariant 1: %s row %d of %s has no record file", row.table, row.id.Int64, fp)
		}
	}

	// What status says: no drift, and the invalid files with their errors.
	rep, out, ok := statusJSON(t, env, root)
	if !ok {
		t.Errorf("status --json failed: exit %d\n%s%s", out.code, out.stdout, out.stderr)
	} else {
		if !rep.InSync || out.code != 0 {
			lim.errorf("status", "status reports drift after convergence (exit %d): %s", out.code, summarizeStatus(rep))
		}
		if rep.Files != c.Files {
			lim.errorf("status", "status counts %d record files, the walk %d", rep.Files, c.Files)
		}
		listed := map[string]string{}
		for _, fe := range rep.Invalid {
			listed[fe.Path] = fe.Error
		}
		for fp, p := range recs {
			e, ok := listed[fp]
			switch {
			case p.err != nil && !ok:
				lim.errorf("inv2 invalid", "invariant 2: %s does not parse (%v) but status does not list it as invalid", fp, p.err)
			case p.err != nil && e == "":
				lim.errorf("inv2 invalid", "invariant 2: status lists %s as invalid with no error", fp)
			case p.err == nil && ok:
				lim.errorf("inv2 invalid", "invariant 2: status lists %s as invalid (%s) but it parses", fp, e)
			}
			delete(listed, fp)
		}
		for fp, e := range listed {
			lim.errorf("inv2 invalid", "invariant 2: status lists %s as invalid (%s) but there is no such record file", fp, e)
		}
	}

	// Invariant 3.
	mem := filepath.Join(root, "memory")
	if got := git(t, env, mem, "status", "--porcelain"); got != "" {
		lim.errorf("inv3 porcelain", "invariant 3: git status --porcelain in memory/ is not empty:\n%s", tail(got, 20))
	}
	tracked := map[string]bool{}
	for _, p := range strings.Split(gitZ(t, env, mem, "ls-files", "-z"), "\x00") {
		if p != "" {
			tracked[p] = true
		}
	}
	type blob struct{ mode, hash string }
	head := map[string]blob{}
	for _, e := range strings.Split(gitZ(t, env, mem, "ls-tree", "-r", "-z", "--full-tree", "HEAD"), "\x00") {
		meta, p, ok := strings.Cut(e, "\t")
		if !ok {
			continue
		}
		f := strings.Fields(meta)
		if len(f) == 3 {
			head[p] = blob{mode: f[0], hash: f[2]}
		}
	}
	newHash := sha1.New
	if format := git(t, env, mem, "rev-parse", "--show-object-format"); format == "sha256" {
		newHash = sha256.New
	}
	for rel, f := range disk {
		if !tracked[rel] {
			lim.errorf("inv3 untracked", "invariant 3: %q is not in git ls-files", rel)
		}
		b, ok := head[rel]
		switch {
		case !ok:
			lim.errorf("inv3 head", "invariant 3: HEAD does not hold %q", rel)
		case f.symlink != (b.mode == "120000"):
			lim.errorf("inv3 head", "invariant 3: HEAD holds %q with mode %s; symlink on disk: %v", rel, b.mode, f.symlink)
		case b.hash != blobHash(newHash, f.data):
			lim.errorf("inv3 head", "invariant 3: HEAD's %q (blob %s) is not the file's content (%s)", rel, b.hash, blobHash(newHash, f.data))
		}
	}
	for p := range head {
		if _, ok := disk[p]; !ok && !frontmatter.Ignored(p) {
			lim.errorf("inv3 gone", "invariant 3: HEAD holds %q, which is not on disk", p)
		}
	}
	c.Commits = commitCount(t, env, root)

	// Invariant 4.
	seen := map[string]map[int64]string{"learnings": {}, "heuristics": {}, "decisions": {}}
	for fp, row := range rows {
		if !row.id.Valid || row.id.Int64 == 0 {
			lim.errorf("inv4 id", "invariant 4: %s row of %s has id %v", row.table, fp, row.id)
			continue
		}
		if prev, ok := seen[row.table][row.id.Int64]; ok {
			lim.errorf("inv4 id", "invariant 4: %s id %d belongs to %s and %s", row.table, row.id.Int64, prev, fp)
		}
		seen[row.table][row.id.Int64] = fp
		if ids != nil {
			if v := ids.observe(row.table, row.id.Int64, fp); v != "" {
				lim.errorf("inv4 history", "invariant 4: %s", v)
			}
		}
	}
	// Invariant 6: the framework's tables are as the framework left them.
	// A scenario without a framework writer leaves them with the seed rows
	// of its init_db.sql only; one with a writer checks its rows itself.
	if ids == nil || !ids.frameworkWriter {
		for table, want := range map[string]int{"metrics": 0, "violations": 0, "building_queries": 0, "schema_version": 1, "db_operations": 1} {
			var n int
			if err := db.QueryRow(`SELECT count(*) FROM "` + table + `"`).Scan(&n); err != nil {
				lim.errorf("inv6", "invariant 6: table %s: %v", table, err)
			} else if n != want {
				lim.errorf("inv6", "invariant 6: table %s has %d rows, want %d", table, n, want)
			}
		}
	}
	t.Logf("invariants: %d record files (%d valid, %d invalid), %d other files, %d rows, %d commits",
		c.Files, c.Valid, c.Invalid, c.Other, c.Rows, c.Commits)
	return c
}

// blobHash is git's object name of a blob with content data.
func blobHash(newHash func() hash.Hash, data []byte) string {
	h := newHash()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// gitZ runs git for NUL-separated output, which must not be trimmed of its
// file names' white space.
func gitZ(t *testing.T, env []string, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = env
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, errb.String())
	}
	return string(out)
}

// commitCount returns the number of commits in memory/'s history (0 before
// the first).
func commitCount(t *testing.T, env []string, root string) int {
	t.Helper()
	cmd := exec.Command("git", "rev-list", "--count", "HEAD")
	cmd.Dir = filepath.Join(root, "memory")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		return 0
	}
	var n int
	fmt.Sscan(string(out), &n)
	return n
}

// headCommit returns memory/'s HEAD commit, or "".
func headCommit(env []string, root string) string {
	cmd := exec.Command("git", "rev-parse", "--verify", "-q", "HEAD")
	cmd.Dir = filepath.Join(root, "memory")
	cmd.Env = env
	out, _ := cmd.Output()
	return strings.TrimSpace(string(out))
}

// stressResult is one line of the results table.
type stressResult struct {
	Scenario    string
	Concurrency int
	OK, Total   int // records that made it (written, indexed, committed) of those attempted
	Files, Rows int
	Commits     int
	Wall        time.Duration // writers' start to convergence
	Note        string
}

var (
	resultsMu sync.Mutex
	results   []stressResult
)

// recordResult adds a line to the results table and, when
// ELFSYNC_STRESS_REPORT names a file, rewrites that file with every line so
// far as a markdown table.
func recordResult(t *testing.T, r stressResult) {
	t.Helper()
	t.Logf("result: %s: concurrency %d, %d/%d, files %d, rows %d, commits %d, %.1fs %s",
		r.Scenario, r.Concurrency, r.OK, r.Total, r.Files, r.Rows, r.Commits, r.Wall.Seconds(), r.Note)
	resultsMu.Lock()
	defer resultsMu.Unlock()
	results = append(results, r)
	path := os.Getenv("ELFSYNC_STRESS_REPORT")
	if path == "" {
		return
	}
	var b strings.Builder
	mode := "small (-short) subset"
	if stressFull() {
		mode = "full suite (ELFSYNC_FULL=1)"
	}
	fmt.Fprintf(&b, "Measured by `go test -run Stress ./cmd/elfsync/`, %s, %s/%s, %d CPUs, %s.\n\n",
		mode, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), time.Now().UTC().Format("2006-01-02"))
	b.WriteString("| scenario | concurrency | success | files | rows | commits | wall time | notes |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range results {
		rate := "-"
		if r.Total > 0 {
			rate = fmt.Sprintf("%d/%d (%.0f%%)", r.OK, r.Total, 100*float64(r.OK)/float64(r.Total))
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %d | %d | %d | %.1f s | %s |\n",
			r.Scenario, r.Concurrency, rate, r.Files, r.Rows, r.Commits, r.Wall.Seconds(), r.Note)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Errorf("write %s: %v", path, err)
	}
}

// rowsByPath returns root-relative path → row for assertions on specific
// files.
func rowsByPath(t *testing.T, root string) map[string]dbRow {
	t.Helper()
	rows, _ := readRows(t, openDB(t, root))
	return rows
}

// countRecorded checks that every successful writer's file has a row that
// holds the writer's own marker (what each writer wrote is what got
// indexed) and that HEAD holds the file, and returns how many writers' records
// made it all the way: written, indexed and committed.
func countRecorded(t *testing.T, env []string, root string, res []writerResult) int {
	t.Helper()
	rows := rowsByPath(t, root)
	inHead := map[string]bool{}
	for _, p := range strings.Split(gitZ(t, env, filepath.Join(root, "memory"), "ls-tree", "-r", "-z", "--name-only", "--full-tree", "HEAD"), "\x00") {
		inHead["memory/"+p] = true
	}
	lim := newLimiter(t)
	defer lim.flush()
	ok := 0
	for _, r := range res {
		if r.code != 0 || r.path == "" {
			continue
		}
		fp := rootRelPath(t, root, r.path)
		row, found := rows[fp]
		switch {
		case !found:
			lim.errorf("recorded", "writer %q: %s has no row", r.spec.marker, fp)
		case row.summary != r.spec.marker && row.explanation != r.spec.marker:
			lim.errorf("recorded", "writer %q: the row of %s says %q/%q", r.spec.marker, fp, row.summary, row.explanation)
		case !inHead[fp]:
			lim.errorf("recorded", "writer %q: %s is not in HEAD", r.spec.marker, fp)
		default:
			ok++
		}
	}
	return ok
}
