// Package layout holds the facts about a root's layout on disk that every
// other package must agree on: where the root is (ResolveRoot: --root, else
// $ELF_HOME, else $ELF_BASE_PATH, else ~/.claude/emergent-learning), the
// memory folder's name, the index files inside it, which record type lives
// in which top-level folder, and which names under memory/ are noise that
// elfsync neither indexes nor commits.
//
// It owns no state. Its only I/O is CheckRoot's look at whether the root
// exists: a missing root is ErrNoRoot with the command that creates it
// (elfsync init), never a new, empty memory. It exists so that these facts
// are written down once: the watcher, the indexer, the committer, the
// command line, the record writer and the bench all import them from here
// instead of keeping copies that drift apart.
package layout
