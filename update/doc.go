// Package update changes the memory on behalf of a command or an MCP tool
// and then makes sure the index follows: it bumps a heuristic's counter in
// its file (through package edit) or records a new memory (through package
// record), and, when no `elfsync watch` runs for the root, indexes the
// changed file at once, so the next search or briefing sees it. With a
// watcher running it leaves indexing and committing to the watcher, and
// says so.
//
// The files stay the only truth: nothing here writes a row that the file
// does not say. Processes indexing at once take turns on a lock file
// (memory/.elfsync/index.lock), so the last one reads the file after the
// last change and the row ends right.
//
// It does not commit (the watcher or the next scan does), parse markdown
// (frontmatter does) or speak SQL (indexer and query do).
package update
