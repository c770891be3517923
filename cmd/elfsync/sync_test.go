package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emergent-learning/elfsync/edit"
	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/instance"
	"github.com/emergent-learning/elfsync/remote"
	"github.com/emergent-learning/elfsync/status"
)

// syncHost is one root sharing memory/ through a bare remote.
type syncHost struct {
	t    *testing.T
	env  []string
	root string
	mem  string
}

func newSyncHost(t *testing.T, env []string, bare string) *syncHost {
	t.Helper()
	root := t.TempDir()
	if r := elfsync(t, env, "init", "--root", root); r.code != 0 {
		t.Fatalf("init: %s", r.stderr)
	}
	h := &syncHost{t: t, env: env, root: root, mem: filepath.Join(root, "memory")}
	git(t, env, h.mem, "remote", "add", "origin", bare)
	return h
}

func (h *syncHost) sync() remote.Report {
	h.t.Helper()
	r := elfsync(h.t, h.env, "sync", "--root", h.root, "--remote", "origin", "--json")
	var s remote.Report
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		h.t.Fatalf("sync --json: %v\n%s\n%s", err, r.stdout, r.stderr)
	}
	if r.code != 0 || !s.InStep {
		h.t.Fatalf("sync exit %d, %+v\n%s", r.code, s, r.stderr)
	}
	return s
}

func (h *syncHost) bump(rel string, n int) {
	h.t.Helper()
	id, err := edit.HostID(h.mem)
	if err != nil {
		h.t.Fatal(err)
	}
	for range n {
		if _, err := edit.New(h.mem, 0).Bump(rel, edit.Validated, id, 1); err != nil {
			h.t.Fatal(err)
		}
	}
}

func (h *syncHost) validated(rel string) int64 {
	h.t.Helper()
	data, err := os.ReadFile(filepath.Join(h.mem, rel))
	if err != nil {
		h.t.Fatal(err)
	}
	r, err := frontmatter.Parse(frontmatter.Input{Path: rel, Data: data})
	if err != nil {
		h.t.Fatal(err)
	}
	return r.TimesValidated
}

func (h *syncHost) status() status.Report {
	h.t.Helper()
	r := elfsync(h.t, h.env, "status", "--root", h.root, "--json")
	var rep status.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		h.t.Fatalf("status --json: %v\n%s", err, r.stdout)
	}
	return rep
}

const sharedHeuristic = "---\ntype: heuristic\ntitle: \"Retry flaky calls\"\nconfidence: 0.5\n---\n\nRetry with backoff.\n"

func TestSyncThreeHosts(t *testing.T) {
	env := gitEnv(t)
	bare := filepath.Join(t.TempDir(), "memory.git")
	git(t, env, filepath.Dir(bare), "init", "-q", "--bare", bare)
	hosts := []*syncHost{newSyncHost(t, env, bare), newSyncHost(t, env, bare), newSyncHost(t, env, bare)}
	a, b, c := hosts[0], hosts[1], hosts[2]
	all := func() {
		for _, h := range append(hosts, a, b) {
			h.sync()
		}
	}

	writeFile(t, a.root, "heuristics/retry.md", sharedHeuristic)
	for i, h := range hosts {
		writeFile(t, h.root, "failures/from-"+string(rune('a'+i))+".md", note("from "+string(rune('a'+i))))
	}
	all()
	a.bump("heuristics/retry.md", 2)
	b.bump("heuristics/retry.md", 3)
	c.bump("heuristics/retry.md", 1)
	// A body edit on one host, a confidence change on another: both kept.
	data, _ := os.ReadFile(filepath.Join(c.mem, "heuristics/retry.md"))
	os.WriteFile(filepath.Join(c.mem, "heuristics/retry.md"), []byte(strings.Replace(string(data), "Retry with backoff.", "Retry with jittered backoff.", 1)), 0o644)
	all()

	var trees []string
	for _, h := range hosts {
		if got := h.validated("heuristics/retry.md"); got != 6 {
			t.Errorf("%s: times_validated = %d, want 6", h.root, got)
		}
		for i := range hosts {
			if _, err := os.Stat(filepath.Join(h.mem, "failures", "from-"+string(rune('a'+i))+".md")); err != nil {
				t.Errorf("%s lacks from-%c: %v", h.root, 'a'+i, err)
			}
		}
		rep := h.status()
		if !rep.InSync || rep.Remote == nil || rep.Remote.Ahead != 0 || rep.Remote.Behind != 0 || rep.Remote.LastSync == nil {
			t.Errorf("%s: status %+v remote %+v", h.root, rep, rep.Remote)
		}
		// The index projects what arrived (status in sync: rows equal files).
		if _, ok := rowTitle(openDB(t, h.root), "memory/failures/from-c.md"); !ok {
			t.Errorf("%s: pulled record not indexed", h.root)
		}
		trees = append(trees, git(t, env, h.mem, "rev-parse", "HEAD^{tree}"))
	}
	if trees[0] != trees[1] || trees[1] != trees[2] {
		t.Errorf("HEAD trees differ: %v", trees)
	}
	if got := c.validated("heuristics/retry.md"); got == 6 {
		if d, _ := os.ReadFile(filepath.Join(a.mem, "heuristics/retry.md")); !strings.Contains(string(d), "jittered") {
			t.Errorf("body edit lost:\n%s", d)
		}
	}

	// Unmergeable: both versions kept, both indexed, listed by status.
	writeFile(t, a.root, "failures/from-a.md", note("from a")+"\nA says yes.\n")
	writeFile(t, b.root, "failures/from-a.md", note("from a")+"\nB says no.\n")
	a.sync()
	s := b.sync()
	if len(s.Conflicts) != 1 {
		t.Fatalf("conflicts = %v", s.Conflicts)
	}
	a.sync()
	rep := a.status()
	if len(rep.Conflicts) != 1 || rep.Conflicts[0].Path != s.Conflicts[0] || !strings.HasPrefix(rep.Conflicts[0].Resolve, "rm -- ") {
		t.Errorf("status conflicts = %+v, want %v", rep.Conflicts, s.Conflicts)
	}
	if !rep.InSync {
		t.Errorf("status after conflict not in sync: %+v", rep)
	}
	db := openDB(t, a.root)
	if _, ok := rowTitle(db, s.Conflicts[0]); !ok {
		t.Errorf("conflict copy %s not indexed", s.Conflicts[0])
	}
	grep := exec.Command("git", "grep", "-l", "-e", "<<<<<<<", "-e", ">>>>>>>", "HEAD", "--")
	grep.Dir, grep.Env = a.mem, env
	if out, err := grep.CombinedOutput(); err == nil || len(out) > 0 {
		t.Errorf("conflict markers in HEAD: %s", out)
	}
}

func TestSyncFaults(t *testing.T) {
	env := gitEnv(t)
	bare := filepath.Join(t.TempDir(), "memory.git")
	git(t, env, filepath.Dir(bare), "init", "-q", "--bare", bare)
	a := newSyncHost(t, env, bare)
	writeFile(t, a.root, "failures/one.md", note("one"))
	a.sync()

	// The remote disappears: sync says so, local work goes on.
	os.Rename(bare, bare+".away")
	writeFile(t, a.root, "failures/two.md", note("two"))
	r := elfsync(t, env, "sync", "--root", a.root, "--remote", "origin")
	if r.code != 1 {
		t.Errorf("sync with the remote away: exit %d, want 1\n%s", r.code, r.stderr)
	}
	rep := a.status()
	if rep.Remote == nil || rep.Remote.LastError == "" || rep.Remote.Ahead != 1 || len(rep.Uncommitted) != 0 {
		t.Errorf("status with the remote away: %+v remote %+v", rep, rep.Remote)
	}
	os.Rename(bare+".away", bare)
	a.sync()
	if rep := a.status(); rep.Remote.LastError != "" || rep.Remote.Ahead != 0 {
		t.Errorf("status after the remote came back: %+v", rep.Remote)
	}

	// Credentials in a URL are never printed.
	git(t, env, a.mem, "remote", "add", "secret", "https://user:s3cret-token@127.0.0.1:1/memory.git")
	r = elfsync(t, env, "sync", "--root", a.root, "--remote", "secret")
	st := elfsync(t, env, "status", "--root", a.root, "--json")
	if r.code != 1 {
		t.Errorf("sync to a dead URL: exit %d", r.code)
	}
	for _, out := range []string{r.stdout, r.stderr, st.stdout} {
		if strings.Contains(out, "s3cret") {
			t.Errorf("credentials printed:\n%s", out)
		}
	}
	// A URL is not a remote name.
	if r := elfsync(t, env, "sync", "--root", a.root, "--remote", "https://x@example.com/r.git"); r.code != 1 || strings.Contains(r.stderr, "x@") {
		t.Errorf("sync to a URL: exit %d\n%s", r.code, r.stderr)
	}

	// The remote is force-pushed to an unrelated history: nothing of ours
	// is lost, nothing pushed is rewritten by elfsync.
	other := t.TempDir()
	git(t, env, other, "init", "-q")
	git(t, env, other, "symbolic-ref", "HEAD", "refs/heads/main")
	os.MkdirAll(filepath.Join(other, "failures"), 0o755)
	os.WriteFile(filepath.Join(other, "failures", "forced.md"), []byte(note("forced")), 0o644)
	git(t, env, other, "add", "-A")
	git(t, env, other, "-c", "user.email=x@y", "-c", "user.name=x", "commit", "-qm", "forced")
	git(t, env, other, "push", "-q", "--force", bare, "main:main")
	forced := git(t, env, other, "rev-parse", "HEAD")
	a.sync()
	for _, f := range []string{"failures/one.md", "failures/two.md", "failures/forced.md"} {
		if _, err := os.Stat(filepath.Join(a.mem, f)); err != nil {
			t.Errorf("after the force push: %v", err)
		}
	}
	remoteHead := git(t, env, bare, "rev-parse", "main")
	if out := git(t, env, bare, "merge-base", "--is-ancestor", forced, remoteHead); out != "" {
		t.Errorf("what was pushed was rewritten: %s", out)
	}

	// Beside a running watcher, sync refuses: the watcher syncs itself.
	w := startWatch(t, env, a.root)
	if r := elfsync(t, env, "sync", "--root", a.root, "--remote", "origin"); r.code != 1 || !strings.Contains(r.stderr, "--remote") {
		t.Errorf("sync beside a watcher: exit %d\n%s", r.code, r.stderr)
	}
	if code := w.stop(); code != 0 {
		t.Errorf("watch exit %d", code)
	}
}

func TestMergeDriverRegistered(t *testing.T) {
	env := gitEnv(t)
	bare := filepath.Join(t.TempDir(), "memory.git")
	git(t, env, filepath.Dir(bare), "init", "-q", "--bare", bare)
	a := newSyncHost(t, env, bare)
	writeFile(t, a.root, "heuristics/h.md", sharedHeuristic)
	a.sync()
	if got := git(t, env, a.mem, "config", "--local", "merge.elfsync.driver"); !strings.Contains(got, "merge-driver %O %A %B %P") {
		t.Fatalf("driver config = %q", got)
	}
	// A person's own merge of two branches that both bumped the counter.
	git(t, env, a.mem, "checkout", "-q", "-b", "side")
	a.bump("heuristics/h.md", 2)
	git(t, env, a.mem, "-c", "user.email=x@y", "-c", "user.name=x", "commit", "-qam", "side")
	git(t, env, a.mem, "checkout", "-q", "main")
	id := "h-0000beef"
	if _, err := edit.New(a.mem, 0).Bump("heuristics/h.md", edit.Validated, id, 3); err != nil {
		t.Fatal(err)
	}
	git(t, env, a.mem, "-c", "user.email=x@y", "-c", "user.name=x", "commit", "-qam", "main")
	git(t, env, a.mem, "-c", "user.email=x@y", "-c", "user.name=x", "merge", "-q", "--no-edit", "side")
	if got := a.validated("heuristics/h.md"); got != 5 {
		t.Errorf("times_validated after a manual merge = %d, want 5", got)
	}
}

// TestMergeDriverBoldField: git's own merge, through elfsync's merge
// driver, of two branches that both validated a heuristic in the
// framework's bold-field style: the counts add up and the file stays
// bold-field, no frontmatter block, no conflict copy.
func TestMergeDriverBoldField(t *testing.T) {
	env := gitEnv(t)
	bare := filepath.Join(t.TempDir(), "memory.git")
	git(t, env, filepath.Dir(bare), "init", "-q", "--bare", bare)
	a := newSyncHost(t, env, bare)
	const rel = "heuristics/rebase-first.md"
	writeFile(t, a.root, rel, "# Rebase first\n\n**Domain**: git\n**Confidence**: 0.7\n**Times Validated**: 3\n\n## Explanation\n\nA merge commit hides who changed what.\n")
	a.sync()
	git(t, env, a.mem, "checkout", "-q", "-b", "side")
	a.bump(rel, 2)
	git(t, env, a.mem, "-c", "user.email=x@y", "-c", "user.name=x", "commit", "-qam", "side")
	git(t, env, a.mem, "checkout", "-q", "main")
	if _, err := edit.New(a.mem, 0).Bump(rel, edit.Validated, "h-0000beef", 4); err != nil {
		t.Fatal(err)
	}
	git(t, env, a.mem, "-c", "user.email=x@y", "-c", "user.name=x", "commit", "-qam", "main")
	git(t, env, a.mem, "-c", "user.email=x@y", "-c", "user.name=x", "merge", "-q", "--no-edit", "side")
	data, err := os.ReadFile(filepath.Join(a.mem, rel))
	if err != nil {
		t.Fatal(err)
	}
	if got := a.validated(rel); got != 9 {
		t.Errorf("times_validated after the merge = %d, want 9\n%s", got, data)
	}
	if frontmatter.HasFrontmatter(data) || !strings.Contains(string(data), "**Domain**: git") {
		t.Errorf("the bold-field file changed style:\n%s", data)
	}
	if copies, _ := filepath.Glob(filepath.Join(a.mem, "heuristics", "*.conflict-*")); len(copies) > 0 {
		t.Errorf("conflict copies: %v", copies)
	}
}

// TestSyncFromProjectRepo: memory/ inside a person's project repository.
// elfsync pushes only its own branch, elfsync/memory, holding memory/'s
// files at its top; the person's branches and code never leave.
func TestSyncFromProjectRepo(t *testing.T) {
	env := gitEnv(t)
	bare := filepath.Join(t.TempDir(), "memory.git")
	git(t, env, filepath.Dir(bare), "init", "-q", "--bare", bare)
	proj := t.TempDir()
	git(t, env, proj, "init", "-q")
	git(t, env, proj, "symbolic-ref", "HEAD", "refs/heads/main")
	os.WriteFile(filepath.Join(proj, "code.go"), []byte("package x\n"), 0o644)
	git(t, env, proj, "add", "code.go")
	git(t, env, proj, "-c", "user.email=p@x", "-c", "user.name=p", "commit", "-qm", "code")
	a := &syncHost{t: t, env: env, root: proj, mem: filepath.Join(proj, "memory")}
	writeFile(t, proj, "failures/from-a.md", note("from a"))
	if r := elfsync(t, env, "scan", "--root", proj); r.code != 0 {
		t.Fatal(r.stderr)
	}
	git(t, env, proj, "remote", "add", "origin", bare)
	a.sync()
	if refs := git(t, env, bare, "for-each-ref", "--format=%(refname)"); refs != "refs/heads/elfsync/memory" {
		t.Fatalf("remote refs = %q, want only refs/heads/elfsync/memory", refs)
	}
	if files := git(t, env, bare, "ls-tree", "-r", "--name-only", "elfsync/memory"); strings.Contains(files, "code.go") || !strings.Contains(files, "failures/from-a.md") {
		t.Fatalf("remote branch holds:\n%s", files)
	}
	// A host with a memory repository of its own shares the same branch.
	b := newSyncHost(t, env, bare)
	r := elfsync(t, env, "sync", "--root", b.root, "--remote", "origin", "--branch", "elfsync/memory")
	if r.code != 0 {
		t.Fatalf("b sync: %s", r.stderr)
	}
	writeFile(t, b.root, "failures/from-b.md", note("from b"))
	if r := elfsync(t, env, "sync", "--root", b.root, "--remote", "origin", "--branch", "elfsync/memory"); r.code != 0 {
		t.Fatalf("b sync: %s", r.stderr)
	}
	a.sync()
	if _, err := os.Stat(filepath.Join(a.mem, "failures", "from-b.md")); err != nil {
		t.Fatalf("a lacks b's record: %v", err)
	}
	if st := git(t, env, proj, "status", "--porcelain"); st != "" {
		t.Errorf("project work tree after sync:\n%s", st)
	}
	if got := git(t, env, proj, "show", "HEAD:memory/failures/from-b.md"); !strings.Contains(got, "from b") {
		t.Errorf("b's record not committed on the person's branch: %q", got)
	}
	if refs := git(t, env, bare, "for-each-ref", "--format=%(refname)"); refs != "refs/heads/elfsync/memory" {
		t.Errorf("remote refs = %q", refs)
	}
	if files := git(t, env, bare, "ls-tree", "-r", "--name-only", "elfsync/memory"); strings.Contains(files, "code.go") {
		t.Errorf("code pushed:\n%s", files)
	}
}

// TestScanLeavesWatchersJournal: a journal that appears while a watcher
// runs belongs to the watcher's syncer, mid-merge. A scan beside it must
// not act on it: before the branch moves the journal looks stale, and
// removing it would leave a SIGKILL during the landing unrecovered.
func TestScanLeavesWatchersJournal(t *testing.T) {
	env := gitEnv(t)
	root := t.TempDir()
	if r := elfsync(t, env, "init", "--root", root); r.code != 0 {
		t.Fatalf("init: %s", r.stderr)
	}
	w := startWatch(t, env, root)
	waitFor(t, time.Minute, "the watcher's lock", func() bool { return instance.Read(root).Running })
	mem := filepath.Join(root, "memory")
	head := git(t, env, mem, "rev-parse", "HEAD")
	merge := git(t, env, mem, "-c", "user.email=x@y", "-c", "user.name=x", "commit-tree", "-p", head, "-m", "merge", "HEAD^{tree}")
	// What the syncer writes just before it moves the branch to merge.
	journal := filepath.Join(root, "memory", ".elfsync", "sync-journal.json")
	os.MkdirAll(filepath.Dir(journal), 0o755)
	if err := os.WriteFile(journal, []byte(`{"ref":"refs/heads/main","old":"`+head+`","new":"`+merge+`"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := elfsync(t, env, "scan", "--root", root); r.code != 0 {
		t.Fatalf("scan: %s", r.stderr)
	}
	if _, err := os.Stat(journal); err != nil {
		t.Errorf("scan beside a watcher removed its sync journal: %v", err)
	}
	os.Remove(journal)
	if code := w.stop(); code != 0 {
		t.Errorf("watch exit %d", code)
	}
}
