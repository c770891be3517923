package committer

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/emergent-learning/elfsync/layout"
)

// change is one path in a commit, as diff-tree reports it, with root-relative
// paths.
type change struct {
	Status byte   // 'A' added, 'M' modified, 'D' deleted, 'R' renamed, 'C' copied, 'T' type changed
	Path   string // the path after the change (the deleted path for 'D')
	From   string // the old path of a rename or copy
}

// parseNameStatus reads `git diff-tree -z --name-status` output, whose paths
// are relative to the top level, into changes with root-relative paths.
func parseNameStatus(out []byte, r repo) []change {
	fields := bytes.Split(bytes.TrimSuffix(out, []byte{0}), []byte{0})
	var cs []change
	for i := 0; i < len(fields); i++ {
		st := string(fields[i])
		if st == "" || i+1 >= len(fields) {
			continue
		}
		c := change{Status: st[0]}
		i++
		c.Path = r.rootRel(string(fields[i]))
		if (c.Status == 'R' || c.Status == 'C') && i+1 < len(fields) {
			i++
			c.From, c.Path = c.Path, r.rootRel(string(fields[i]))
		}
		cs = append(cs, c)
	}
	return cs
}

// parseNames reads NUL-separated top-relative paths (ls-tree -z --name-only)
// as added files.
func parseNames(out []byte, r repo) []change {
	var cs []change
	for _, f := range bytes.Split(bytes.TrimSuffix(out, []byte{0}), []byte{0}) {
		if len(f) > 0 {
			cs = append(cs, change{Status: 'A', Path: r.rootRel(string(f))})
		}
	}
	return cs
}

// maxBodyLines caps the list of paths in a commit body; a burst of 10,000
// notes should not make a 10,000-line message.
const maxBodyLines = 1000

// topFolder returns the folder directly under memory/ that holds a
// root-relative path ("failures" for "memory/failures/a/x.md"), or "" for a
// file directly in memory/.
func topFolder(p string) string {
	rest := strings.TrimPrefix(p, layout.MemoryDir+"/")
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[:i]
	}
	return ""
}

// countResult fills the counters and paths of res from changes.
func countResult(res *Result, cs []change) {
	for _, c := range cs {
		switch c.Status {
		case 'A', 'C':
			res.Added++
		case 'D':
			res.Deleted++
		case 'R':
			res.Renamed++
		default:
			res.Modified++
		}
		if c.From != "" && c.Status == 'R' {
			res.Paths = append(res.Paths, c.From)
		}
		res.Paths = append(res.Paths, c.Path)
	}
}

// buildMessage returns a commit message a person can read in `git log
// --oneline`: a subject counting added files per folder under memory/
// ("memory: +12 failures, +3 heuristics, ~2 updated, -1 removed, 1 renamed")
// and a body naming each path with its title.
func buildMessage(cs []change, describe func(string) string) (subject, body string) {
	added := map[string]int{}
	rootAdded := []string{}
	var modified, deleted, renamed int
	for _, c := range cs {
		switch c.Status {
		case 'A', 'C':
			if f := topFolder(c.Path); f != "" {
				added[f]++
			} else {
				rootAdded = append(rootAdded, strings.TrimPrefix(c.Path, layout.MemoryDir+"/"))
			}
		case 'D':
			deleted++
		case 'R':
			renamed++
		default:
			modified++
		}
	}
	type group struct {
		name string
		n    int
	}
	var groups []group
	for name, n := range added {
		groups = append(groups, group{name, n})
	}
	sort.Slice(groups, func(i, j int) bool {
		if groups[i].n != groups[j].n {
			return groups[i].n > groups[j].n
		}
		return groups[i].name < groups[j].name
	})
	var parts []string
	const maxGroups = 6
	for i, g := range groups {
		if i == maxGroups {
			rest := 0
			for _, g := range groups[i:] {
				rest += g.n
			}
			parts = append(parts, fmt.Sprintf("+%d in %d more folders", rest, len(groups)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("+%d %s", g.n, g.name))
	}
	switch len(rootAdded) {
	case 0:
	case 1:
		parts = append(parts, "+1 "+rootAdded[0])
	default:
		parts = append(parts, fmt.Sprintf("+%d other", len(rootAdded)))
	}
	if modified > 0 {
		parts = append(parts, fmt.Sprintf("~%d updated", modified))
	}
	if deleted > 0 {
		parts = append(parts, fmt.Sprintf("-%d removed", deleted))
	}
	if renamed > 0 {
		parts = append(parts, fmt.Sprintf("%d renamed", renamed))
	}
	if len(parts) == 0 {
		parts = append(parts, "no changes")
	}
	subject = "memory: " + strings.Join(parts, ", ")

	var b strings.Builder
	for i, c := range cs {
		if i == maxBodyLines {
			fmt.Fprintf(&b, "… and %d more\n", len(cs)-i)
			break
		}
		b.WriteByte(c.Status)
		b.WriteByte(' ')
		if c.From != "" {
			b.WriteString(c.From + " -> ")
		}
		b.WriteString(c.Path)
		if describe != nil {
			if t := oneLine(describe(c.Path)); t != "" {
				b.WriteString(" — " + t)
			}
		}
		b.WriteByte('\n')
	}
	return subject, b.String()
}

// oneLine keeps a title from breaking the body's one-path-per-line layout.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	const max = 200
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return s
}
