// Package query answers questions from the index: full-text search ranked
// by BM25 and the session briefing (golden rules, the best heuristics,
// recent and relevant failures and successes) within a token budget. It is
// the read side behind `elfsync search`, `elfsync context` and the MCP
// server.
//
// It opens memory/index.db read-only (mode=ro) and never writes to it: the
// indexer owns the rows, and the files are the truth. Every SQL statement
// of the package sits in sql.go, so that a change of the index schema is
// adapted in one place; ranking weights (rank.go), query quoting (match.go)
// and snippets (snippet.go) are kept apart from the joins.
//
// Snippets are computed in Go from the row's text and, for the body, from
// the record file itself (bounded), not with FTS5's snippet(): the
// full-text table may be contentless, in which case snippet() has no text
// to cut from.
//
// Output is deterministic for the same index: every ordering ends on a
// unique key. The outputs of the commands are written here too: hits as
// text (WriteHits) or JSON (WriteHitsJSON), the briefing as Markdown or
// JSON; ParseSince reads the --since forms (a date, 7d, 2w, 36h).
//
// The package does not parse the index's writes (indexer does), edit files
// (edit does) or serve MCP (mcpserver does).
package query
