package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// zk, the nearest peer (Go, SQLite + FTS5, a folder of markdown notes),
// pinned to one version and built with its FTS5 tag into the user's cache
// once. The module proxy does not serve it and it needs cgo, so on many
// machines it cannot be built: the harness then says so in a note under
// the table and goes on.
const (
	zkModule  = "github.com/zk-org/zk"
	zkVersion = "v0.15.2"
)

// buildZK returns the path of a zk binary, building it when the cache has
// none, or "" after adding a note that says why there is none.
func (e *env) buildZK(ctx context.Context, goTool string) string {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "elfsync-bench", "zk-"+zkVersion)
	bin := filepath.Join(dir, "zk")
	if fileExists(bin) {
		return bin
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		e.res.note("zk: not buildable here (%v)", err)
		return ""
	}
	e.logf("building zk %s with -tags fts5 into %s", zkVersion, dir)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := command(ctx, goTool, "install", "-tags", "fts5", zkModule+"@"+zkVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "CGO_ENABLED=1", "GOFLAGS=-mod=mod")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil || !fileExists(bin) {
		reason := lastLine(out.String())
		if reason == "" && err != nil {
			reason = err.Error()
		}
		e.res.note("zk %s: not buildable here (`go install -tags fts5 %s@%s`: %s)", zkVersion, zkModule, zkVersion, reason)
		e.logf("zk not built: %s", tail(out.String(), 600))
		return ""
	}
	return bin
}

// lastLine is the last non-empty line of s, shortened for a table note.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	if len(l) > 160 {
		l = l[:157] + "..."
	}
	return l
}

// zkIndex times `zk index` of mem as a notebook; cold removes zk's
// database first.
func (e *env) zkIndex(ctx context.Context, mem string, files int, cold bool) (timed, error) {
	zkDir := filepath.Join(mem, ".zk")
	if err := os.MkdirAll(zkDir, 0o755); err != nil {
		return timed{}, err
	}
	if cfg := filepath.Join(zkDir, "config.toml"); !fileExists(cfg) {
		if err := os.WriteFile(cfg, []byte("[note]\nlanguage = \"en\"\n"), 0o644); err != nil {
			return timed{}, err
		}
	}
	if cold {
		if err := removeDB(filepath.Join(zkDir, "notebook.db")); err != nil {
			return timed{}, err
		}
	}
	timeout := time.Minute + time.Duration(files)*20*time.Millisecond
	return timedRun(ctx, timeout, e.timeTool, e.work, e.zk, "index", "--notebook-dir", mem)
}
