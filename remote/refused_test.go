package remote

import (
	"context"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestRefusedChangesSettle: two hosts whose .gitignore differ (a person
// added a pattern on one; a newer elfsync wrote another) each refuse the
// other's version. Syncing must settle: after a few rounds no host makes
// another merge commit.
func TestRefusedChangesSettle(t *testing.T) {
	testEnv(t)
	bare := filepath.Join(t.TempDir(), "remote.git")
	run(t, filepath.Dir(bare), "init", "-q", "--bare", bare)
	a, b := newHost(t, bare), newHost(t, bare)
	a.write(".gitignore", ".elfsync*\nindex.db*\n*.bak\n")
	a.write("failures/a.md", "# a\n")
	a.commit()
	b.write("failures/b.md", "# b\n")
	b.commit()
	for range 3 {
		a.sync()
		b.sync()
	}
	before := run(t, bare, "rev-parse", "main")
	for range 3 {
		if res := a.sync(); res.Merged != "" || res.Pushed != "" {
			t.Errorf("a: a round with nothing new did %+v", res)
		}
		if res := b.sync(); res.Merged != "" || res.Pushed != "" {
			t.Errorf("b: a round with nothing new did %+v", res)
		}
	}
	if after := run(t, bare, "rev-parse", "main"); after != before {
		t.Errorf("the remote kept moving: %s commits since", run(t, bare, "rev-list", "--count", before+".."+after))
	}
	for _, h := range []*host{a, b} {
		for _, f := range []string{"failures/a.md", "failures/b.md"} {
			if _, err := os.Stat(filepath.Join(h.mem, f)); err != nil {
				t.Errorf("%s: %v", h.root, err)
			}
		}
	}
	for _, h := range []*host{a, b} {
		st, err := ReadStatus(context.Background(), h.root)
		if err != nil || st.Ahead != 0 || st.Behind != 0 || st.LastError != "" {
			t.Errorf("%s: status %+v %v", h.root, st, err)
		}
	}
	if got := a.read(".gitignore"); got != ".elfsync*\nindex.db*\n*.bak\n" {
		t.Errorf("a's .gitignore = %q", got)
	}
	if got := b.read(".gitignore"); got != ".elfsync*\nindex.db*\n" {
		t.Errorf("b's .gitignore = %q", got)
	}
}

// TestAcceptRemote: what a remote may change. On macOS and Windows
// "INDEX.DB-journal" is memory/index.db-journal: a hot journal that SQLite
// would roll into the index, so case variants of the index's names are
// refused as the names are.
func TestAcceptRemote(t *testing.T) {
	file := entry{mode: "100644", oid: "x"}
	for _, c := range []struct {
		path string
		e    entry
		want bool
	}{
		{"failures/x.md", file, true},
		{"failures/x.md", entry{}, true},
		{"failures/x.md", entry{mode: "120000", oid: "x"}, false},
		{"failures/x.md", entry{mode: "160000", oid: "x"}, false},
		{".gitattributes", file, false},
		{"failures/.gitattributes", file, false},
		{".elfsync/host-id", file, false},
		{"index.db", file, false},
		{"index.db-journal", file, false},
		{"INDEX.DB-journal", file, false},
		{"Index.db-wal", file, false},
		{"Index.DB", file, false},
		{"../x.md", file, false},
		{"a//b.md", file, false},
	} {
		if got := acceptRemote(c.path, c.e); got != c.want {
			t.Errorf("acceptRemote(%q, %v) = %v, want %v", c.path, c.e.mode, got, c.want)
		}
	}
}

// TestUnwritableNameRefused: a remote file whose name no file system here
// can hold (a component over 255 bytes) is refused like a dot-file: it
// must not fail every round from then on, and the rest lands.
func TestUnwritableNameRefused(t *testing.T) {
	testEnv(t)
	bare := filepath.Join(t.TempDir(), "remote.git")
	run(t, filepath.Dir(bare), "init", "-q", "--bare", bare)
	a, b := newHost(t, bare), newHost(t, bare)
	a.sync()
	// Another clone writes the long name through git's index.
	w := filepath.Join(t.TempDir(), "w")
	run(t, filepath.Dir(w), "clone", "-q", "-b", "main", bare, w)
	long := "failures/" + strings.Repeat("x", 300) + ".md"
	blob := run(t, w, "hash-object", "-w", "--", filepath.Join(a.mem, ".gitignore"))
	run(t, w, "update-index", "--add", "--cacheinfo", "100644,"+blob+","+long)
	os.MkdirAll(filepath.Join(w, "failures"), 0o755)
	os.WriteFile(filepath.Join(w, "failures", "ok.md"), []byte("# ok\n"), 0o644)
	run(t, w, "add", "failures/ok.md")
	run(t, w, "commit", "-qm", "long name")
	run(t, w, "push", "-q", "origin", "HEAD:main")

	for range 2 {
		res, err := b.s.Round(context.Background())
		if err != nil {
			t.Fatalf("round: %v", err)
		}
		if res.Merged != "" && res.Skipped != 1 {
			t.Errorf("refused %d, want 1", res.Skipped)
		}
	}
	if b.read("failures/ok.md") != "# ok\n" {
		t.Error("the plain file did not land")
	}
}

func TestConflictNameFits(t *testing.T) {
	free := func(string) bool { return false }
	for _, p := range []string{
		"failures/x.md",
		"failures/" + strings.Repeat("é", 126) + ".md",
		"failures/" + strings.Repeat("y", 250),
		"failures/a." + strings.Repeat("z", 250),
	} {
		got := conflictName(p, "0123abcd", "20261129T232955Z", free)
		base := path.Base(got)
		if len(base) > maxName || !utf8.ValidString(got) || !strings.HasPrefix(got, "failures/") || !strings.Contains(base, ".conflict-0123abcd-") {
			t.Errorf("conflictName(%d bytes) = %q (%d bytes)", len(p), got, len(base))
		}
	}
	if got := conflictName("failures/x.md", "0123abcd", "20261129T232955Z", free); got != "failures/x.conflict-0123abcd-20261129T232955Z.md" {
		t.Errorf("conflictName = %q", got)
	}
}

// TestPushesOnlyTheBranch: a person's push settings (push.followTags)
// never make elfsync push anything but its branch.
func TestPushesOnlyTheBranch(t *testing.T) {
	testEnv(t)
	bare := filepath.Join(t.TempDir(), "remote.git")
	run(t, filepath.Dir(bare), "init", "-q", "--bare", bare)
	a := newHost(t, bare)
	run(t, a.mem, "config", "push.followTags", "true")
	a.write("failures/a.md", "# a\n")
	a.commit()
	run(t, a.mem, "tag", "-a", "-m", "private", "v-private")
	a.sync()
	if refs := run(t, bare, "for-each-ref", "--format=%(refname)"); refs != "refs/heads/main" {
		t.Errorf("remote refs = %q, want only refs/heads/main", refs)
	}
}

// TestFetchLeavesTrackingBranches: the fetch keeps its tips under
// refs/elfsync/remotes/; the person's refs/remotes/ stay as their own
// fetches (and pushes) left them.
func TestFetchLeavesTrackingBranches(t *testing.T) {
	testEnv(t)
	bare := filepath.Join(t.TempDir(), "remote.git")
	run(t, filepath.Dir(bare), "init", "-q", "--bare", bare)
	a, b := newHost(t, bare), newHost(t, bare)
	a.write("failures/a.md", "# a\n")
	a.commit()
	a.sync()
	b.sync() // may push (a merge), which sets refs/remotes/origin/main as any push does
	before := run(t, b.mem, "for-each-ref", "--format=%(refname) %(objectname)", "refs/remotes/")
	a.write("failures/a2.md", "# a2\n")
	a.commit()
	a.sync()
	if res := b.sync(); !res.FastForward || res.Pushed != "" {
		t.Fatalf("b's round: %+v, want a fast-forward and no push", res)
	}
	if after := run(t, b.mem, "for-each-ref", "--format=%(refname) %(objectname)", "refs/remotes/"); after != before {
		t.Errorf("the fetch moved the person's remote-tracking refs: %q → %q", before, after)
	}
}

func TestIsConflictCopy(t *testing.T) {
	free := func(string) bool { return false }
	for p, want := range map[string]bool{
		conflictName("failures/x.md", "0123abcd", "20261129T232955Z", free):                        true,
		conflictName("failures/x.md", "merge", "20261129T232955Z", free):                           true,
		"failures/x.conflict-0123abcd-20261129T232955Z-2.md":                                       true,
		conflictName("failures/a."+strings.Repeat("z", 250), "0123abcd", "20261129T232955Z", free): true,
		// A person's notes that only look alike: status must not offer to rm them.
		"failures/team.conflict-resolution.md": false,
		"failures/x.conflict-notes.md":         false,
		"failures/x.md":                        false,
	} {
		if got := IsConflictCopy(p); got != want {
			t.Errorf("IsConflictCopy(%q) = %v, want %v", p, got, want)
		}
	}
}

// TestLargeBothSidesNotRead: a file over the size limit changed on both
// sides is kept side by side without being read into memory (a remote
// could otherwise make a round allocate three times its largest file).
func TestLargeBothSidesNotRead(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 3 files of 16 MiB")
	}
	testEnv(t)
	bare := filepath.Join(t.TempDir(), "remote.git")
	run(t, filepath.Dir(bare), "init", "-q", "--bare", bare)
	a, b := newHost(t, bare), newHost(t, bare)
	b.s.cfg.MaxSize = 1 << 20
	big := strings.Repeat("0123456789abcde\n", 1<<20) // 16 MiB
	a.write("observations/big.md", big)
	a.commit()
	a.sync()
	b.sync()
	a.write("observations/big.md", big+"a\n")
	a.commit()
	a.sync()
	b.write("observations/big.md", big+"b\n")
	b.commit()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res := b.sync()
	runtime.ReadMemStats(&after)
	if len(res.Conflicts) != 1 {
		t.Fatalf("conflicts = %v", res.Conflicts)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 8<<20 {
		t.Errorf("the round allocated %d MiB for a file over the size limit", n>>20)
	}
}
