// Package writeback runs the loop that brings direct database writes of
// other processes (the framework's query tools, MCP server, dashboard and
// hooks writing learnings and heuristics rows) into the memory files
// within a fraction of a second, under `elfsync watch`.
//
// It owns only the schedule: a look at the index's change log when the
// watcher sees the index's WAL written (Kick) and 50 ms after, a slow
// stat-gated poll as the fallback, a write-back when there is something to
// write, and a notification of the changed paths to the committer. What a change means for a file (an
// UPDATE into frontmatter, a DELETE removing the file, an INSERT getting a
// file after a grace period, a mass delete restored) is the indexer's
// (indexer.Index.WriteBack), which is the only package that speaks SQL;
// file edits go through package edit. Without `watch`, `elfsync scan`
// writes the changes back when it runs.
package writeback
