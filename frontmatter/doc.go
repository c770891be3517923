// Package frontmatter turns the bytes of one memory file into a Record.
//
// It owns the file format: YAML frontmatter between "---" lines, read with
// YAML 1.2 semantics (so `no` stays the string "no"), and the framework's
// older bold-field style ("# Title" then "**Domain**: x" lines) for files
// without frontmatter. It also decides which names under memory/ are records
// and which are editor noise (Ignored, IsRecord).
//
// It does no I/O: callers read files and pass their bytes. It does not know
// about SQLite or git.
package frontmatter
