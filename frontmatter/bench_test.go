package frontmatter

import (
	"strings"
	"testing"
	"time"
)

// typicalNote is a 2 KB record as an agent writes one: frontmatter with
// the usual fields, then a few sections of markdown.
var typicalNote = func() []byte {
	var b strings.Builder
	b.WriteString(`---
type: failure
title: SQLite busy under concurrent inserts
domain: sqlite
severity: high
tags: [sqlite, concurrency, locking]
created: 2025-12-01T10:00:00Z
summary: busy_timeout was 0 so concurrent INSERTs failed at once with "database is locked".
agent: builder-3
---
# SQLite busy under concurrent inserts

## What happened

`)
	for b.Len() < 1900 {
		b.WriteString("Twenty agents wrote to the index at once and four of them got database is locked.\n")
	}
	b.WriteString("\n## Prevention\n\nSet busy_timeout and WAL before any concurrent write.\n")
	return []byte(b.String())
}()

// BenchmarkParse parses the typical note, whose frontmatter simpleFields
// reads without yaml.v3.
func BenchmarkParse(b *testing.B) {
	in := Input{Path: "failures/20251201_sqlite-busy.md", Data: typicalNote, ModTime: time.Now()}
	b.SetBytes(int64(len(typicalNote)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseLegacy parses a bold-field file of the framework's own.
func BenchmarkParseLegacy(b *testing.B) {
	var in Input
	for _, f := range loadCorpus(b) {
		if f.root == "legacy" && strings.HasPrefix(f.in.Path, "failures/") {
			in = f.in
			break
		}
	}
	b.SetBytes(int64(len(in.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseFullYAML parses the typical note with its tags as a block
// list, which simpleFields leaves to yaml.v3.
func BenchmarkParseFullYAML(b *testing.B) {
	data := []byte(strings.Replace(string(typicalNote), "tags: [sqlite, concurrency, locking]\n",
		"tags:\n  - sqlite\n  - concurrency\n  - locking\n", 1))
	in := Input{Path: "failures/20251201_sqlite-busy.md", Data: data, ModTime: time.Now()}
	if _, ok, _ := simpleFields(data, 0); ok {
		b.Fatal("simpleFields takes the block-list note")
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(in); err != nil {
			b.Fatal(err)
		}
	}
}
