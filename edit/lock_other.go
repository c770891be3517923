//go:build !unix && !windows

package edit

import "os"

// lock is a no-op where the OS offers no file lock elfsync uses; edits
// from one process are still serialised by the caller.
func lock(*os.File) error   { return nil }
func unlock(*os.File) error { return nil }
