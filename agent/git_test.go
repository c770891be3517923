package agent

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/committer"
)

// TestOpenCommitter checks that OpenCommitter returns the committer's
// own error unchanged and, on a root with a repository and no interrupted
// merge, an open committer.
func TestOpenCommitter(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("HOME", t.TempDir())
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "memory"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cfg := committer.Config{Root: root, Logger: zerolog.Nop(), ReadOnly: true}
	if _, err := OpenCommitter(ctx, cfg, true); !errors.Is(err, committer.ErrNoRepository) {
		t.Errorf("read-only without a repository: %v, want committer.ErrNoRepository", err)
	}
	cfg.ReadOnly = false
	cm, err := OpenCommitter(ctx, cfg, true)
	if err != nil || cm == nil {
		t.Fatalf("fresh root: %v, want an open committer", err)
	}
	if _, err := os.Stat(filepath.Join(root, "memory", ".git")); err != nil {
		t.Errorf("fresh root: no repository in memory/ after OpenCommitter: %v", err)
	}
}
