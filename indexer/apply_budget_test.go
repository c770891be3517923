package indexer

import (
	"testing"
	"time"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestByteBudget(t *testing.T) {
	b := newByteBudget(100)
	b.take(250) // more than the limit passes when nothing is held
	b.give(250)
	b.take(60)
	b.take(40) // exactly the limit
	taken := make(chan struct{})
	go func() { b.take(10); close(taken) }()
	waitTaker(t, b, "the taker to wait")
	select {
	case <-taken:
		t.Fatal("take went past the limit")
	default:
	}
	b.give(0) // nothing returned: still waiting
	b.give(40)
	<-taken
	b.mu.Lock()
	if b.used != 70 {
		t.Errorf("used = %d, want 70", b.used)
	}
	b.mu.Unlock()

	// close lets a blocked taker through.
	b.take(30)
	done := make(chan struct{})
	go func() { b.take(50); close(done) }()
	waitTaker(t, b, "the second taker to wait")
	b.close()
	<-done
}

// waitTaker waits until one taker waits on b.
func waitTaker(t *testing.T, b *byteBudget, what string) {
	t.Helper()
	waitFor(t, what, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.waiting == 1
	})
}
