package indexer

// walkAsync starts walkTreeMatch(prefix, match) in the background, so that
// the lstat calls of the walk overlap the caller's SQLite reads (each is
// about half of `status` on a large tree). The returned function waits for
// the walk and returns what it found.
func (ix *Index) walkAsync(prefix string, match func(name string) bool) func() (walkResult, error) {
	var (
		r   walkResult
		err error
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r, err = ix.walkTreeMatch(prefix, match)
	}()
	return func() (walkResult, error) {
		<-done
		return r, err
	}
}
