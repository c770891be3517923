// Package scripts holds the framework's shell scripts, record-failure.sh,
// record-success.sh and record-heuristic.sh (with their shared
// lib-record.sh), and the Go tests that run them. The scripts only write a
// memory file, atomically and under a unique name, in the format
// frontmatter.Encode defines; they never touch SQLite or git. There is no Go
// code here: this file exists so that the tests compile.
package scripts
