package indexer

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Describing a domain file's change for a commit message
//
// A commit body names each changed file with its record's title. A
// framework domain file (heuristics/<domain>.md) holds many heuristics,
// so its first one's rule says nothing about what changed. Write-back
// knows what it changed there (a counter, the confidence, a rule; a
// section the framework's MCP server appended; a section removed) and
// notes it per file, with the hash of the file it wrote; while the file
// is still that version the note describes it: "H-7: Rebase, then push
// (validated, confidence)". A file changed otherwise (by hand, or since)
// is described by its heuristics: "3 heuristics: H-1, H-2, H-7".

// sectionNote is what write-back changed in one domain file since its
// last description.
type sectionNote struct {
	hash      [32]byte // the file as write-back left it
	size      int      // its length
	ids       []int64  // sections, in the order changed
	what      map[int64]*sectionChange
	described bool // a commit message used it: the next change starts afresh
}

type sectionChange struct {
	added, removed bool
	fields         []string // "validated", "confidence", "rule", ...
}

// noteSection records that write-back changed section id of the domain
// file rel (memory-relative) from before to after; fields names what it
// set ("added", "removed" for a whole section).
func (ix *Index) noteSection(rel string, before, after []byte, id int64, fields ...string) {
	if ix.notes == nil {
		ix.notes = map[string]*sectionNote{}
	}
	fp := rootRel(rel)
	n := ix.notes[fp]
	if n == nil || n.described || n.hash != sha256.Sum256(before) {
		n = &sectionNote{what: map[int64]*sectionChange{}}
		ix.notes[fp] = n
	}
	n.hash, n.size = sha256.Sum256(after), len(after)
	c := n.what[id]
	if c == nil {
		c = &sectionChange{}
		n.what[id] = c
		n.ids = append(n.ids, id)
	}
	for _, f := range fields {
		switch f {
		case "added":
			c.added = true
		case "removed":
			c.removed = true
		default:
			if !containsString(c.fields, f) {
				c.fields = append(c.fields, f)
			}
		}
	}
}

// noteAppended records that section id was appended to the domain file
// rel by another process (the framework's MCP server, after its INSERT):
// a note of write-back's own changes still holds if the file only grew
// since.
func (ix *Index) noteAppended(rel string, id int64) {
	data, err := os.ReadFile(filepath.Join(ix.memDir, filepath.FromSlash(rel)))
	if err != nil {
		return
	}
	before := data
	if n := ix.notes[rootRel(rel)]; n != nil && n.size <= len(data) {
		before = data[:n.size]
	}
	ix.noteSection(rel, before, data, id, "added")
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// describeDomainFile describes the domain file fp (root-relative) for a
// commit message: what write-back changed in it, if the file is still
// as write-back left it, else its heuristics. The caller holds ix.mu.
func (ix *Index) describeDomainFile(ctx context.Context, fp string) string {
	rows, err := ix.db.QueryContext(ctx, `SELECT id, coalesce(rule, ''), elf_key FROM heuristics
		WHERE elf_key > ?1 || '#' AND elf_key < ?1 || '$' ORDER BY id`, fp)
	if err != nil {
		return ""
	}
	rules := map[int64]string{}
	var ids []int64
	for rows.Next() {
		var id int64
		var rule, key string
		if rows.Scan(&id, &rule, &key) != nil {
			break
		}
		if n, ok := keySection(key); ok {
			rules[n] = rule
		}
		ids = append(ids, id)
	}
	rows.Close()

	if n := ix.notes[fp]; n != nil {
		if data, err := os.ReadFile(filepath.Join(ix.opts.Root, filepath.FromSlash(fp))); err == nil && sha256.Sum256(data) == n.hash {
			n.described = true
			return n.describe(rules)
		}
		delete(ix.notes, fp) // changed since: the note is stale
	}
	if len(ids) == 0 {
		return ""
	}
	s := strconv.Itoa(len(ids)) + " heuristics"
	if len(ids) == 1 {
		s = "1 heuristic"
	}
	const maxIDs = 8
	names := make([]string, 0, min(len(ids), maxIDs))
	for i, id := range ids {
		if i == maxIDs {
			names = append(names, "…")
			break
		}
		names = append(names, "H-"+strconv.FormatInt(id, 10))
	}
	return s + ": " + strings.Join(names, ", ")
}

// describe says what changed: one section with its rule, several by id.
func (n *sectionNote) describe(rules map[int64]string) string {
	part := func(id int64) string {
		c := n.what[id]
		s := "H-" + strconv.FormatInt(id, 10)
		switch {
		case c.removed:
			return s + " removed"
		case c.added:
			return s + " added"
		case len(c.fields) > 0:
			return s + " " + strings.Join(c.fields, ", ")
		}
		return s + " updated"
	}
	if len(n.ids) == 1 {
		id := n.ids[0]
		s := part(id)
		if r := rules[id]; r != "" && !n.what[id].removed {
			s += ": " + r
		}
		return s
	}
	parts := make([]string, len(n.ids))
	for i, id := range n.ids {
		parts[i] = part(id)
	}
	return strings.Join(parts, "; ")
}
