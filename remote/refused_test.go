package remote

import (
	"context"
	"os"
	"path/filepath"
	"testing"
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
