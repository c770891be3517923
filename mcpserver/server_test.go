package mcpserver

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/indexer"
)

// stubWriter records what the server asked to write.
type stubWriter struct {
	typ    string
	fields map[string]string
	bumps  []string
}

func (s *stubWriter) Record(_ context.Context, typ string, fields map[string]string) (Written, error) {
	s.typ, s.fields = typ, fields
	return Written{Path: "memory/failures/x.md", IndexedNow: true}, nil
}

func (s *stubWriter) Bump(_ context.Context, ref string, violated bool) (Bumped, error) {
	if ref == "H-404" {
		return Bumped{}, errors.New("no such heuristic")
	}
	s.bumps = append(s.bumps, ref)
	return Bumped{Path: "memory/heuristics/a.md", TimesValidated: 1}, nil
}

func newRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"heuristics/a.md":        "---\ndomain: git\nrule: Never force-push a shared branch\nconfidence: 0.9\nis_golden: true\n---\n",
		"failures/20261101_x.md": "---\ntitle: Force push lost a colleague's commits\ndomain: git\nsummary: Rewrote main.\n---\nBody text about reflog.\n",
	}
	for rel, c := range files {
		p := filepath.Join(root, "memory", rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ix, err := indexer.Open(context.Background(), indexer.Options{Root: root, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Scan(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	return root
}

func connect(t *testing.T, root string, w *stubWriter) *mcp.ClientSession {
	t.Helper()
	return connectWith(t, root, w)
}

// connectWith serves root with w as the recorder and counter, in process.
func connectWith(t *testing.T, root string, w interface {
	Recorder
	Counter
}) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	srv := New(Options{Root: root, Recorder: w, Counter: w, Logger: zerolog.Nop()})
	t.Cleanup(func() { srv.Close() })
	st, ct := mcp.NewInMemoryTransports()
	if _, err := srv.MCP().Connect(ctx, st, nil); err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func callTool(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) (string, bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

func TestInProcess(t *testing.T) {
	w := &stubWriter{}
	cs := connect(t, newRoot(t), w)
	if out, isErr := callTool(t, cs, "elf_query", nil); isErr || !strings.Contains(out, "Never force-push") {
		t.Errorf("elf_query defaults: %s", out)
	}
	if out, isErr := callTool(t, cs, "elf_search", map[string]any{"query": "force push", "domain": "git"}); isErr || !strings.Contains(out, `"total_results": 2`) {
		t.Errorf("elf_search: %s", out)
	}
	if out, isErr := callTool(t, cs, "elf_record_failure", map[string]any{"title": "A title", "domain": "git", "summary": "ten chars at least"}); isErr || w.typ != "failure" || w.fields["severity"] != "3" {
		t.Errorf("elf_record_failure: %s %+v", out, w.fields)
	}
	if out, isErr := callTool(t, cs, "elf_record_heuristic", map[string]any{"domain": "  Git Ops ", "rule": "Rule of thumb"}); isErr || w.fields["domain"] != "git-ops" || w.fields["confidence"] != "0.7" || w.fields["source"] != "observation" {
		t.Errorf("elf_record_heuristic defaults: %s %+v", out, w.fields)
	}
	if _, isErr := callTool(t, cs, "elf_validate_heuristic", map[string]any{"id": "H-1"}); isErr || len(w.bumps) != 1 {
		t.Errorf("validate: %v", w.bumps)
	}
	if out, isErr := callTool(t, cs, "elf_violate_heuristic", map[string]any{"id": "H-404"}); !isErr || !strings.Contains(out, "no such heuristic") {
		t.Errorf("a failing bump is not a tool error with its message: %s", out)
	}
	if out, isErr := callTool(t, cs, "elf_ceo_inbox", nil); isErr || !strings.Contains(out, `"pending_count": 0`) {
		t.Errorf("empty inbox: %s", out)
	}
}

func TestSymlinkRefused(t *testing.T) {
	root := newRoot(t)
	secret := filepath.Join(t.TempDir(), "secret.md")
	if err := os.WriteFile(secret, []byte("# secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(root, "memory", "failures", "link.md")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	if err := os.Symlink(filepath.Dir(secret), filepath.Join(root, "memory", "outside")); err != nil {
		t.Fatal(err)
	}
	cs := connect(t, root, &stubWriter{})
	for _, p := range []string{"failures/link.md", "outside/secret.md", "memory/outside/secret.md"} {
		if out, isErr := callTool(t, cs, "elf_get", map[string]any{"path": p}); !isErr || strings.Contains(out, "secret") && !strings.Contains(out, "unsafe") {
			t.Errorf("elf_get %s: %v %s", p, isErr, out)
		}
	}
}

func TestIndexReopened(t *testing.T) {
	root := newRoot(t)
	cs := connect(t, root, &stubWriter{})
	if out, _ := callTool(t, cs, "elf_search", map[string]any{"query": "reflog"}); !strings.Contains(out, `"total_results": 1`) {
		t.Fatalf("before: %s", out)
	}
	// Replace the index with a rebuilt one that has another memory.
	db := filepath.Join(root, "memory", "index.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(db + suffix)
	}
	if err := os.WriteFile(filepath.Join(root, "memory", "failures", "20261102_y.md"), []byte("---\ntitle: Rebase reflog rescue\n---\n"), 0o644); err != nil {
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
	if out, _ := callTool(t, cs, "elf_search", map[string]any{"query": "reflog"}); !strings.Contains(out, `"total_results": 2`) {
		t.Errorf("the server still reads the old index: %s", out)
	}
}

func TestGuard(t *testing.T) {
	in := strings.Join([]string{
		`{"jsonrpc":"2.0","id":1,"method":"ping"}`,
		`not json`,
		``,
		`{"jsonrpc":"2.0","id":"a","result":{}}`,
		`{"id":{"x":1},"method":"m"}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":11}`,
		`{"jsonrpc":"2.0","id":1.5,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":2e3,"method":"ping"}`,
	}, "\n")
	var out bytes.Buffer
	got, err := io.ReadAll(guard(strings.NewReader(in), &out))
	if err != nil {
		t.Fatal(err)
	}
	wantPass := "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"result\":{}}\n{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n"
	if string(got) != wantPass {
		t.Errorf("passed through:\n%s\nwant:\n%s", got, wantPass)
	}
	answers := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(answers) != 5 || !strings.Contains(answers[0], "-32700") || !strings.Contains(answers[1], "-32600") || !strings.Contains(answers[1], `"id":null`) {
		t.Errorf("answers: %q", answers)
	}
	// A message that is neither a request nor a response, and ids that
	// are not integers (the SDK answered 1.5 as 1), are invalid requests.
	for i, want := range []string{`"id":11`, `"id":null`, `"id":null`} {
		if len(answers) == 5 && (!strings.Contains(answers[2+i], "-32600") || !strings.Contains(answers[2+i], want)) {
			t.Errorf("answer %d: %s; want -32600 with %s", 2+i, answers[2+i], want)
		}
	}
}

func TestInbox(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("TEMPLATE.md", "---\nstatus: pending\n---\n# Template\n")
	write("a.md", "---\nstatus: pending\npriority: high\ndomain: db\n---\n# Choose a DB\n\n## Situation\n\nWe need one.\n\n## Options\n")
	write("b.md", "---\nstatus: decided\n---\n# Old question\n")
	write("c.md", "# No frontmatter\n")
	write("notes.txt", "ignored")
	res, err := readInbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.PendingCount != 2 || res.DecidedCount != 1 {
		t.Fatalf("inbox: %+v", res)
	}
	for _, it := range res.PendingItems {
		if it.Filename == "a.md" && (it.Title != "Choose a DB" || it.Summary != "We need one." || it.Priority != "high") {
			t.Errorf("a.md read as %+v", it)
		}
	}
}

// TestFrameworkArgumentShape: the framework's server (FastMCP, one
// pydantic model argument named params) takes {"params": {...}}; a client
// written against it must get the same answers here, not the defaults.
func TestFrameworkArgumentShape(t *testing.T) {
	w := &stubWriter{}
	cs := connect(t, newRoot(t), w)
	out, isErr := callTool(t, cs, "elf_search", map[string]any{"params": map[string]any{"query": "force push", "limit": 1}})
	if isErr || !strings.Contains(out, `"total_results": 1`) {
		t.Errorf("elf_search with params: %s", out)
	}
	out, isErr = callTool(t, cs, "elf_query", map[string]any{"params": map[string]any{"depth": "minimal"}})
	if isErr || !strings.Contains(out, "depth minimal") || strings.Contains(out, "Force push lost") {
		t.Errorf("elf_query with params ignored them:\n%s", out)
	}
	if out, isErr := callTool(t, cs, "elf_record_heuristic", map[string]any{"params": map[string]any{"domain": "git", "rule": "Rule of thumb", "confidence": 0.4}}); isErr || w.fields["confidence"] != "0.4" {
		t.Errorf("elf_record_heuristic with params: %s %+v", out, w.fields)
	}
	// Anything else beside params is the caller's own shape: left alone.
	if out, isErr := callTool(t, cs, "elf_search", map[string]any{"query": "reflog", "params": map[string]any{"query": "force"}}); isErr || !strings.Contains(out, `"query": "reflog"`) {
		t.Errorf("params beside other arguments: %s", out)
	}
}

// TestLongArgumentError: an over-long argument is refused with a short
// message; the SDK's schema check quotes the whole value, which must not
// come back to the model's context whole.
func TestLongArgumentError(t *testing.T) {
	cs := connect(t, newRoot(t), &stubWriter{})
	for _, args := range []map[string]any{
		{"query": strings.Repeat("lock ", 20000)},
		{"query": "lock", "domain": strings.Repeat("d", 100000)},
	} {
		out, isErr := callTool(t, cs, "elf_search", args)
		if !isErr || !strings.Contains(out, "maxLength") {
			t.Errorf("not refused for its length: %.200s", out)
		}
		if len(out) > 2*maxErrorText {
			t.Errorf("error text is %d bytes long", len(out))
		}
	}
}
