package main

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/emergent-learning/elfsync/layout"
	"github.com/emergent-learning/elfsync/watcher"
)

func TestExitCode(t *testing.T) {
	gone := fmt.Errorf("watch /r/memory: %w", watcher.ErrRootGone)
	tests := []struct {
		name   string
		err    error
		code   int
		stderr string
	}{
		{"nil", nil, 0, ""},
		{"help", errHelp, 0, ""},
		{"flags", errFlags, 2, ""},
		{"usage", usagef("status takes no arguments, got %q", []string{"x"}), 2, "elfsync: status takes no arguments, got [\"x\"]\n"},
		{"no root", mark(layout.ErrNoRoot, errors.New("no root at /x")), 2, "elfsync: no root at /x\n"},
		{"drift", errNotInSync, 1, ""},
		{"cannot check", mark(errCannotCheck, errors.New("status: boom")), 2, "elfsync: status: boom\n"},
		{"wrapped kind", fmt.Errorf("outer: %w", usagef("inner")), 2, "elfsync: outer: inner\n"},
		{"other", gone, 1, "elfsync: watch /r/memory: memory folder removed or renamed\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if got := exitCode(tt.err, &b); got != tt.code || b.String() != tt.stderr {
				t.Errorf("exitCode = %d, printed %q; want %d, %q", got, b.String(), tt.code, tt.stderr)
			}
		})
	}
}
