package indexer

// walkAsync starts walkTree(prefix) in the background, so that the lstat
// calls of the walk overlap the caller's SQLite reads (each is about half of
// `status` on a large tree). The returned function waits for the walk and
// then calls visit for every file found, in walk order, from the caller's
// goroutine; it returns what walkTree returned.
func (ix *Index) walkAsync(prefix string) func(visit func(rel string, size, mtime int64)) ([]string, error) {
	var (
		files      []walked
		unreadable []string
		err        error
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		files, unreadable, err = ix.walkTree(prefix)
	}()
	return func(visit func(rel string, size, mtime int64)) ([]string, error) {
		<-done
		for _, f := range files {
			visit(f.rel, f.size, f.mtime)
		}
		return unreadable, err
	}
}
