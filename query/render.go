package query

import (
	"fmt"
	"strings"
)

// Markdown renders the briefing for an agent's context.
func (b Briefing) Markdown() string {
	var s strings.Builder
	s.WriteString(header(b))
	for _, sec := range b.Sections {
		if len(sec.Items) == 0 {
			continue
		}
		s.WriteString(sectionHead(sec))
		for _, it := range sec.Items {
			s.WriteString(renderItem(sec.Kind, it))
		}
	}
	empty := true
	for _, sec := range b.Sections {
		if len(sec.Items) > 0 {
			empty = false
		}
	}
	if empty && b.Omitted == 0 {
		s.WriteString("\nNo memories yet for this briefing.\n")
	}
	if b.Omitted > 0 {
		var parts []string
		for _, sec := range b.Sections {
			if sec.Omitted > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", sec.Omitted, strings.ToLower(sec.Title)))
			}
		}
		s.WriteString("\n" + footerLine(strings.Join(parts, ", "), b.MaxTokens) + "\n")
	}
	return s.String()
}

func header(b Briefing) string {
	h := "# Memory briefing\n\n"
	var facts []string
	if b.Domain != "" {
		facts = append(facts, "domain "+b.Domain)
	}
	facts = append(facts, "depth "+b.Depth)
	if b.Query != "" {
		facts = append(facts, fmt.Sprintf("query %q", clip(b.Query, 80)))
	}
	return h + "_" + strings.Join(facts, " · ") + "_\n"
}

func footerLine(omitted string, maxTokens int) string {
	return fmt.Sprintf("_Left out to fit %d tokens: %s. Raise the token budget or search for them._", maxTokens, omitted)
}

func sectionHead(s Section) string { return "\n## " + s.Title + "\n\n" }

// renderItem is one list entry: the title line, then one indented line of
// text.
func renderItem(kind string, it Item) string {
	var s strings.Builder
	switch it.Table {
	case "heuristics":
		fmt.Fprintf(&s, "- **%s** (%s)", clip(it.Rule, 300), heuristicFacts(it, kind != "golden"))
		s.WriteString(" `" + it.Ref + "`\n")
		if it.Explain != "" {
			s.WriteString("  " + clip(it.Explain, 300) + "\n")
		}
	default:
		var facts []string
		if it.Domain != "" {
			facts = append(facts, it.Domain)
		}
		if len(it.Created) >= 10 {
			facts = append(facts, it.Created[:10])
		}
		if it.Severity > 0 && it.Type == "failure" {
			facts = append(facts, fmt.Sprintf("severity %d", it.Severity))
		}
		fmt.Fprintf(&s, "- **%s**", clip(it.Title, 200))
		if len(facts) > 0 {
			s.WriteString(" (" + strings.Join(facts, ", ") + ")")
		}
		s.WriteString(" `" + it.Path + "`\n")
		if it.Summary != "" {
			s.WriteString("  " + clip(it.Summary, 300) + "\n")
		}
	}
	return s.String()
}

func heuristicFacts(it Item, withDomain bool) string {
	var f []string
	if withDomain && it.Domain != "" {
		f = append(f, it.Domain)
	}
	f = append(f, fmt.Sprintf("confidence %.2f", it.Confidence))
	if it.Validated > 0 {
		f = append(f, fmt.Sprintf("validated %d×", it.Validated))
	}
	if it.Violated > 0 {
		f = append(f, fmt.Sprintf("violated %d×", it.Violated))
	}
	return strings.Join(f, ", ")
}
