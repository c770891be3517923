package edit

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/emergent-learning/elfsync/frontmatter"
)

// TestMain lets the test binary act as a separate bumping process.
func TestMain(m *testing.M) {
	if dir := os.Getenv("EDIT_TEST_BUMP_DIR"); dir != "" {
		host, err := HostID(dir)
		if err == nil {
			_, err = New(dir, 0).Bump(os.Getenv("EDIT_TEST_BUMP_REL"), Validated, host, 1)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func writeFile(t *testing.T, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const heuristic = "---\ntype: heuristic\ntitle: \"Never delete a lock you did not create\"\n# kept\nconfidence: 0.7\ntimes_validated: 4\n---\n\n# Never delete a lock you did not create\n\nAnother process may still be writing.\n"

// TestConcurrentBumpsFromProcesses runs 100 separate processes that each
// validate one heuristic once: the file ends at exactly +100, parses, and
// keeps its body and comment.
func TestConcurrentBumpsFromProcesses(t *testing.T) {
	n := 100
	if testing.Short() {
		n = 30
	}
	dir := t.TempDir()
	writeFile(t, dir, "heuristics/lock.md", heuristic)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "EDIT_TEST_BUMP_DIR="+dir, "EDIT_TEST_BUMP_REL=heuristics/lock.md")
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("%v: %s", err, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "heuristics/lock.md"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := frontmatter.Parse(frontmatter.Input{Path: "heuristics/lock.md", Data: data})
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, data)
	}
	if want := int64(4 + n); r.TimesValidated != want || r.ValidatedBy.Sum() != want {
		t.Errorf("times_validated = %d, tally %v; want %d", r.TimesValidated, r.ValidatedBy, want)
	}
	if !strings.Contains(string(data), "# kept\n") || !strings.HasSuffix(string(data), "Another process may still be writing.\n") {
		t.Errorf("comment or body lost:\n%s", data)
	}
	host, _ := HostID(dir)
	if r.ValidatedBy[host] != int64(n) || r.ValidatedBy[frontmatter.TallyBase] != 4 {
		t.Errorf("tally = %v, want %s: %d and base: 4", r.ValidatedBy, host, n)
	}
}

func TestHostIDStable(t *testing.T) {
	dir := t.TempDir()
	a, err := HostID(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := HostID(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a != b || !strings.HasPrefix(a, "h-") || len(a) != 10 {
		t.Errorf("host ids %q, %q", a, b)
	}
	if other, _ := HostID(t.TempDir()); other == a {
		t.Errorf("two folders share host id %q", a)
	}
}

func TestResolveRefusesUnsafePaths(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	writeFile(t, dir, "failures/ok.md", "x")
	writeFile(t, outside, "secret.md", "secret")
	if err := os.Symlink(outside, filepath.Join(dir, "linkdir")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.md"), filepath.Join(dir, "failures", "link.md")); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{
		"", "../x.md", "failures/../../x.md", "/etc/passwd.md", filepath.Join(outside, "secret.md"),
		"linkdir/secret.md", "failures/link.md", "index.db", ".git/config", "failures/.x.md",
		"failures/x.txt", `failures\x.md`, "failures/x\x00.md", "memory/../x.md", "failures/ok.md/x.md",
	} {
		if _, _, err := Resolve(dir, rel); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("Resolve(%q) = %v, want ErrUnsafePath", rel, err)
		}
	}
	for rel, want := range map[string]string{
		"failures/ok.md":        "failures/ok.md",
		"memory/failures/ok.md": "failures/ok.md",
		"./failures/new.md":     "failures/new.md",
	} {
		got, abs, err := Resolve(dir, rel)
		if err != nil || got != want || abs != filepath.Join(dir, filepath.FromSlash(want)) {
			t.Errorf("Resolve(%q) = %q, %q, %v; want %q", rel, got, abs, err, want)
		}
	}
}

func TestUpdateMissingAndUnchanged(t *testing.T) {
	dir := t.TempDir()
	e := New(dir, 0)
	if _, err := e.Update("failures/none.md", func(b []byte) ([]byte, error) { return b, nil }); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing file: err = %v", err)
	}
	writeFile(t, dir, "failures/a.md", "---\ntitle: a\n---\n")
	p := filepath.Join(dir, "failures/a.md")
	before, _ := os.Stat(p)
	if _, err := e.Update("failures/a.md", func(b []byte) ([]byte, error) { return b, nil }); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(p)
	if !os.SameFile(before, after) {
		t.Error("an edit that changes nothing replaced the file")
	}
	if err := e.Set("failures/a.md", []frontmatter.Change{{Key: "domain", Value: "git"}}); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(p); string(data) != "---\ntitle: a\ndomain: \"git\"\n---\n" {
		t.Errorf("after Set: %q", data)
	}
	// A bold-field record keeps its style: the line edited in place, no
	// frontmatter block hiding the others.
	writeFile(t, dir, "failures/b.md", "# B\n\n**Domain**: git\n**Severity**: 3\n\n## Summary\n\nIt broke.\n")
	if err := e.Set("failures/b.md", []frontmatter.Change{{Key: "domain", Value: "remote"}}); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "failures/b.md")); string(data) != "# B\n\n**Domain**: remote\n**Severity**: 3\n\n## Summary\n\nIt broke.\n" {
		t.Errorf("after Set on a bold-field file: %q", data)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "failures", ".*.tmp"))
	if len(leftovers) > 0 {
		t.Errorf("temp files left: %v", leftovers)
	}
}

// A bold-field heuristic (no frontmatter) keeps its style when bumped: the
// counter and its tally become bold lines, and the file never gets a
// frontmatter block that would hide its other fields.
func TestBumpBoldFieldFile(t *testing.T) {
	dir := t.TempDir()
	const in = "# Rebase before you push\n\n**Domain**: git\n**Confidence**: 0.7\n\nKeeps history linear.\n"
	writeFile(t, dir, "heuristics/rebase.md", in)
	e := New(dir, 0)
	for range 2 {
		if _, err := e.Bump("heuristics/rebase.md", Violated, "h-1", 1); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := e.Bump("heuristics/rebase.md", Validated, "h-2", 1)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "heuristics", "rebase.md"))
	want := "# Rebase before you push\n\n**Domain**: git\n**Confidence**: 0.7\n**Times Violated**: 2\n**Violated By**: {h-1: 2}\n**Times Validated**: 1\n**Validated By**: {h-2: 1}\n\nKeeps history linear.\n"
	if string(data) != want {
		t.Errorf("file:\n%s\nwant:\n%s", data, want)
	}
	if rec.TimesValidated != 1 || rec.TimesViolated != 2 || rec.Domain != "git" || rec.Confidence == nil {
		t.Errorf("record = %+v", rec)
	}
}
