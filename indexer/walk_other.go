//go:build !linux

package indexer

import (
	"io/fs"
	"path/filepath"
)

// walkDir is filepath.WalkDir; Linux has a faster one (walk_linux.go).
func walkDir(root string, fn fs.WalkDirFunc) error { return filepath.WalkDir(root, fn) }
