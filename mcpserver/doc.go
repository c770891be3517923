// Package mcpserver serves the memory to agents over the Model Context
// Protocol, with the framework MCP server's tool names and arguments
// (elf_query, elf_search, elf_record_failure, elf_record_heuristic,
// elf_ceo_inbox), so that a user swaps the command in an agent's
// configuration and nothing else, plus elf_get, elf_validate_heuristic and
// elf_violate_heuristic.
//
// Reads go through package query on a read-only connection, reopened when
// the index file is replaced. Writes never touch SQLite or git: recording
// and counter bumps go through the Recorder and Counter the caller passes
// in, which write files only: Files does it through package update, as
// `elfsync record` and `elfsync heuristic` do (`elfsync mcp` passes it;
// tests pass fakes).
//
// Every argument comes from a language model and is treated as hostile:
// each has a length limit, checked both in the input schema and in the
// handler; paths are checked by edit.Resolve before anything is read;
// nothing is run as a command or spliced into SQL. A failing call is a
// tool error with a message (the result's isError), never a crash; a
// malformed JSON-RPC message gets a protocol error from the SDK and the
// session goes on.
package mcpserver
