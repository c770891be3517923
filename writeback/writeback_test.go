package writeback

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/indexer"
)

// fakeIndex has pending changes until written back; the first write-back
// fails once, to show the loop survives an error.
type fakeIndex struct {
	mu      sync.Mutex
	pending int
	calls   int
	failed  bool
}

func (f *fakeIndex) HasChanges(context.Context) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pending > 0, nil
}

func (f *fakeIndex) HasChangesNow(ctx context.Context) (bool, error) { return f.HasChanges(ctx) }

func (f *fakeIndex) WriteBack(context.Context, string) (indexer.WriteBackResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if !f.failed {
		f.failed = true
		return indexer.WriteBackResult{}, errors.New("busy")
	}
	f.pending = 0
	return indexer.WriteBackResult{Changed: []string{"memory/failures/a.md"}}, nil
}

func (f *fakeIndex) HostID() (string, error) { return "h-test0001", nil }

func (f *fakeIndex) add() {
	f.mu.Lock()
	f.pending++
	f.mu.Unlock()
}

func TestLoopWritesBackAndNotifies(t *testing.T) {
	ix := &fakeIndex{}
	got := make(chan []string, 10)
	l := New(ix, func(p []string) { got <- p }, zerolog.Nop(), time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	ix.add()
	select {
	case p := <-got:
		if len(p) != 1 || p[0] != "memory/failures/a.md" {
			t.Errorf("notified %q", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no write-back after a failure")
	}
	// A change left at the stop is written back before Run returns.
	ix.add()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if ok, _ := ix.HasChanges(context.Background()); ok {
		t.Error("Run returned with changes left")
	}
}

// okIndex is a fakeIndex whose write-backs never fail.
type okIndex struct{ fakeIndex }

func (f *okIndex) WriteBack(context.Context, string) (indexer.WriteBackResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.pending = 0
	return indexer.WriteBackResult{Changed: []string{"memory/failures/a.md"}}, nil
}

// With an hour between polls, only Kick can make the loop write back.
func TestKickWakesTheLoop(t *testing.T) {
	ix := &okIndex{}
	got := make(chan []string, 4)
	l := New(ix, func(p []string) { got <- p }, zerolog.Nop(), time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	for i := 0; i < 3; i++ {
		ix.add()
		l.Kick()
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Fatalf("kick %d: no write-back within 10 s", i)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
