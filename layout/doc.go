// Package layout holds the facts about a root's layout on disk that every
// other package must agree on: the memory folder's name, the index files
// inside it, which record type lives in which top-level folder, and which
// names under memory/ are noise that elfsync neither indexes nor commits.
//
// It owns no state and does no I/O. It exists so that these facts are
// written down once: the watcher, the indexer, the committer, the command
// line, the record writer and the bench all import them from here instead
// of keeping copies that drift apart.
package layout
