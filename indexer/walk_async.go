package indexer

// walkAsync starts walkTreeWith(prefix, o) in the background, so that
// the lstat calls of the walk overlap the caller's SQLite reads (each is
// about half of `status` on a large tree). The returned function waits for
// the walk and returns what it found.
func (ix *Index) walkAsync(prefix string, o walkOpts) func() (walkResult, error) {
	var (
		r   walkResult
		err error
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r, err = ix.walkTreeWith(prefix, o)
	}()
	return func() (walkResult, error) {
		<-done
		return r, err
	}
}
