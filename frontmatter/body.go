package frontmatter

import "strings"

// bodyScan is what Parse reads from the markdown itself.
type bodyScan struct {
	title   string // the first "# " heading
	summary string // the first paragraph under a "## Summary" heading
	first   string // the first paragraph of the body
	fields  fields // bold fields of the header area, when asked for
}

// scanBody reads the body line by line, once, without regular expressions:
// the indexer parses tens of thousands of files at startup.
//
// A paragraph is a run of non-blank lines, trimmed and joined with single
// spaces; headings, horizontal rules, bold-field lines and fenced code end
// a paragraph and are never part of one. Lines inside fenced code count for
// nothing. When bold is set, bold-field lines before the first "## "
// heading become fields (the first of a repeated name wins; empty values
// are ignored). firstLine is the file line the body starts on, for error
// messages. The scan stops at a heading once it has what it needs: a title
// if needTitle, a "## Summary" paragraph if needSummary, and the end of the
// header area if bold.
func scanBody(body string, firstLine int, bold bool, needTitle, needSummary bool) bodyScan {
	var s bodyScan
	if bold {
		s.fields = fields{}
	}
	header := bold // still before the first "## " heading
	inSummary := false
	var fenceMark string // the open code fence's marker, "```" or "~~~"

	// The current paragraph: its line count, its first line, and the
	// whole of it once it has more lines. Only a paragraph that can become
	// the first paragraph or the summary is kept.
	var (
		paraLines     int
		paraKeep      bool
		paraFirst     string
		paraAll       strings.Builder
		paraInSummary bool
	)
	endPara := func() {
		if paraLines == 0 {
			return
		}
		if paraKeep {
			p := paraFirst
			if paraLines > 1 {
				p = paraAll.String()
			}
			if s.first == "" {
				s.first = p
			}
			if paraInSummary && s.summary == "" {
				s.summary = p
			}
		}
		if paraInSummary {
			inSummary = false
		}
		paraLines = 0
	}
	done := func() bool {
		return !header && (!needTitle || s.title != "") &&
			(!needSummary || s.summary != "")
	}

	line := firstLine - 1
	for pos := 0; pos < len(body); {
		end := strings.IndexByte(body[pos:], '\n')
		var l string
		if end < 0 {
			l, pos = body[pos:], len(body)
		} else {
			l, pos = body[pos:pos+end], pos+end+1
		}
		line++
		t := strings.TrimSpace(l)

		if fenceMark != "" {
			if strings.HasPrefix(t, fenceMark) {
				fenceMark = ""
			}
			continue
		}
		if t == "" {
			endPara()
			continue
		}
		if m := fenceMarker(l); m != "" {
			endPara()
			fenceMark = m
			continue
		}
		if level, text, ok := heading(l); ok {
			endPara()
			if level == 1 && s.title == "" {
				s.title = text
			}
			if level >= 2 {
				header = false
				inSummary = s.summary == "" && strings.EqualFold(strings.TrimSuffix(text, ":"), "summary")
			}
			if done() {
				break
			}
			continue
		}
		if isRule(t) {
			endPara()
			continue
		}
		if name, value, ok := boldField(t); ok {
			endPara()
			if header && value != "" {
				key := fieldKey(name)
				if _, seen := s.fields[key]; !seen {
					s.fields[key] = field{name: name, line: line, val: strNode(value, line)}
				}
			}
			continue
		}
		if paraLines == 0 {
			paraInSummary = inSummary
			paraKeep = s.first == "" || paraInSummary
		}
		paraLines++
		switch {
		case !paraKeep:
		case paraLines == 1:
			paraFirst = t
		case paraLines == 2:
			paraAll.Reset()
			paraAll.WriteString(paraFirst)
			fallthrough
		default:
			paraAll.WriteByte(' ')
			paraAll.WriteString(t)
		}
	}
	endPara()
	return s
}

// heading reports whether l is an ATX heading ("## Text"), its level and
// its text without a closing run of "#".
func heading(l string) (int, string, bool) {
	l = trimIndent(l)
	n := 0
	for n < len(l) && l[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || (n < len(l) && l[n] != ' ' && l[n] != '\t') {
		return 0, "", false
	}
	text := strings.TrimSpace(l[n:])
	if c := strings.TrimRight(text, "#"); c != text && (c == "" || c[len(c)-1] == ' ' || c[len(c)-1] == '\t') {
		text = strings.TrimSpace(c)
	}
	return n, text, true
}

// trimIndent drops up to three leading spaces, as markdown allows before a
// heading or fence; four make an indented code block.
func trimIndent(l string) string {
	for i := 0; i < 3 && strings.HasPrefix(l, " "); i++ {
		l = l[1:]
	}
	return l
}

func fenceMarker(l string) string {
	l = trimIndent(l)
	switch {
	case strings.HasPrefix(l, "```"):
		return "```"
	case strings.HasPrefix(l, "~~~"):
		return "~~~"
	}
	return ""
}

// isRule reports whether a trimmed line is a horizontal rule: three or more
// of one of -, * or _, spaces allowed between.
func isRule(t string) bool {
	if len(t) < 3 || (t[0] != '-' && t[0] != '*' && t[0] != '_') {
		return false
	}
	n := 0
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case t[0]:
			n++
		case ' ', '\t':
		default:
			return false
		}
	}
	return n >= 3
}

// boldField parses a trimmed line of the form "**Name**: value" or
// "**Name:** value". Names are short runs of letters, digits, spaces, '-'
// and '_', so that a bold phrase opening a sentence is not taken for one.
func boldField(t string) (name, value string, ok bool) {
	if !strings.HasPrefix(t, "**") {
		return "", "", false
	}
	end := strings.Index(t[2:], "**")
	if end < 0 {
		return "", "", false
	}
	name, rest := t[2:2+end], t[2+end+2:]
	if n, found := strings.CutSuffix(name, ":"); found {
		name, value = n, rest
	} else if v, found := strings.CutPrefix(strings.TrimLeft(rest, " \t"), ":"); found {
		value = v
	} else {
		return "", "", false
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 40 {
		return "", "", false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ' ' || c == '-' || c == '_') {
			return "", "", false
		}
	}
	return name, strings.TrimSpace(value), true
}

// fieldKey turns a bold field's name into a frontmatter key: "Source Type"
// is source_type.
func fieldKey(name string) string {
	b := []byte(strings.ToLower(name))
	for i, c := range b {
		if c == ' ' || c == '-' {
			b[i] = '_'
		}
	}
	return string(b)
}
