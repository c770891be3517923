package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// mcpSession starts `elfsync mcp` as a client would and connects the SDK's
// client to it.
func mcpSession(t *testing.T, env []string, root string) *mcp.ClientSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, binPath, "mcp", "--root", root)
	cmd.Env = env
	client := mcp.NewClient(&mcp.Implementation{Name: "e2e", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// call runs a tool and returns its text and whether it is a tool error.
func call(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) (string, bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error: %v", name, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

func TestMCPBinary(t *testing.T) {
	env := gitEnv(t)
	root := readSideRoot(t, env)
	if err := os.MkdirAll(filepath.Join(root, "ceo-inbox"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "ceo-inbox", "pick-a-db.md"), []byte("---\nstatus: pending\npriority: high\n---\n# Pick a database\n\n## Situation\n\nTwo options.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cs := mcpSession(t, env, root)
	ctx := context.Background()

	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	readOnly := map[string]bool{}
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
		if tl.Annotations == nil {
			t.Errorf("%s has no annotations", tl.Name)
			continue
		}
		readOnly[tl.Name] = tl.Annotations.ReadOnlyHint
		if tl.Annotations.ReadOnlyHint != tl.Annotations.IdempotentHint {
			t.Errorf("%s: read-only %v but idempotent %v", tl.Name, tl.Annotations.ReadOnlyHint, tl.Annotations.IdempotentHint)
		}
	}
	sort.Strings(names)
	want := "elf_ceo_inbox elf_get elf_query elf_record_failure elf_record_heuristic elf_search elf_validate_heuristic elf_violate_heuristic"
	if strings.Join(names, " ") != want {
		t.Fatalf("tools %v; want %s", names, want)
	}
	for _, n := range []string{"elf_query", "elf_search", "elf_get", "elf_ceo_inbox"} {
		if !readOnly[n] {
			t.Errorf("%s is not read-only", n)
		}
	}
	for _, n := range []string{"elf_record_failure", "elf_record_heuristic", "elf_validate_heuristic", "elf_violate_heuristic"} {
		if readOnly[n] {
			t.Errorf("%s claims to be read-only", n)
		}
	}

	// Reading.
	if out, isErr := call(t, cs, "elf_query", map[string]any{"domain": "git", "depth": "standard", "max_tokens": 2000}); isErr || !strings.Contains(out, "Never delete a lock") || !strings.Contains(out, "Always set a busy timeout") {
		t.Errorf("elf_query: %v\n%s", isErr, out)
	}
	out, isErr := call(t, cs, "elf_search", map[string]any{"query": "busy timeout", "limit": 5})
	var sr struct {
		TotalResults int `json:"total_results"`
		Results      []struct{ Ref, Path, Snippet string }
	}
	if err := json.Unmarshal([]byte(out), &sr); isErr || err != nil || sr.TotalResults == 0 || sr.Results[0].Path != "memory/heuristics/busy.md" {
		t.Fatalf("elf_search: %v %v\n%s", isErr, err, out)
	}
	out, isErr = call(t, cs, "elf_get", map[string]any{"id": sr.Results[0].Ref})
	if isErr || !strings.Contains(out, "Always set a busy timeout") {
		t.Errorf("elf_get %s: %s", sr.Results[0].Ref, out)
	}
	if out, isErr := call(t, cs, "elf_get", map[string]any{"path": "failures/20261102_git-lock.md"}); isErr || !strings.Contains(out, "Stale git index.lock") {
		t.Errorf("elf_get by path: %s", out)
	}
	if out, isErr := call(t, cs, "elf_ceo_inbox", nil); isErr || !strings.Contains(out, `"pending_count": 1`) || !strings.Contains(out, "Pick a database") {
		t.Errorf("elf_ceo_inbox: %s", out)
	}

	// Writing: files only, then indexed at once (no watcher runs).
	out, isErr = call(t, cs, "elf_record_failure", map[string]any{"title": "Zeppelin deploy broke", "domain": "deploy", "summary": "The zeppelin rollout lost its config.", "severity": 4, "tags": "deploy,config"})
	if isErr || !strings.Contains(out, `"indexed_now": true`) {
		t.Fatalf("elf_record_failure: %s", out)
	}
	if out, _ := call(t, cs, "elf_search", map[string]any{"query": "zeppelin"}); !strings.Contains(out, "Zeppelin deploy broke") {
		t.Errorf("a recorded failure is not found at once: %s", out)
	}
	out, isErr = call(t, cs, "elf_record_heuristic", map[string]any{"domain": "Deploy Ops!", "rule": "Check the zeppelin config before rollout", "explanation": "It was lost once.", "source": "failure", "confidence": 0.8})
	if isErr || !strings.Contains(out, `"domain": "deploy-ops"`) {
		t.Fatalf("elf_record_heuristic: %s", out)
	}
	var rec struct{ Filepath string }
	_ = json.Unmarshal([]byte(out), &rec)
	// The files are exactly what `elfsync record` writes.
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rec.Filepath)))
	if err != nil || !strings.Contains(string(data), "type: heuristic") || !strings.Contains(string(data), "confidence: 0.8") {
		t.Errorf("recorded heuristic %s: %v\n%s", rec.Filepath, err, data)
	}
	for _, tool := range []string{"elf_validate_heuristic", "elf_validate_heuristic", "elf_violate_heuristic"} {
		if out, isErr := call(t, cs, tool, map[string]any{"id": "heuristics/h-git.md"}); isErr {
			t.Errorf("%s: %s", tool, out)
		}
	}
	v, x := readCounters(t, root, "heuristics/h-git.md")
	if v != 2 || x != 1 {
		t.Errorf("after 2 validations and 1 violation: %d, %d", v, x)
	}
	num, _ := strconv.Atoi(strings.TrimPrefix(heuristicID(t, root, "memory/heuristics/h-git.md"), "H-"))
	if out, isErr := call(t, cs, "elf_validate_heuristic", map[string]any{"id": num}); isErr || !strings.Contains(out, `"times_validated": 3`) {
		t.Errorf("validate by numeric id: %s", out)
	}

	// Bad arguments and hostile input: tool errors, the server lives on.
	long := strings.Repeat("x", 600)
	for _, c := range []struct {
		tool string
		args map[string]any
	}{
		{"elf_search", map[string]any{"query": long}},
		{"elf_search", map[string]any{"query": "x"}},
		{"elf_search", map[string]any{"query": "lock", "limit": 500}},
		{"elf_search", map[string]any{}},
		{"elf_search", map[string]any{"query": "lock OR"}},
		{"elf_query", map[string]any{"depth": "abyss"}},
		{"elf_query", map[string]any{"max_tokens": 10}},
		{"elf_query", map[string]any{"domain": long}},
		{"elf_record_failure", map[string]any{"title": "ok title", "domain": "d", "summary": strings.Repeat("s", 6000)}},
		{"elf_record_failure", map[string]any{"title": "ok title", "domain": "d", "summary": "long enough summary", "severity": 9}},
		{"elf_record_failure", map[string]any{"title": long, "domain": "d", "summary": "long enough summary"}},
		{"elf_record_heuristic", map[string]any{"domain": "!!!", "rule": "a rule here"}},
		{"elf_record_heuristic", map[string]any{"domain": "d", "rule": "a rule here", "confidence": 7}},
		{"elf_record_heuristic", map[string]any{"domain": "d", "rule": "a rule here", "source": "rumour"}},
		{"elf_get", map[string]any{"path": "../../../etc/passwd"}},
		{"elf_get", map[string]any{"path": "/etc/passwd"}},
		{"elf_get", map[string]any{"path": "index.db"}},
		{"elf_get", map[string]any{"path": ".git/config"}},
		{"elf_get", map[string]any{"path": "failures/../../x.md"}},
		{"elf_get", map[string]any{"id": "H-99999"}},
		{"elf_get", map[string]any{"id": map[string]any{"x": 1}}},
		{"elf_get", map[string]any{}},
		{"elf_validate_heuristic", map[string]any{"id": "L-1"}},
		{"elf_validate_heuristic", map[string]any{"id": "../failures/20261101_sqlite-busy.md"}},
		{"elf_violate_heuristic", map[string]any{"id": long + long}},
		{"elf_violate_heuristic", map[string]any{}},
	} {
		out, isErr := call(t, cs, c.tool, c.args)
		if !isErr {
			t.Errorf("%s %v: not a tool error: %s", c.tool, c.args, out)
		} else if out == "" {
			t.Errorf("%s %v: tool error without a message", c.tool, c.args)
		}
	}
	// A recorded title with a path in it stays in its folder.
	out, isErr = call(t, cs, "elf_record_failure", map[string]any{"title": "../../../../tmp/evil $(rm -rf /)", "domain": "sec", "summary": "hostile title test"})
	if isErr {
		t.Fatalf("hostile title: %s", out)
	}
	_ = json.Unmarshal([]byte(out), &rec)
	if !strings.HasPrefix(rec.Filepath, "memory/failures/") || strings.Count(rec.Filepath, "/") != 2 {
		t.Errorf("hostile title wrote %s", rec.Filepath)
	}
	if _, isErr := call(t, cs, "elf_search", map[string]any{"query": "busy"}); isErr {
		t.Error("the server does not serve after bad calls")
	}
}

// TestMCPMalformed: bad JSON-RPC lines get protocol errors and the session
// goes on.
func TestMCPMalformed(t *testing.T) {
	env := gitEnv(t)
	root := readSideRoot(t, env)
	cmd := exec.Command(binPath, "mcp", "--root", root)
	cmd.Env = env
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	send := func(s string) {
		t.Helper()
		if _, err := io.WriteString(stdin, s+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	next := func() map[string]any {
		t.Helper()
		if !lines.Scan() {
			t.Fatalf("server closed: %v", lines.Err())
		}
		var m map[string]any
		if err := json.Unmarshal(lines.Bytes(), &m); err != nil {
			t.Fatalf("server wrote non-JSON %q", lines.Text())
		}
		return m
	}
	code := func(m map[string]any) float64 {
		e, _ := m["error"].(map[string]any)
		c, _ := e["code"].(float64)
		return c
	}
	send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	if m := next(); m["result"] == nil {
		t.Fatalf("initialize: %v", m)
	}
	send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	for _, c := range []struct {
		line string
		code float64
	}{
		{`this is not json`, -32700},
		{`{"jsonrpc":"2.0","id":2,"method":`, -32700},
		{`[{"jsonrpc":"2.0","id":3,"method":"tools/list"}]`, -32600},
		{`{"id":4,"method":"tools/list"}`, -32600},
		{`"just a string"`, -32600},
		{strings.Repeat("x", 5<<20), -32600},
	} {
		send(c.line)
		if m := next(); code(m) != c.code {
			t.Errorf("%.40q: got %v; want error %v", c.line, m, c.code)
		}
	}
	// Null arguments once crashed the SDK's default filling.
	send(`{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"elf_query","arguments":null}}`)
	if m := next(); m["result"] == nil {
		t.Errorf("elf_query with null arguments: %v", m)
	}
	send(`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"elf_search","arguments":{"query":"busy"}}}`)
	if m := next(); m["result"] == nil || m["id"].(float64) != 9 {
		t.Errorf("after bad lines: %v", m)
	}
}
