// Package record writes a new memory file the way `elfsync record` and the
// scripts/record-*.sh scripts do: it validates raw field values (the old
// framework's limits, severity and confidence words, required fields),
// builds the frontmatter.Record, encodes it with frontmatter.Encode, and
// puts the file under memory/<folder>/ atomically and under a name no other
// file has.
//
// It owns the rules of recording (which fields each type takes, their
// limits, the environment variables the scripts read them from and
// $ELF_NOW, the file's name) and the atomic write; and, for the commands
// that read records straight from the files (check, list), Read, ReadPath
// and Walk, which read a file the way the indexer does, WriteFields, the
// field listing `elfsync check` prints, and List, the lines of `elfsync
// list`. It does not index or commit: the watcher and the committer see the
// new file like any other. The command line and the MCP server both record
// through Write, so a record made by an agent over MCP is byte for byte the
// one `elfsync record` or a script would make.
package record
