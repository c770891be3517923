package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/emergent-learning/elfsync/edit"
	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/indexer"
	"github.com/emergent-learning/elfsync/mcpserver"
)

func cmdMCP(ctx context.Context, e *cmdEnv, args []string) error {
	fs, rootFlag := e.newFlagSet("mcp", "[--root ROOT]", `
Serve the memory to an agent over the Model Context Protocol on stdin and
stdout, with the framework MCP server's tools (elf_query, elf_search,
elf_record_failure, elf_record_heuristic, elf_ceo_inbox) plus elf_get,
elf_validate_heuristic and elf_violate_heuristic. Logs go to stderr.

Recording writes files only, exactly as 'elfsync record' does; with no
watcher running the new file is also indexed at once, so the next search
finds it, and 'elfsync scan' or 'elfsync watch' commits it.

Claude Code:  claude mcp add elf -- elfsync mcp
Other clients: {"mcpServers": {"elf": {"command": "elfsync", "args": ["mcp"]}}}`)
	var lf logFlags
	lf.register(fs)
	root, err := e.parseRoot(fs, args, rootFlag)
	if err != nil {
		return err
	}
	log, err := lf.logger(e.stderr)
	if err != nil {
		return &exitError{Code: 2, Err: err}
	}
	w := mcpWriter{root: root, e: e}
	srv := mcpserver.New(mcpserver.Options{Root: root, Recorder: w, Counter: w, Version: version, Logger: log})
	return srv.Run(ctx, e.stdin, e.stdout)
}

// mcpWriter adapts `elfsync record` and `elfsync heuristic` to the MCP
// server's Recorder and Counter.
type mcpWriter struct {
	root string
	e    *cmdEnv
}

// Record writes a record as `elfsync record TYPE` does with these flags.
func (w mcpWriter) Record(ctx context.Context, typ string, fields map[string]string) (mcpserver.Written, error) {
	var kind recordKind
	for _, k := range recordKinds {
		if k.typ == typ {
			kind = k
		}
	}
	if kind.typ == "" {
		return mcpserver.Written{}, fmt.Errorf("unknown record type %q", typ)
	}
	created, err := recordNow(w.e)
	if err != nil {
		return mcpserver.Written{}, err
	}
	in := make(map[string]string, len(fields))
	for k, v := range fields {
		in[k] = v
	}
	r, err := buildRecord(kind, in, created)
	if err != nil {
		return mcpserver.Written{}, err
	}
	data, err := frontmatter.Encode(r)
	if err != nil {
		return mcpserver.Written{}, err
	}
	title := r.Title
	if kind.typ == frontmatter.TypeHeuristic {
		title = r.Rule
	}
	memDir := filepath.Join(w.root, indexer.MemoryDir)
	path, err := writeRecord(filepath.Join(memDir, kind.folder), r.Created, frontmatter.Slug(title), data)
	if err != nil {
		return mcpserver.Written{}, err
	}
	rel, err := filepath.Rel(memDir, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return mcpserver.Written{}, fmt.Errorf("recorded file %s is outside %s", path, memDir)
	}
	rel = filepath.ToSlash(rel)
	out := mcpserver.Written{Path: indexer.MemoryDir + "/" + rel}
	if inst := readInstance(w.root); inst.Running {
		out.WatcherPID = inst.PID
		return out, nil
	}
	if err := indexPaths(ctx, w.root, []string{rel}); err != nil {
		return out, fmt.Errorf("%s is written but indexing it failed (the next scan will): %w", out.Path, err)
	}
	out.IndexedNow = true
	return out, nil
}

// Bump bumps a heuristic's counter as `elfsync heuristic` does.
func (w mcpWriter) Bump(ctx context.Context, ref string, violated bool) (mcpserver.Bumped, error) {
	c := edit.Validated
	if violated {
		c = edit.Violated
	}
	r, err := bumpHeuristic(ctx, w.root, ref, c)
	if err != nil {
		return mcpserver.Bumped{}, err
	}
	return mcpserver.Bumped{Path: r.Path, TimesValidated: r.Validated, TimesViolated: r.Violated, IndexedNow: r.Indexed, WatcherPID: r.WatcherPID}, nil
}
