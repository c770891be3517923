package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"time"
)

// elfStatus is the part of `elfsync status --json` the harness reads.
type elfStatus struct {
	InSync      bool     `json:"in_sync"`
	Files       int      `json:"files"`
	Rows        int      `json:"rows"`
	MissingRows []string `json:"missing_rows"`
	Uncommitted []string `json:"uncommitted"`
	Watcher     struct {
		Running bool `json:"running"`
	} `json:"watcher"`
}

// status runs `elfsync status --json`; its exit status 1 only means drift.
func (e *env) status(ctx context.Context, root string, noGit bool) (elfStatus, error) {
	args := []string{"status", "--root", root, "--json"}
	if noGit {
		args = append(args, "--no-git")
	}
	out, err := runCmd(ctx, time.Minute, root, e.bin, args...)
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
		return elfStatus{}, err
	}
	var st elfStatus
	if jerr := json.Unmarshal(out, &st); jerr != nil {
		return elfStatus{}, fmt.Errorf("elfsync status --json: %w (%v)", jerr, err)
	}
	return st, nil
}

// waitInSync polls `elfsync status` until it reports in sync with at least
// files record files, and returns when it first did.
func (e *env) waitInSync(ctx context.Context, root string, files int, noGit bool, timeout time.Duration) (time.Time, elfStatus, error) {
	var st elfStatus
	var at time.Time
	err := pollUntil(ctx, time.Now().Add(timeout), 200*time.Millisecond, "elfsync status in sync", func() (bool, error) {
		var err error
		st, err = e.status(ctx, root, noGit)
		if err != nil {
			return false, err
		}
		at = time.Now()
		return st.InSync && st.Files >= files, nil
	})
	if err != nil {
		return time.Time{}, st, fmt.Errorf("%w (last status: in_sync=%v files=%d rows=%d missing=%d uncommitted=%d)",
			err, st.InSync, st.Files, st.Rows, len(st.MissingRows), len(st.Uncommitted))
	}
	return at, st, nil
}
