package agent

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/emergent-learning/elfsync/committer"
)

type fakeGit struct {
	res committer.Result
	err error
}

func (f fakeGit) CommitAll(context.Context) (committer.Result, error) { return f.res, f.err }

func TestOnce(t *testing.T) {
	ix := &fakeIndex{tr: &trace{}}
	sum, err := Once(context.Background(), ix, nil, time.Second, nil)
	if err != nil || sum.Added != 1 || sum.Committed != nil || sum.Invalid == nil {
		t.Errorf("without git: %+v, %v", sum, err)
	}
	ok := func() (GitOnce, error) {
		return fakeGit{res: committer.Result{Commit: "abc", Paths: []string{"memory/a.md"}}}, nil
	}
	sum, err = Once(context.Background(), ix, ok, time.Second, nil)
	if err != nil || sum.Committed == nil || sum.Committed.Commit != "abc" || sum.Committed.Paths != 1 {
		t.Errorf("with git: %+v, %v", sum, err)
	}
	busy := errors.New("index.lock held")
	for _, open := range []func() (GitOnce, error){
		func() (GitOnce, error) { return nil, busy },
		func() (GitOnce, error) { return fakeGit{err: busy}, nil },
	} {
		sum, err = Once(context.Background(), ix, open, time.Second, nil)
		if !errors.Is(err, ErrGit) || !errors.Is(err, busy) || sum.Added != 1 {
			t.Errorf("git failing: %+v, %v; want the index summary and ErrGit", sum, err)
		}
	}
	ix.scanErr = errors.New("disk full")
	if _, err := Once(context.Background(), ix, ok, time.Second, nil); err == nil || errors.Is(err, ErrGit) {
		t.Errorf("index failing: %v, want a non-git error", err)
	}
}
