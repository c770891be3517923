// Package corpus generates memory folders for benchmarks and stress tests:
// notes spread over the framework's type folders and a configurable number
// of subdirectories, deterministic for a seed. By default (Real) the text
// is English prose from the Go sources' comments and the files take every
// shape the framework writes; Small is the first, 56-word corpus.
package corpus

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/emergent-learning/elfsync/layout"
)

// Prose is the text a corpus is written in.
type Prose string

const (
	// Real is English drawn from the Go sources' comments (see Sentences),
	// notes in the formats the framework writes: frontmatter as
	// frontmatter.Encode and the record scripts write it, the older
	// bold-field files, and multi-heuristic domain files. The default.
	Real Prose = "real"
	// Small is the first corpus: a 56-word vocabulary, frontmatter only.
	// It stays as one labelled row of the benchmark, for comparison with
	// earlier figures.
	Small Prose = "small"
)

// Options shape a corpus.
type Options struct {
	Notes int    // how many files
	Dirs  int    // spread over about this many directories (at least one per type folder)
	Seed  uint64 // same seed (and, for Real, same Go version), same corpus
	Prose Prose  // "" means Real
}

// Types are the folders notes go in, with the frontmatter type they imply.
var Types = layout.Kinds

var (
	domains = []string{"git", "sqlite", "bash", "coordination", "testing", "ci", "networking", "python", "go", "docs"}
	words   = strings.Fields(`the agent retried commit lock index query cache build test deploy branch merge
		timeout worker queue file watcher parser schema migration rollback snapshot latency throughput
		memory heuristic failure success decision experiment observation context token budget review
		shell script environment variable path symlink permission network request response error`)
)

// Generate writes opts.Notes files under memDir (the memory folder) and
// returns their memory-relative paths.
func Generate(memDir string, opts Options) ([]string, error) {
	if opts.Prose == Real || opts.Prose == "" {
		return generateReal(memDir, opts)
	}
	if opts.Prose != Small {
		return nil, fmt.Errorf("corpus: unknown prose %q (want %q or %q)", opts.Prose, Real, Small)
	}
	if opts.Dirs < len(Types) {
		opts.Dirs = len(Types)
	}
	r := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	paths := make([]string, 0, opts.Notes)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var sb strings.Builder
	for i := 0; i < opts.Notes; i++ {
		t := Types[i%len(Types)]
		created := base.Add(time.Duration(r.IntN(700*24)) * time.Hour)
		title := sentence(r, 4+r.IntN(6))
		rel := fmt.Sprintf("%s/%s_%s-%d.md", noteDir(t.Folder, i, opts.Dirs), created.Format("20060102"), slug(title), i)
		sb.Reset()
		Note(&sb, r, t.Type, title, created)
		if err := writeFile(memDir, rel, sb.String()); err != nil {
			return nil, err
		}
		paths = append(paths, rel)
	}
	return paths, nil
}

// noteDir is the folder of the i-th note of a type folder, spread over
// about dirs directories in all.
func noteDir(folder string, i, dirs int) string {
	if dirs <= len(Types) {
		return folder
	}
	return fmt.Sprintf("%s/d%03d", folder, (i/len(Types))%(dirs/len(Types)))
}

func writeFile(memDir, rel, content string) error {
	full := filepath.Join(memDir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	return os.WriteFile(full, []byte(content), 0o644)
}

// Note writes one note of the given type to sb.
func Note(sb *strings.Builder, r *rand.Rand, typ, title string, created time.Time) {
	domain := domains[r.IntN(len(domains))]
	fmt.Fprintf(sb, "---\ntype: %s\ntitle: %q\ndomain: %s\n", typ, title, domain)
	fmt.Fprintf(sb, "tags: [%s, %s]\n", words[r.IntN(len(words))], domain)
	if typ == "heuristic" {
		fmt.Fprintf(sb, "rule: %q\nconfidence: %.2f\nsource_type: failure\n", sentence(r, 8), r.Float64())
	} else {
		fmt.Fprintf(sb, "severity: %d\n", 1+r.IntN(5))
	}
	fmt.Fprintf(sb, "created: %s\n---\n\n# %s\n\n## Summary\n\n%s\n", created.Format(time.DateOnly), title, sentence(r, 20))
	// Bodies of 1-4 KB in paragraphs of about 300 bytes.
	target := 1024 + r.IntN(3072)
	for _, h := range []string{"What Happened", "Root Cause", "Prevention"} {
		fmt.Fprintf(sb, "\n## %s\n\n", h)
		for sb.Len() < target*len(h)/12 && sb.Len() < target {
			sb.WriteString(sentence(r, 45))
			sb.WriteString("\n\n")
		}
	}
	for sb.Len() < target {
		sb.WriteString(sentence(r, 45))
		sb.WriteString("\n\n")
	}
}

func sentence(r *rand.Rand, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[r.IntN(len(words))])
	}
	s := b.String()
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

func slug(s string) string {
	s = strings.ToLower(strings.TrimSuffix(s, "."))
	s = strings.ReplaceAll(s, " ", "-")
	if len(s) > 40 {
		s = strings.TrimRight(s[:40], "-")
	}
	return s
}
