package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/edit"
	"github.com/emergent-learning/elfsync/frontmatter"
)

// testEnv isolates git from the machine's configuration.
func testEnv(t *testing.T) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_AUTHOR_NAME", "t")
	t.Setenv("GIT_AUTHOR_EMAIL", "t@example.com")
	t.Setenv("GIT_COMMITTER_NAME", "t")
	t.Setenv("GIT_COMMITTER_EMAIL", "t@example.com")
}

func run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// host is one root whose memory/ is its own repository with a remote.
type host struct {
	t    *testing.T
	root string
	mem  string
	s    *Syncer
}

func newHost(t *testing.T, bare string) *host {
	t.Helper()
	root := t.TempDir()
	mem := filepath.Join(root, "memory")
	os.MkdirAll(mem, 0o755)
	run(t, mem, "init", "-q")
	run(t, mem, "symbolic-ref", "HEAD", "refs/heads/main")
	os.WriteFile(filepath.Join(mem, ".gitignore"), []byte(".elfsync*\nindex.db*\n"), 0o644)
	run(t, mem, "add", "-A")
	run(t, mem, "commit", "-qm", "init")
	run(t, mem, "remote", "add", "origin", bare)
	s, err := Open(context.Background(), Config{Root: root, Remote: "origin", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	return &host{t: t, root: root, mem: mem, s: s}
}

func (h *host) write(rel, content string) {
	h.t.Helper()
	p := filepath.Join(h.mem, rel)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *host) commit() {
	h.t.Helper()
	run(h.t, h.mem, "add", "-A")
	if run(h.t, h.mem, "status", "--porcelain") != "" {
		run(h.t, h.mem, "commit", "-qm", "edit")
	}
}

func (h *host) sync() Result {
	h.t.Helper()
	res, err := h.s.Round(context.Background())
	if err != nil {
		h.t.Fatalf("round: %v", err)
	}
	return res
}

func (h *host) read(rel string) string {
	b, _ := os.ReadFile(filepath.Join(h.mem, rel))
	return string(b)
}

func (h *host) bump(rel string) {
	h.t.Helper()
	id, err := edit.HostID(h.mem)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := edit.New(h.mem, 0).Bump(rel, edit.Validated, id, 1); err != nil {
		h.t.Fatal(err)
	}
}

func validated(t *testing.T, data string) int64 {
	t.Helper()
	r, err := frontmatter.Parse(frontmatter.Input{Path: "heuristics/x.md", Data: []byte(data)})
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, data)
	}
	return r.TimesValidated
}

func TestTwoHostsConverge(t *testing.T) {
	testEnv(t)
	bare := filepath.Join(t.TempDir(), "remote.git")
	run(t, filepath.Dir(bare), "init", "-q", "--bare", bare)
	a, b := newHost(t, bare), newHost(t, bare)

	a.write("heuristics/retry.md", heur)
	a.write("failures/a1.md", "# a1\n")
	a.commit()
	a.sync() // creates the remote branch
	b.write("failures/b1.md", "# b1\n")
	b.commit()
	res := b.sync() // unrelated histories: merged, pushed
	if res.Pushed == "" || b.read("heuristics/retry.md") != heur {
		t.Fatalf("b after sync: %+v\n%q", res, b.read("heuristics/retry.md"))
	}
	a.sync()
	if a.read("failures/b1.md") != "# b1\n" {
		t.Fatal("a lacks b1")
	}

	// The same increment on both hosts: identical files git would merge
	// trivially, but the tallies keep both.
	for range 3 {
		a.bump("heuristics/retry.md")
		b.bump("heuristics/retry.md")
	}
	a.commit()
	b.commit()
	a.sync()
	b.sync()
	a.sync()
	for _, h := range []*host{a, b} {
		if got := validated(t, h.read("heuristics/retry.md")); got != 10 {
			t.Errorf("times_validated = %d, want 10\n%s", got, h.read("heuristics/retry.md"))
		}
	}
	if ha, hb := run(t, a.mem, "rev-parse", "HEAD^{tree}"), run(t, b.mem, "rev-parse", "HEAD^{tree}"); ha != hb {
		t.Errorf("trees differ: %s %s", ha, hb)
	}

	// Edit vs delete: the edit wins.
	a.write("failures/a1.md", "# a1\n\nedited\n")
	a.commit()
	os.Remove(filepath.Join(b.mem, "failures/a1.md"))
	b.commit()
	b.sync()
	a.sync()
	b.sync()
	if b.read("failures/a1.md") != "# a1\n\nedited\n" {
		t.Errorf("edit lost to a delete: %q", b.read("failures/a1.md"))
	}

	// Unmergeable bodies: both versions kept, no marker.
	a.write("failures/b1.md", "# b1\n\nfrom a\n")
	b.write("failures/b1.md", "# b1\n\nfrom b\n")
	a.commit()
	b.commit()
	a.sync()
	res = b.sync()
	a.sync()
	if len(res.Conflicts) != 1 {
		t.Fatalf("conflicts = %v", res.Conflicts)
	}
	copyRel := strings.TrimPrefix(res.Conflicts[0], "memory/")
	if got := a.read(copyRel); !strings.Contains(got, "from a") || !strings.Contains(got, "conflict_of: \"memory/failures/b1.md\"") {
		t.Errorf("conflict copy on a: %q", got)
	}
	if got := a.read("failures/b1.md"); got != "# b1\n\nfrom b\n" {
		t.Errorf("b1 on a: %q", got)
	}
	grep := exec.Command("git", "grep", "-l", "-e", "<<<<<<<", "-e", ">>>>>>>", "HEAD", "--")
	grep.Dir = a.mem
	if out, err := grep.CombinedOutput(); err == nil || len(out) > 0 {
		t.Errorf("conflict markers: %s", out)
	}
}

func TestHostileRemote(t *testing.T) {
	testEnv(t)
	bare := filepath.Join(t.TempDir(), "remote.git")
	run(t, filepath.Dir(bare), "init", "-q", "--bare", bare)
	a := newHost(t, bare)
	a.sync()
	// Another clone pushes a symlink, a .gitattributes, a dot-folder file
	// and an index.db.
	evil := t.TempDir()
	run(t, evil, "clone", "-q", "-b", "main", bare, "x")
	x := filepath.Join(evil, "x")
	os.Symlink("/etc/passwd", filepath.Join(x, "passwd.md"))
	os.WriteFile(filepath.Join(x, ".gitattributes"), []byte("*.md merge=evil\n"), 0o644)
	os.MkdirAll(filepath.Join(x, ".elfsync"), 0o755)
	os.WriteFile(filepath.Join(x, ".elfsync", "host-id"), []byte("h-00000000\n"), 0o644)
	os.WriteFile(filepath.Join(x, "index.db"), []byte("garbage"), 0o644)
	os.MkdirAll(filepath.Join(x, "failures"), 0o755)
	os.WriteFile(filepath.Join(x, "failures", "ok.md"), []byte("# ok\n"), 0o644)
	run(t, x, "add", "-A", "-f")
	run(t, x, "commit", "-qm", "evil")
	run(t, x, "push", "-q", "origin", "HEAD:main")

	hostID, _ := edit.HostID(a.mem)
	res := a.sync()
	if res.Skipped != 4 {
		t.Errorf("skipped %d changes, want 4", res.Skipped)
	}
	if a.read("failures/ok.md") != "# ok\n" {
		t.Error("the plain file did not land")
	}
	for _, p := range []string{"passwd.md", ".gitattributes", "index.db"} {
		if _, err := os.Lstat(filepath.Join(a.mem, p)); err == nil {
			t.Errorf("%s landed", p)
		}
	}
	if id, _ := edit.HostID(a.mem); id != hostID {
		t.Errorf("host id changed to %s", id)
	}
	if out := run(t, a.mem, "ls-tree", "-r", "--name-only", "HEAD"); strings.Contains(out, "passwd") || strings.Contains(out, ".elfsync") {
		t.Errorf("refused paths in HEAD:\n%s", out)
	}
}

// TestCrashAfterBranchMoved: a SIGKILL after the branch moved to a merge
// and before the files landed. The restart must land them before anything
// commits the stale work tree (which would undo the merge), and count
// every increment once.
func TestCrashAfterBranchMoved(t *testing.T) {
	testEnv(t)
	bare := filepath.Join(t.TempDir(), "remote.git")
	run(t, filepath.Dir(bare), "init", "-q", "--bare", bare)
	a, b := newHost(t, bare), newHost(t, bare)
	a.write("heuristics/retry.md", heur)
	a.commit()
	a.sync()
	b.sync()
	for range 3 {
		a.bump("heuristics/retry.md")
	}
	a.write("failures/new.md", "# new\n")
	a.commit()
	a.sync()
	b.bump("heuristics/retry.md")
	b.commit()

	b.s.crashAfterRef = true
	if _, err := b.s.Round(context.Background()); err == nil {
		t.Fatal("the simulated crash did not happen")
	}
	if _, err := os.Stat(filepath.Join(b.mem, "failures/new.md")); err == nil {
		t.Fatal("files landed before the crash point")
	}
	// Restart: Open finishes the merge.
	s, err := Open(context.Background(), Config{Root: b.root, Remote: "origin", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	b.s = s
	if _, err := os.Stat(filepath.Join(b.s.journalPath())); err == nil {
		t.Error("journal left after recovery")
	}
	// What a committer does next: commit the work tree. Nothing reverts.
	b.commit()
	if got := validated(t, b.read("heuristics/retry.md")); got != 8 {
		t.Errorf("times_validated after recovery = %d, want 8", got)
	}
	// Recovering twice counts nothing twice.
	b.s.writeJournal(journal{Ref: "refs/heads/main", Old: run(t, b.mem, "rev-parse", "HEAD~1"), New: run(t, b.mem, "rev-parse", "HEAD")})
	if err := b.s.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.commit()
	b.sync()
	a.sync()
	for _, h := range []*host{a, b} {
		if got := validated(t, h.read("heuristics/retry.md")); got != 8 {
			t.Errorf("times_validated = %d, want 8", got)
		}
		if h.read("failures/new.md") != "# new\n" {
			t.Error("failures/new.md lost")
		}
	}
}

// TestLandKeepsConcurrentWrite: a file written after the merge began is
// never overwritten; the merge's change is merged into it.
func TestLandKeepsConcurrentWrite(t *testing.T) {
	testEnv(t)
	bare := filepath.Join(t.TempDir(), "remote.git")
	run(t, filepath.Dir(bare), "init", "-q", "--bare", bare)
	a, b := newHost(t, bare), newHost(t, bare)
	a.write("heuristics/retry.md", heur)
	a.commit()
	a.sync()
	b.sync()
	a.bump("heuristics/retry.md")
	a.commit()
	a.sync()
	// b bumps without committing: the merge must land into the dirty file.
	b.bump("heuristics/retry.md")
	b.bump("heuristics/retry.md")
	b.sync()
	if got := validated(t, b.read("heuristics/retry.md")); got != 7 {
		t.Errorf("times_validated = %d, want 7 (4 + 1 from a + 2 uncommitted on b)\n%s", got, b.read("heuristics/retry.md"))
	}
}

// TestHugeBlob: a file over the in-memory limit is streamed into place,
// and concurrent changes to it are kept side by side, never read whole.
func TestHugeBlob(t *testing.T) {
	testEnv(t)
	old := maxBlob
	maxBlob = 1024
	defer func() { maxBlob = old }()
	bare := filepath.Join(t.TempDir(), "remote.git")
	run(t, filepath.Dir(bare), "init", "-q", "--bare", bare)
	a, b := newHost(t, bare), newHost(t, bare)
	big := strings.Repeat("0123456789abcdef", 200) // 3,200 bytes
	a.write("observations/big.md", big)
	a.commit()
	a.sync()
	b.sync()
	if b.read("observations/big.md") != big {
		t.Fatal("large file did not land whole")
	}
	a.write("observations/big.md", big+"a\n")
	a.commit()
	b.write("observations/big.md", big+"b\n")
	b.commit()
	a.sync()
	res := b.sync()
	a.sync()
	if len(res.Conflicts) != 1 {
		t.Fatalf("conflicts = %v", res.Conflicts)
	}
	if got := a.read(strings.TrimPrefix(res.Conflicts[0], "memory/")); got != big+"a\n" {
		t.Errorf("conflict copy holds %d bytes", len(got))
	}
	if a.read("observations/big.md") != big+"b\n" || b.read("observations/big.md") != big+"b\n" {
		t.Error("hosts disagree on the large file")
	}
}

// TestFileFolderClash: a remote path that would turn one of our files
// into a folder is refused; ours stays.
func TestFileFolderClash(t *testing.T) {
	testEnv(t)
	bare := filepath.Join(t.TempDir(), "remote.git")
	run(t, filepath.Dir(bare), "init", "-q", "--bare", bare)
	a, b := newHost(t, bare), newHost(t, bare)
	a.write("notes", "a file\n")
	a.commit()
	b.write("notes/x.md", "# x\n")
	b.commit()
	b.sync()
	res := a.sync()
	if res.Skipped != 1 || a.read("notes") != "a file\n" {
		t.Errorf("skipped %d; notes = %q", res.Skipped, a.read("notes"))
	}
	if out := run(t, a.mem, "ls-tree", "HEAD", "notes"); !strings.HasPrefix(out, "100644 blob") {
		t.Errorf("our file left the tree: %q", out)
	}
}

// TestCrashInProjectRepo: memory/ inside a project repository syncs
// through elfsync/memory; a crash after that branch moved is finished by
// FinishInterrupted (what every committing command runs first).
func TestCrashInProjectRepo(t *testing.T) {
	testEnv(t)
	bare := filepath.Join(t.TempDir(), "remote.git")
	run(t, filepath.Dir(bare), "init", "-q", "--bare", bare)
	other := newHost(t, bare)
	other.s.cfg.Branch = SharedBranch
	other.s.branch = SharedBranch
	other.s.tracking = "refs/elfsync/remotes/origin/" + SharedBranch
	other.write("failures/remote.md", "# remote\n")
	other.commit()
	other.sync()

	proj := t.TempDir()
	run(t, proj, "init", "-q")
	os.WriteFile(filepath.Join(proj, "code.go"), []byte("package x\n"), 0o644)
	os.MkdirAll(filepath.Join(proj, "memory", "failures"), 0o755)
	os.WriteFile(filepath.Join(proj, "memory", "failures", "local.md"), []byte("# local\n"), 0o644)
	run(t, proj, "add", "-A")
	run(t, proj, "commit", "-qm", "project")
	run(t, proj, "remote", "add", "origin", bare)
	s, err := Open(context.Background(), Config{Root: proj, Remote: "origin", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	s.crashAfterRef = true
	if _, err := s.Round(context.Background()); err == nil {
		t.Fatal("the simulated crash did not happen")
	}
	if err := FinishInterrupted(context.Background(), proj, zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(proj, "memory", "failures", "remote.md")); err != nil || string(b) != "# remote\n" {
		t.Fatalf("remote.md after recovery: %q %v", b, err)
	}
	run(t, proj, "add", "-A")
	run(t, proj, "commit", "-qm", "landed")
	s.crashAfterRef = false
	if _, err := s.Round(context.Background()); err != nil {
		t.Fatal(err)
	}
	files := run(t, bare, "ls-tree", "-r", "--name-only", SharedBranch)
	if !strings.Contains(files, "failures/local.md") || strings.Contains(files, "code.go") {
		t.Errorf("shared branch holds:\n%s", files)
	}
	if refs := run(t, bare, "for-each-ref", "--format=%(refname)"); strings.Contains(refs, "master") || strings.Contains(refs, "refs/heads/main") {
		t.Errorf("a person's branch was pushed: %s", refs)
	}
}

// TestMalformedTreesRefused: a remote tree with a "../" or ".git" entry
// (a file outside memory/, a hook) is refused by the fetch's object check;
// nothing is written, nothing runs.
func TestMalformedTreesRefused(t *testing.T) {
	testEnv(t)
	for _, name := range []string{"..", ".git", ".GIT"} {
		t.Run(name, func(t *testing.T) {
			bare := filepath.Join(t.TempDir(), "remote.git")
			run(t, filepath.Dir(bare), "init", "-q", "--bare", bare)
			a := newHost(t, bare)
			a.sync()
			// A tree whose entry `name` is a folder holding hooks/post-checkout.
			w := t.TempDir()
			run(t, w, "init", "-q")
			hashObj := func(typ string, data []byte) string {
				cmd := exec.Command("git", "hash-object", "--literally", "-t", typ, "-w", "--stdin")
				cmd.Dir, cmd.Stdin = w, strings.NewReader(string(data))
				out, err := cmd.Output()
				if err != nil {
					t.Fatal(err)
				}
				return strings.TrimSpace(string(out))
			}
			entry := func(mode, name, oid string) []byte {
				raw := make([]byte, 20)
				for i := range raw {
					var b byte
					fmt.Sscanf(oid[2*i:2*i+2], "%02x", &b)
					raw[i] = b
				}
				return append([]byte(mode+" "+name+"\x00"), raw...)
			}
			hook := hashObj("blob", []byte("#!/bin/sh\ntouch "+filepath.Join(w, "pwned")+"\n"))
			hooks := hashObj("tree", entry("100755", "post-checkout", hook))
			dir := hashObj("tree", entry("40000", "hooks", hooks))
			top := hashObj("tree", entry("40000", name, dir))
			run(t, w, "fetch", "-q", bare, "main")
			commit := run(t, w, "commit-tree", top, "-p", "FETCH_HEAD", "-m", "evil")
			run(t, w, "push", "-q", bare, commit+":refs/heads/main")

			_, err := a.s.Round(context.Background())
			if err == nil || !strings.Contains(err.Error(), "fetch") {
				t.Fatalf("a malformed tree was not refused by the fetch: %v", err)
			}
			t.Log(err)
			if _, err := os.Stat(filepath.Join(w, "pwned")); err == nil {
				t.Fatal("a hook from the remote ran")
			}
			if _, err := os.Stat(filepath.Join(a.root, "hooks")); err == nil {
				t.Fatal("a file was written outside memory/")
			}
		})
	}
}

// TestRecoverAfterLanding: a SIGKILL after every file landed but before
// the journal was removed, then a local write to a landed file: the
// restart must not merge the merge's change into that file a second time
// (a counter changed by hand on another host would be counted twice).
func TestRecoverAfterLanding(t *testing.T) {
	testEnv(t)
	bare := filepath.Join(t.TempDir(), "remote.git")
	run(t, filepath.Dir(bare), "init", "-q", "--bare", bare)
	a, b := newHost(t, bare), newHost(t, bare)
	a.write("heuristics/retry.md", heur)
	a.commit()
	a.sync()
	b.sync()
	// A hand edit on a: 4 → 10, the tally's base with it.
	a.write("heuristics/retry.md", strings.Replace(strings.Replace(heur, "times_validated: 4", "times_validated: 10", 1), "{base: 4}", "{base: 10}", 1))
	a.commit()
	a.sync()
	b.write("failures/b.md", "# b\n")
	b.commit()

	b.s.crashAfterRef = true
	if _, err := b.s.Round(context.Background()); err == nil {
		t.Fatal("the simulated crash did not happen")
	}
	j, err := os.ReadFile(b.s.journalPath())
	if err != nil {
		t.Fatal(err)
	}
	var jn journal
	if err := json.Unmarshal(j, &jn); err != nil {
		t.Fatal(err)
	}
	// Every file lands; the SIGKILL comes before the journal is removed.
	if _, err := b.s.land(context.Background(), jn.Old, jn.New); err != nil {
		t.Fatal(err)
	}
	if got := validated(t, b.read("heuristics/retry.md")); got != 10 {
		t.Fatalf("times_validated after landing = %d, want 10", got)
	}
	b.bump("heuristics/retry.md") // a local write before the restart
	s, err := Open(context.Background(), Config{Root: b.root, Remote: "origin", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	b.s = s
	if got := validated(t, b.read("heuristics/retry.md")); got != 11 {
		t.Errorf("times_validated after recovery = %d, want 11\n%s", got, b.read("heuristics/retry.md"))
	}
}
