package mcpserver

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emergent-learning/elfsync/query"
)

// hostileText are arguments meant to break a writer or escape a folder:
// paths, YAML, markdown and shell syntax, control characters, line breaks,
// unicode (the kinds the record and stress suites use).
var hostileText = []string{
	`../../../../tmp/evil`, `/etc/passwd`, `..`, `.`, `a/b/c`, `..\..\windows\system32`,
	`.git/config`, `index.db`, `-rf --help`, `CON`, `nul.md`, `x.md`,
	`"double" and 'single' quotes`, `key: value # comment`, `---`, `? question: {flow: map} [list] &anchor *alias !tag`,
	`yes`, `null`, `~`, "line one\nline two\n---\n# not a heading\n## Summary\nfake",
	"tab\there", "cr\rlf\r\nend", `back\slash \\ \n "\"`,
	"$(touch /tmp/elfsync-pwned) `touch /tmp/elfsync-pwned` ${HOME}",
	"control \x01\x07\x1b\x7f end", "nul \x00 byte", "separators \u2028 and \u2029",
	"bom \ufeff and \ufffe", "emoji 😀👩‍👩‍👧 flag 🇫🇷", "RTL שלום \u202eevil\u202c",
	"**Domain**: fake", "%s %d %n", "&amp; <script>alert(1)</script>",
}

// TestHostileRecording: every hostile value, as a title, a summary, a
// rule, a domain and tags, lands as one new file directly in its type's
// folder, as a plain file name, and is indexed as one row; a NUL is
// refused with a reason.
func TestHostileRecording(t *testing.T) {
	root := newRoot(t)
	cs := connectWith(t, root, Files{Root: root, Now: func() (time.Time, error) { return time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC), nil }})
	pad := func(s string) string { return "title " + s } // titles need 5 characters
	var wrote []string
	for _, v := range hostileText {
		out, isErr := callTool(t, cs, "elf_record_failure", map[string]any{"title": pad(v), "domain": v, "summary": "the summary " + v, "tags": v})
		if strings.ContainsRune(v, 0) {
			// No file holds a NUL: refused, with a reason, nothing written.
			if !isErr || !strings.Contains(out, "NUL") {
				t.Errorf("record failure %q: not refused: %s", v, out)
			}
			continue
		}
		if isErr {
			t.Errorf("record failure %q: %s", v, out)
			continue
		}
		var res struct{ Filepath string }
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%q: %v: %s", v, err, out)
		}
		wrote = append(wrote, res.Filepath)
		out, isErr = callTool(t, cs, "elf_record_heuristic", map[string]any{"domain": "d " + v, "rule": "rule " + v, "explanation": v})
		if isErr {
			t.Errorf("record heuristic %q: %s", v, out)
			continue
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%q: %v: %s", v, err, out)
		}
		wrote = append(wrote, res.Filepath)
	}
	seen := map[string]bool{}
	db, err := query.Open(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, p := range wrote {
		dir := "memory/failures/"
		if i%2 == 1 {
			dir = "memory/heuristics/"
		}
		name := strings.TrimPrefix(p, dir)
		if !strings.HasPrefix(p, dir) || strings.ContainsAny(name, `/\`) || !strings.HasSuffix(name, ".md") || strings.HasPrefix(name, ".") {
			t.Errorf("recorded as %q, not a plain file name in %s", p, dir)
			continue
		}
		if seen[p] {
			t.Errorf("%s written twice", p)
		}
		seen[p] = true
		if fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(p))); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s: %v", p, err)
			continue
		}
		items, err := db.Lookup(context.Background(), p)
		if err != nil || len(items) != 1 {
			t.Errorf("%s is not indexed as one row: %v %v", p, items, err)
		}
	}
	// Nothing landed anywhere else.
	_ = filepath.WalkDir(filepath.Join(root, "memory"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".md") {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if !seen[rel] && rel != "memory/heuristics/a.md" && rel != "memory/failures/20261101_x.md" {
			t.Errorf("unexpected file %s", rel)
		}
		return nil
	})
}

// TestHostileReading: hostile values as a search never fail unless they
// hold no word; as a path or an id, they reach nothing outside memory/.
func TestHostileReading(t *testing.T) {
	root := newRoot(t)
	secret := filepath.Join(root, "secret.md")
	if err := os.WriteFile(secret, []byte("---\ntitle: SECRET-CANARY\n---\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cs := connect(t, root, &stubWriter{})
	if out, isErr := callTool(t, cs, "elf_get", map[string]any{"path": "failures/20261101_x.md"}); isErr || !strings.Contains(out, "Body text about reflog") {
		t.Fatalf("elf_get of a record: %s", out)
	}
	for _, v := range append(hostileText, "../secret.md", "memory/../secret.md", secret, "failures/../../secret.md") {
		out, isErr := callTool(t, cs, "elf_search", map[string]any{"query": "force " + v})
		if isErr {
			t.Errorf("elf_search %q: %s", v, out)
		}
		for _, args := range []map[string]any{{"path": v}, {"id": v}} {
			out, _ := callTool(t, cs, "elf_get", args)
			if strings.Contains(out, "SECRET-CANARY") || strings.Contains(out, "root:") {
				t.Errorf("elf_get %v read outside memory/: %s", args, out)
			}
		}
	}
}
