package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/emergent-learning/elfsync/bench/corpus"
	"github.com/emergent-learning/elfsync/query"
)

// The search scenario measures the read side on the scan scenario's
// corpora (generated here when the scan scenario did not run): `elfsync
// search` and `elfsync context` as processes, start to exit, as an agent's
// hook runs them; and elf_search and elf_query inside one `elfsync mcp`
// server, one call's round trip over stdio, as an agent's MCP client sees
// it. The corpus is the scan's real-prose one (bench/corpus), in which
// these words are common but far from universal. The same searches in
// this process (package query: no process start, no JSON-RPC) show how
// much of either figure is the full-text search itself.

// searchQueries mix one-word and two-word queries of the corpus's
// vocabulary, and one that matches nothing.
var searchQueries = []string{
	"lock", "commit timeout", "schema migration", "watcher", "rollback snapshot",
	"token budget", "symlink permission", "deploy", "latency", "zzznomatch",
}

func (e *env) scenarioSearch(ctx context.Context) error {
	for _, n := range e.cfg.ScanSizes {
		if err := e.searchSize(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

func (e *env) searchSize(ctx context.Context, n int) error {
	cas := fmt.Sprintf("%s notes", kilo(n))
	on := func(size int, op string, limit float64, text string) *Target {
		return targetIf(n == size, op, limit, text)
	}
	e.res.expect("search (process)", cas, "p50", "ms", on(20000, "<=", 30, "≤ 30 ms"))
	e.res.expect("search (process)", cas, "p99", "ms", nil)
	e.res.expect("search (MCP)", cas, "p50", "ms", func() *Target {
		if n == 100000 {
			return &Target{"<=", 20, "≤ 20 ms"}
		}
		return on(20000, "<=", 5, "≤ 5 ms")
	}())
	e.res.expect("search (MCP)", cas, "p99", "ms", nil)
	e.res.expect("search (in-process)", cas, "p50", "ms", nil)
	e.res.expect("context (process)", cas, "p50", "ms", on(20000, "<=", 50, "≤ 50 ms"))
	e.res.expect("context (MCP)", cas, "p50", "ms", nil)

	root := scanRoot(e.work, corpus.Real, n)
	if _, err := os.Stat(indexPath(root)); err != nil {
		if _, err := os.Stat(filepath.Join(root, "memory")); err != nil {
			if _, err := makeCorpus(root, n, scanDirs(n), e.cfg.Seed, corpus.Real); err != nil {
				return err
			}
		}
		cmd := exec.CommandContext(ctx, e.bin, "scan", "--root", root, "--no-git")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("scan %s: %v: %s", root, err, out)
		}
	}
	calls := 200
	procs := 50
	if e.cfg.Quick {
		calls, procs = 30, 10
	}
	for run := 1; run <= e.cfg.runs("search"); run++ {
		if err := e.searchRun(ctx, root, cas, procs, calls); err != nil {
			e.res.fail("search (process)", cas, run, err)
			if ctx.Err() != nil {
				return err
			}
		}
	}
	return nil
}

func (e *env) searchRun(ctx context.Context, root, cas string, procs, calls int) error {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	timeProc := func(args ...string) (float64, error) {
		cmd := exec.CommandContext(ctx, e.bin, args...)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("elfsync %v: %v: %s", args, err, out)
		}
		return ms(time.Since(start)), nil
	}
	var search, brief []float64
	for i := range procs {
		v, err := timeProc("search", "--root", root, searchQueries[i%len(searchQueries)])
		if err != nil {
			return err
		}
		search = append(search, v)
		if v, err = timeProc("context", "--root", root, "--domain", "git"); err != nil {
			return err
		}
		brief = append(brief, v)
	}
	e.res.add("search (process)", cas, "p50", "ms", percentile(search, 50))
	e.res.add("search (process)", cas, "p99", "ms", percentile(search, 99))
	e.res.add("context (process)", cas, "p50", "ms", percentile(brief, 50))
	procP50 := percentile(search, 50)

	cmd := exec.CommandContext(ctx, e.bin, "mcp", "--root", root)
	client := mcp.NewClient(&mcp.Implementation{Name: "elfsync-bench", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		return fmt.Errorf("start elfsync mcp: %w", err)
	}
	defer cs.Close()
	call := func(name string, args map[string]any) (float64, error) {
		start := time.Now()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		d := time.Since(start)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		if res.IsError {
			return 0, fmt.Errorf("%s: tool error", name)
		}
		return ms(d), nil
	}
	search, brief = nil, nil
	for i := range calls {
		v, err := call("elf_search", map[string]any{"query": searchQueries[i%len(searchQueries)]})
		if err != nil {
			return err
		}
		search = append(search, v)
	}
	for range max(calls/4, 5) {
		v, err := call("elf_query", map[string]any{"domain": "git"})
		if err != nil {
			return err
		}
		brief = append(brief, v)
	}
	e.res.add("search (MCP)", cas, "p50", "ms", percentile(search, 50))
	e.res.add("search (MCP)", cas, "p99", "ms", percentile(search, 99))
	e.res.add("context (MCP)", cas, "p50", "ms", percentile(brief, 50))
	mcpP50 := percentile(search, 50)

	db, err := query.Open(ctx, root)
	if err != nil {
		return err
	}
	defer db.Close()
	search = nil
	for i := range calls {
		start := time.Now()
		if _, err := db.Search(ctx, query.Query{Text: searchQueries[i%len(searchQueries)]}); err != nil {
			return fmt.Errorf("search in process: %w", err)
		}
		search = append(search, ms(time.Since(start)))
	}
	e.res.add("search (in-process)", cas, "p50", "ms", percentile(search, 50))
	e.logf("  search on %s: process p50 %.1f ms, MCP p50 %.1f ms, in-process p50 %.1f ms", cas, procP50, mcpP50, percentile(search, 50))
	return nil
}
