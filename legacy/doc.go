// Package legacy reads what the Emergent Learning Framework's older
// installs left behind and brings it across: `elfsync import`'s planning
// and writing (import.go: copy, rewrite and split files, match old rows to
// sections, keep legacy ids and counters) and the old index.db reader
// (olddb.go, read-only, tolerant of any column set).
//
// Adopting a live framework database in place, at the root elfsync runs
// on, is the indexer's job (it owns the schema); the framework's
// multi-heuristic domain files are parsed by frontmatter.ParseSections,
// which both use. The report's printing is here too (Report.WriteText,
// Report.WriteJSON: the lines and JSON `elfsync import` prints); the
// command line (flags, help, exit codes) is cmd/elfsync's.
package legacy
