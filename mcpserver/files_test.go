package mcpserver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestFiles checks the Recorder and Counter `elfsync mcp` passes: a record
// is written at Now and indexed at once (no watcher runs), a bump counts in
// the file, and an error of Now writes nothing.
func TestFiles(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "memory"), 0o755); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC)
	f := Files{Root: root, Now: func() (time.Time, error) { return at, nil }}
	ctx := context.Background()
	w, err := f.Record(ctx, "heuristic", map[string]string{"domain": "git", "rule": "Pull before push"})
	if want := "memory/heuristics/20261101_pull-before-push.md"; err != nil || w.Path != want || !w.IndexedNow {
		t.Fatalf("Record = %+v, %v; want %s indexed now", w, err, want)
	}
	b, err := f.Bump(ctx, "heuristics/20261101_pull-before-push.md", true)
	if err != nil || b.TimesViolated != 1 || b.TimesValidated != 0 {
		t.Errorf("Bump(violated) = %+v, %v; want times_violated 1", b, err)
	}
	bad := errors.New("no clock")
	f.Now = func() (time.Time, error) { return time.Time{}, bad }
	if _, err := f.Record(ctx, "failure", map[string]string{"title": "x"}); !errors.Is(err, bad) {
		t.Errorf("Record with a failing Now = %v, want %v", err, bad)
	}
	if _, err := os.Stat(filepath.Join(root, "memory", "failures")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Record with a failing Now wrote memory/failures: %v", err)
	}
}
