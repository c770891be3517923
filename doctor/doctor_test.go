package doctor

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/indexer"
)

func find(cs []Check, name string) (Check, bool) {
	for _, c := range cs {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

func TestFolders(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	noMem := filepath.Join(dir, "nomem")
	if err := os.Mkdir(noMem, 0o755); err != nil {
		t.Fatal(err)
	}
	memFile := filepath.Join(dir, "memfile")
	if err := os.MkdirAll(memFile, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(memFile, "memory"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, root, check, info, fix string
	}{
		{"missing root", filepath.Join(dir, "typo"), "root", "does not exist", "elfsync init --root " + filepath.Join(dir, "typo")},
		{"root is a file", file, "root", "is a file, not a folder", "point --root"},
		{"no memory folder", noMem, "memory folder", "does not exist", "elfsync init --root " + noMem},
		{"memory is a file", memFile, "memory folder", "is a file, not a folder", "move it away"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := Run(context.Background(), tt.root, Options{NoGit: true})
			if len(cs) != 1 || cs[0].Name != tt.check || !cs[0].Problem() ||
				!strings.Contains(cs[0].Info, tt.info) || !strings.Contains(cs[0].Fix, tt.fix) {
				t.Errorf("Run = %+v, want one %q problem saying %q, fix %q", cs, tt.check, tt.info, tt.fix)
			}
		})
	}
}

func TestReadOnlyMemoryFolder(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() == 0 {
		t.Skip("permission bits do not bind root (or Windows)")
	}
	root := t.TempDir()
	mem := filepath.Join(root, "memory")
	if err := os.Mkdir(mem, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(mem, 0o755) })
	c, _ := find(Run(context.Background(), root, Options{NoGit: true}), "memory folder")
	if !c.Problem() || !strings.Contains(c.Info, "not writable") || !strings.Contains(c.Fix, "write permission") {
		t.Errorf("memory folder check = %+v, want not writable", c)
	}
}

func TestInvalidFileIsAWarning(t *testing.T) {
	root := t.TempDir()
	mem := filepath.Join(root, "memory", "failures")
	if err := os.MkdirAll(mem, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mem, "bad.md"), []byte("---\ntitle: [x\n---\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ix, err := indexer.Open(context.Background(), indexer.Options{Root: root, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Scan(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	cs := Run(context.Background(), root, Options{NoGit: true})
	for _, c := range cs {
		if c.Problem() {
			t.Errorf("problem %+v, want none", c)
		}
	}
	c, ok := find(cs, "invalid file")
	if !ok || c.OK || !c.Warn || !strings.Contains(c.Info, "memory/failures/bad.md") {
		t.Errorf("invalid file = %+v (found %v), want a warning naming it", c, ok)
	}
}

func TestWrite(t *testing.T) {
	var b strings.Builder
	n := Write(&b, []Check{
		{Name: "index", OK: true, Info: "fine"},
		{Name: "invalid file", Warn: true, Info: "memory/x.md: bad", Fix: "fix it"},
		{Name: "git lock", Info: "held", Fix: "wait"},
	})
	want := "ok   index            fine\n" +
		"warn invalid file     memory/x.md: bad\n" +
		"                      → fix it\n" +
		"FAIL git lock         held\n" +
		"                      → wait\n" +
		"1 problem(s) found\n"
	if n != 1 || b.String() != want {
		t.Errorf("Write = %d\n%s\nwant 1\n%s", n, b.String(), want)
	}
}
