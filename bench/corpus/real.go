package corpus

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path"
	"strings"
	"time"

	"github.com/emergent-learning/elfsync/frontmatter"
)

// The Real corpus. Of the files:
//
//   - about one in 150 is a domain file, memory/heuristics/<domain>.md, as
//     the framework's MCP server appends to it: a "# Heuristics: <domain>"
//     heading, then 3-40 "## H-<id>: <rule>" sections with bold
//     **Confidence**:, **Source**: and **Created**: lines and an
//     explanation, separated by "---";
//   - a quarter of the failures and successes are in the older bold-field
//     style, no frontmatter (`**Domain**: x` lines under the H1, and the
//     manual success template's `**Date:** x`);
//   - the rest carry frontmatter exactly as frontmatter.Encode and the
//     record scripts write it, followed by the sections the framework's
//     templates have (What Happened, Root Cause, ...).
//
// File sizes follow a log-normal distribution with a median of about
// 1.8 KB (400 B to 12 KB), the paragraphs 1-5 sentences. File names are
// YYYYMMDD_slug.md, with -2, -3 on a clash, as the scripts name them.

// domainNames are the domains of the Real corpus; past the list, names get
// a number (go-2, sqlite-2, ...).
var domainNames = strings.Fields(`git sqlite bash coordination testing ci networking python go docs
	security performance deployment database frontend backend api caching logging monitoring
	concurrency build packaging release documentation review refactoring debugging memory filesystem
	shell containers kubernetes cloud auth parsing scheduling storage search compilers editors`)

// DomainFilesPer is one domain file per this many files of a Real corpus.
const DomainFilesPer = 150

// A Writer renders Real notes one at a time, for scenarios that write
// notes as they go (a burst, a steady rate). It is not safe for concurrent
// use.
type Writer struct {
	r    *rand.Rand
	pool []string
	sb   strings.Builder
}

// NewWriter returns a Writer drawing from Sentences, seeded with seed.
func NewWriter(seed uint64) (*Writer, error) {
	pool, err := Sentences()
	if err != nil {
		return nil, err
	}
	return &Writer{r: rand.New(rand.NewPCG(seed, seed^0x2545f4914f6cdd1d)), pool: pool}, nil
}

// sentence returns one sentence of the pool at random.
func (w *Writer) sentence() string { return w.pool[w.r.IntN(len(w.pool))] }

// Title returns a short title: the first 4-9 words of a sentence.
func (w *Writer) Title() string {
	f := strings.Fields(w.sentence())
	n := min(len(f), 4+w.r.IntN(6))
	return strings.TrimRight(strings.Join(f[:n], " "), ".,:;?!")
}

// rule returns a heuristic's rule: one sentence without its full stop.
func (w *Writer) rule() string {
	return strings.TrimSuffix(w.sentence(), ".")
}

// paragraph returns 1-5 sentences.
func (w *Writer) paragraph() string {
	n := 1 + w.r.IntN(5)
	s := make([]string, n)
	for i := range s {
		s[i] = w.sentence()
	}
	return strings.Join(s, " ")
}

// size is a file size drawn from the log-normal distribution above.
func (w *Writer) size() int {
	v := math.Exp(math.Log(1800) + 0.6*w.r.NormFloat64())
	return int(min(max(v, 400), 12000))
}

func (w *Writer) domain() string { return domainNames[w.r.IntN(len(domainNames))] }

// tags returns 1-3 tags: words of the title and the domain.
func (w *Writer) tags(title, domain string) []string {
	tags := []string{domain}
	for _, f := range strings.Fields(strings.ToLower(title)) {
		f = strings.Trim(f, ".,:;?!()'\"")
		if len(f) > 3 && len(tags) < 3 && w.r.IntN(3) == 0 && !strings.ContainsAny(f, ",") {
			tags = append(tags, f)
		}
	}
	return tags
}

// sections are the framework templates' body sections per type.
var sections = map[string][]string{
	frontmatter.TypeFailure:     {"What Happened", "Root Cause", "Impact", "Prevention"},
	frontmatter.TypeSuccess:     {"What Worked", "Why It Worked", "Heuristic Extracted"},
	frontmatter.TypeHeuristic:   {"Evidence", "When It Applies"},
	frontmatter.TypeObservation: {"Context", "Observation"},
	frontmatter.TypeExperiment:  {"Hypothesis", "Method", "Result"},
	frontmatter.TypeDecision:    {"Context", "Decision", "Consequences"},
}

// body appends the type's sections to w.sb, paragraphs until the file
// reaches target bytes (every section gets at least one paragraph).
func (w *Writer) body(typ string, target int) {
	secs := sections[typ]
	for i, h := range secs {
		fmt.Fprintf(&w.sb, "\n## %s\n\n", h)
		for first := true; first || w.sb.Len() < target*(i+1)/len(secs); first = false {
			if w.r.IntN(8) == 0 {
				for range 2 + w.r.IntN(3) {
					w.sb.WriteString("- " + w.sentence() + "\n")
				}
			} else {
				w.sb.WriteString(w.paragraph() + "\n")
			}
			w.sb.WriteByte('\n')
		}
		// Trim the paragraph break the loop left; the next heading adds its own.
		s := strings.TrimRight(w.sb.String(), "\n")
		w.sb.Reset()
		w.sb.WriteString(s + "\n")
	}
}

// Note returns a note of type typ titled title, with frontmatter as
// frontmatter.Encode writes it and the type's template sections.
func (w *Writer) Note(typ, title string, created time.Time) []byte {
	domain := w.domain()
	rec := frontmatter.Record{
		Type: typ, Title: title, Domain: domain, Tags: w.tags(title, domain),
		Severity: 1 + w.r.IntN(5), Summary: w.paragraph(), Created: created.UTC().Truncate(time.Second),
	}
	if typ == frontmatter.TypeHeuristic {
		c := float64(w.r.IntN(101)) / 100
		rec.Rule, rec.Explanation, rec.Confidence = title, w.paragraph(), &c
		rec.SourceType = []string{"failure", "success", "observation"}[w.r.IntN(3)]
		rec.Severity, rec.Summary = 0, ""
	}
	head, err := frontmatter.Encode(rec)
	if err != nil {
		// The pool holds plain ASCII sentences and the type is one of
		// Types: Encode cannot refuse them.
		panic(fmt.Sprintf("corpus: encode %s note: %v", typ, err))
	}
	w.sb.Reset()
	w.sb.Write(head)
	w.body(typ, w.size())
	return []byte(w.sb.String())
}

// boldNote returns a failure or success in the older bold-field style.
func (w *Writer) boldNote(typ, title string, created time.Time) []byte {
	domain := w.domain()
	tags := w.tags(title, domain)
	w.sb.Reset()
	if typ == frontmatter.TypeSuccess {
		// The manual success template: colon inside the bold.
		fmt.Fprintf(&w.sb, "# Success: %s\n\n**Date:** %s\n**Domain:** %s\n**Significance:** %d\n**Tags:** %s\n",
			title, created.Format(time.DateOnly), domain, 1+w.r.IntN(5), strings.Join(tags, ", "))
	} else {
		fmt.Fprintf(&w.sb, "# %s\n\n**Domain**: %s\n**Severity**: %d\n**Tags**: %s\n**Date**: %s\n\n## Summary\n\n%s\n",
			title, domain, 1+w.r.IntN(5), strings.Join(tags, ","), created.Format(time.DateOnly), w.paragraph())
	}
	w.body(typ, w.size())
	return []byte(w.sb.String())
}

// domainFile returns a memory/heuristics/<domain>.md file holding n
// heuristics numbered from firstID.
func (w *Writer) domainFile(domain string, firstID, n int, base time.Time) []byte {
	w.sb.Reset()
	fmt.Fprintf(&w.sb, "# Heuristics: %s\n\nGenerated from failures, successes, and observations in the **%s** domain.\n\n---\n", domain, domain)
	for i := range n {
		created := base.Add(time.Duration(w.r.IntN(700*24)) * time.Hour)
		fmt.Fprintf(&w.sb, "\n## H-%d: %s\n\n**Confidence**: %.2f\n**Source**: %s\n**Created**: %s\n\n%s\n\n---\n",
			firstID+i, w.rule(), float64(50+w.r.IntN(50))/100,
			[]string{"failure", "success", "observation"}[w.r.IntN(3)],
			created.Format(time.DateOnly), w.paragraph())
	}
	return []byte(w.sb.String())
}

// IsDomainFile reports whether a memory-relative path is a multi-heuristic
// domain file (heuristics/<domain>.md, directly in the folder), which
// holds several records.
func IsDomainFile(rel string) bool {
	dir, name := path.Split(rel)
	return dir == "heuristics/" && !strings.Contains(name, "_")
}

func generateReal(memDir string, opts Options) ([]string, error) {
	if opts.Dirs < len(Types) {
		opts.Dirs = len(Types)
	}
	w, err := NewWriter(opts.Seed)
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	paths := make([]string, 0, opts.Notes)
	used := map[string]bool{}

	nDomain := opts.Notes / DomainFilesPer
	nextID := 1
	for i := range nDomain {
		domain := domainNames[i%len(domainNames)]
		if k := i / len(domainNames); k > 0 {
			domain = fmt.Sprintf("%s-%d", domain, k+1)
		}
		rel := "heuristics/" + domain + ".md"
		n := 3 + w.r.IntN(38)
		if err := writeFile(memDir, rel, string(w.domainFile(domain, nextID, n, base))); err != nil {
			return nil, err
		}
		nextID += n
		paths = append(paths, rel)
	}
	for i := range opts.Notes - nDomain {
		t := Types[i%len(Types)]
		created := base.Add(time.Duration(w.r.IntN(700*24*3600)) * time.Second)
		title := w.Title()
		dir := noteDir(t.Folder, i, opts.Dirs)
		slug := frontmatter.Slug(title)
		rel := dir + "/" + frontmatter.FileName(created, slug, 1)
		for k := 2; used[rel]; k++ {
			rel = dir + "/" + frontmatter.FileName(created, slug, k)
		}
		used[rel] = true
		var data []byte
		if (t.Type == frontmatter.TypeFailure || t.Type == frontmatter.TypeSuccess) && w.r.IntN(4) == 0 {
			data = w.boldNote(t.Type, title, created)
		} else {
			data = w.Note(t.Type, title, created)
		}
		if err := writeFile(memDir, rel, string(data)); err != nil {
			return nil, err
		}
		paths = append(paths, rel)
	}
	return paths, nil
}
