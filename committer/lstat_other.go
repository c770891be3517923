//go:build !linux

package committer

// lstatEntry is not implemented here: status runs git status.
func lstatEntry(string) (WorkEntry, error) { return WorkEntry{}, errNoLstat }
