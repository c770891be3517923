package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// readHEAD returns the commit HEAD points to in gitDir, reading the files
// directly so that polling it costs no process: HEAD, then the loose ref,
// then packed-refs. It returns "" for an unborn branch.
func readHEAD(gitDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	ref, ok := strings.CutPrefix(s, "ref: ")
	if !ok {
		return s, nil // detached
	}
	if b, err := os.ReadFile(filepath.Join(gitDir, filepath.FromSlash(ref))); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	f, err := os.Open(filepath.Join(gitDir, "packed-refs"))
	if os.IsNotExist(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if h, name, ok := strings.Cut(sc.Text(), " "); ok && name == ref {
			return h, nil
		}
	}
	return "", sc.Err()
}

// commitCount is `git rev-list --count HEAD` (0 before the first commit).
func commitCount(ctx context.Context, dir string) (int, error) {
	out, err := git(ctx, dir, "rev-list", "--count", "HEAD")
	if err != nil {
		if strings.Contains(err.Error(), "unknown revision") || strings.Contains(err.Error(), "ambiguous argument 'HEAD'") {
			return 0, nil
		}
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(out)))
}

// headFiles lists the paths in HEAD's tree under dir (relative to the
// repository's top).
func headFiles(ctx context.Context, dir string, under ...string) (map[string]bool, error) {
	args := append([]string{"ls-tree", "-r", "--name-only", "HEAD", "--"}, under...)
	out, err := git(ctx, dir, args...)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" {
			set[l] = true
		}
	}
	return set, nil
}

// commitObserver watches a repository's HEAD and notes, for every path,
// when the harness first saw it in a commit. It is owned by the goroutine
// that calls poll; read its fields after that goroutine ends.
type commitObserver struct {
	repo   string // the work tree (ROOT/memory for elfsync's own repository)
	gitDir string
	head   string
	seen   map[string]time.Time // path relative to repo → first seen
	want   map[string]bool      // paths whose arrival ends the observation
	got    int                  // how many of want were seen
	doneAt time.Time            // when the last of want was seen
	heads  int                  // HEAD changes observed
}

func newCommitObserver(ctx context.Context, repo string, want []string) (*commitObserver, error) {
	o := &commitObserver{repo: repo, gitDir: filepath.Join(repo, ".git"), seen: map[string]time.Time{}, want: map[string]bool{}}
	for _, p := range want {
		o.want[p] = true
	}
	h, err := readHEAD(o.gitDir)
	if err != nil {
		return nil, fmt.Errorf("read HEAD of %s: %w", repo, err)
	}
	o.head = h
	return o, nil
}

func (o *commitObserver) done() bool { return len(o.want) > 0 && o.got == len(o.want) }

// poll checks HEAD once and, if it moved, lists the paths of the new
// commits. The time stamped is the time of this check, so it is late by at
// most the polling interval plus the git log it runs.
func (o *commitObserver) poll(ctx context.Context) error {
	h, err := readHEAD(o.gitDir)
	if err != nil || h == "" || h == o.head {
		return err
	}
	now := time.Now()
	rng := h
	if o.head != "" {
		rng = o.head + ".." + h
	}
	out, err := git(ctx, o.repo, "log", "--format=", "--name-only", "--no-renames", rng)
	if err != nil {
		return err
	}
	o.head = h
	o.heads++
	for _, p := range strings.Split(string(out), "\n") {
		if p == "" {
			continue
		}
		if _, ok := o.seen[p]; ok {
			continue
		}
		o.seen[p] = now
		if o.want[p] {
			o.got++
			if o.done() {
				o.doneAt = now
			}
		}
	}
	return nil
}

// run polls every interval until all wanted paths were seen, stop is
// closed, or the deadline passes; it reports the first error.
func (o *commitObserver) run(ctx context.Context, interval time.Duration, deadline time.Time, stop <-chan struct{}) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := o.poll(ctx); err != nil {
			return err
		}
		if o.done() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("commits hold %d of %d paths at the deadline", o.got, len(o.want))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-stop:
			return o.poll(ctx)
		case <-t.C:
		}
	}
}

// gitClean reports whether `git status --porcelain` is empty in dir and
// how many files git tracks. --no-optional-locks keeps the harness from
// taking index.lock, which would make elfsync back off.
func gitClean(ctx context.Context, dir string) (clean bool, tracked int, err error) {
	st, err := git(ctx, dir, "--no-optional-locks", "status", "--porcelain")
	if err != nil {
		return false, 0, err
	}
	ls, err := git(ctx, dir, "--no-optional-locks", "ls-files")
	if err != nil {
		return false, 0, err
	}
	return strings.TrimSpace(string(st)) == "", strings.Count(string(ls), "\n"), nil
}
