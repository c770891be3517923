package frontmatter

import "github.com/emergent-learning/elfsync/layout"

// Ignored reports whether a path under the memory folder is noise that
// elfsync neither indexes nor commits. It is layout.Ignored, kept here for
// the packages that already ask the file format.
func Ignored(rel string) bool { return layout.Ignored(rel) }

// IsRecord reports whether a path under the memory folder names a memory
// record (layout.IsRecord).
func IsRecord(rel string) bool { return layout.IsRecord(rel) }
