package frontmatter

import (
	"bytes"
	"fmt"
	"path"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Domain files
//
// The framework keeps heuristics several to a file:
// memory/heuristics/<domain>.md opens with "# Heuristics: <domain>" and
// holds one "## H-<id>: <rule>" section per heuristic, each with bold
// "**Confidence**:", "**Source**:" and "**Created**:" lines, an
// explanation, and a "---" line. Its MCP server inserts the row first and
// appends the section with the row's id. Each section is one record whose
// id is <id>. elfsync keeps the counters and the golden flag of such a
// heuristic in the same bold style ("**Validated**:", "**Violated**:",
// "**Golden**:"), so nothing lives only in the database; a counter bumped
// by elfsync also gets its per-host tally ("**Validated by**: {base: 3,
// h-3f9a2c1b: 2}"), so merges across machines keep every increment.

// maxSectionID is the largest number a section heading can give its row
// as id (2^53-1, which JSON numbers hold exactly). A larger one, or one
// that does not parse, is no id: taken as a row's id it could leave
// SQLite no id to give the next row.
const maxSectionID = 1<<53 - 1

// Section is one "## H-<id>: <rule>" section of a domain file.
type Section struct {
	// ID is the heading's number, 0 when it has none usable (too large
	// for an id); "H-0" (a lost id) is 0 too.
	ID          int64
	HasID       bool // the heading's number parsed as one up to 2^53-1
	Rule        string
	Confidence  *float64
	Source      string
	Created     time.Time
	Explanation string
	// Validated, Violated and Golden are nil when the section does not say.
	Validated *int64
	Violated  *int64
	Golden    *bool
	// ValidatedBy and ViolatedBy are the counters' per-host tallies
	// ("**Validated by**: {base: 3, h-3f9a2c1b: 2}"), nil when the section
	// has none; see "Counters across machines".
	ValidatedBy Tally
	ViolatedBy  Tally
	// Text is the section's text, heading included, for full-text search.
	Text string
	// Line is the index of the section's heading among the file's lines
	// (0 for the first).
	Line int
}

var (
	sectionHeadingRE = regexp.MustCompile(`^##\s+H-?(\d+)\s*[:.)\-–—]\s*(.*?)\s*$`)
	domainH1RE       = regexp.MustCompile(`(?i)^#\s+heuristics?\s*[:\-–—]\s*(.*?)\s*$`)
	boldLineRE       = regexp.MustCompile(`^\*\*([A-Za-z][A-Za-z _-]{0,39}?)\s*(:?)\*\*\s*(:?)\s*(.*?)\s*$`)
)

// IsDomainFile reports whether a file is a framework domain file: under
// heuristics/, with no YAML frontmatter, and either a "# Heuristics: x"
// first heading or at least one "## H-<id>:" section. A domain file with
// no section yet (the MCP server writes the header, then appends) holds
// no record.
func IsDomainFile(rel string, data []byte) bool {
	if !strings.HasPrefix(rel, "heuristics/") || HasFrontmatter(data) {
		return false
	}
	text := normalizeText(data)
	for _, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		if t == "" {
			continue
		}
		if domainH1RE.MatchString(t) {
			return true
		}
		if strings.HasPrefix(t, "# ") {
			break // another title: look for sections below
		}
	}
	for _, l := range strings.Split(text, "\n") {
		if m := sectionHeadingRE.FindStringSubmatch(strings.TrimSpace(l)); m != nil && m[2] != "" {
			return true
		}
	}
	return false
}

// HasFrontmatter reports whether data opens a "---" block, as Parse sees
// it (a byte order mark and blank lines first are allowed).
func HasFrontmatter(data []byte) bool {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if t := bytes.TrimSpace(line); len(t) > 0 {
			return string(t) == "---"
		}
	}
	return false
}

func normalizeText(data []byte) string {
	return strings.TrimPrefix(strings.ReplaceAll(string(data), "\r\n", "\n"), "\uFEFF")
}

// DomainOf returns a domain file's domain: its "# Heuristics: <domain>"
// heading, else the file name without .md.
func DomainOf(rel, domain string) string {
	if domain != "" {
		return domain
	}
	return strings.TrimSuffix(path.Base(rel), path.Ext(rel))
}

// ParseSections reads a domain file: the domain of its "# Heuristics:
// <domain>" heading ("" when there is none) and its "## H-<n>: <rule>"
// sections. In a section, bold "**Confidence**:", "**Source**:",
// "**Created**:", "**Validated**:", "**Violated**:", "**Validated by**:",
// "**Violated by**:" and "**Golden**:" lines set those fields; the remaining text up to a "---" line or the
// next heading is the explanation.
func ParseSections(data []byte) (string, []Section) {
	text := normalizeText(data)
	var domain string
	var secs []Section
	var cur *Section
	var expl, all []string
	inSection := false
	closeSec := func() {
		if cur != nil {
			cur.Explanation = strings.TrimSpace(strings.Join(expl, "\n"))
			cur.Text = strings.TrimSpace(strings.Join(all, "\n"))
			secs = append(secs, *cur)
		}
		cur, expl, all, inSection = nil, nil, nil, false
	}
	fence := false
	for i, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			fence = !fence
		}
		if !fence && strings.HasPrefix(t, "#") {
			if m := sectionHeadingRE.FindStringSubmatch(t); m != nil && m[2] != "" {
				closeSec()
				id, err := strconv.ParseInt(m[1], 10, 64)
				ok := err == nil && id <= maxSectionID
				if !ok {
					id = 0
				}
				cur = &Section{ID: id, HasID: ok, Rule: m[2], Line: i}
				all = append(all, l)
				inSection = true
				continue
			}
			if m := domainH1RE.FindStringSubmatch(t); m != nil && domain == "" {
				domain = strings.Trim(m[1], "*_` ")
			}
			if strings.HasPrefix(t, "# ") || strings.HasPrefix(t, "## ") {
				closeSec()
				continue
			}
		}
		if !inSection {
			continue
		}
		if !fence && len(t) >= 3 && strings.Trim(t, "-") == "" {
			closeSec()
			continue
		}
		all = append(all, l)
		if m := boldLineRE.FindStringSubmatch(t); !fence && m != nil && (m[2] != "" || m[3] != "") {
			if sectionField(cur, boldKey(m[1]), m[4]) {
				continue
			}
		}
		expl = append(expl, strings.TrimRight(l, " \t"))
	}
	closeSec()
	return domain, secs
}

func boldKey(k string) string {
	return strings.ToLower(strings.NewReplacer(" ", "_", "-", "_").Replace(k))
}

// sectionField sets a known bold field and reports whether it was one.
func sectionField(s *Section, key, value string) bool {
	switch key {
	case "confidence":
		if c, ok := ParseConfidence(value); ok {
			s.Confidence = &c
		}
	case "source", "source_type":
		s.Source = value
	case "created", "date":
		if ts, ok := ParseTime(value); ok {
			s.Created = ts
		}
	case "validated", "times_validated":
		if n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64); err == nil && n >= 0 {
			s.Validated = &n
		}
	case "violated", "times_violated":
		if n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64); err == nil && n >= 0 {
			s.Violated = &n
		}
	case "validated_by":
		if t, ok := ParseTallyText(value); ok {
			s.ValidatedBy = t
		}
	case "violated_by":
		if t, ok := ParseTallyText(value); ok {
			s.ViolatedBy = t
		}
	case "golden", "is_golden":
		switch strings.ToLower(strings.TrimSpace(value)) {
		case "true", "yes", "1":
			b := true
			s.Golden = &b
		case "false", "no", "0":
			b := false
			s.Golden = &b
		}
	default:
		return false // a bold phrase of the explanation
	}
	return true
}

// ParseConfidence reads a confidence as the framework's files write it:
// 0.85, 85%, or low/medium/high.
func ParseConfidence(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "low":
		return 0.3, true
	case "medium":
		return 0.6, true
	case "high":
		return 0.9, true
	}
	pct := strings.HasSuffix(s, "%")
	c, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return 0, false
	}
	if pct {
		c /= 100
	}
	return c, c >= 0 && c <= 1
}

var sectionTimeLayouts = []string{"2006-01-02", "2006-01-02 15:04:05", "2006-01-02T15:04:05", time.RFC3339, "2006-01-02 15:04"}

// ParseTime reads a date as the framework's files write it.
func ParseTime(s string) (time.Time, bool) {
	for _, layout := range sectionTimeLayouts {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// SectionRecord is the record of one section of the domain file rel.
func SectionRecord(rel, domain string, s Section, modTime time.Time) Record {
	r := Record{
		Type: TypeHeuristic, Title: s.Rule, Rule: s.Rule, Domain: DomainOf(rel, domain),
		Explanation: s.Explanation, SourceType: s.Source, Confidence: s.Confidence,
		IsGolden: s.Golden, Created: s.Created, Updated: modTime, Body: s.Text,
	}
	if r.Created.IsZero() {
		r.Created = modTime
	}
	r.TimesValidated, r.ValidatedBy = SectionCounter(s.Validated, s.ValidatedBy)
	r.TimesViolated, r.ViolatedBy = SectionCounter(s.Violated, s.ViolatedBy)
	return r
}

// SectionCounter is a section counter's value and tally from its plain
// "**Validated**:" number (nil when absent) and its "**Validated by**:"
// tally, as in frontmatter: the plain number wins, and a tally that sums
// to something else keeps the difference in TallyBase.
func SectionCounter(plain *int64, t Tally) (int64, Tally) {
	switch {
	case plain == nil && t == nil:
		return 0, nil
	case plain == nil:
		return t.Sum(), t
	default:
		if n := Normalize(t, *plain); n != nil {
			return *plain, n
		}
		return *plain, Tally{TallyBase: *plain}
	}
}

// ParseTallyText reads a tally written on one line as a flow mapping,
// "{base: 3, h-3f9a2c1b: 2}": host keys to whole numbers (≥ 0 but for
// base). ok is false for anything else.
func ParseTallyText(s string) (Tally, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return nil, false
	}
	t := Tally{}
	inner := strings.TrimSpace(s[1 : len(s)-1])
	if inner == "" {
		return t, true
	}
	for _, part := range strings.Split(inner, ",") {
		k, v, ok := strings.Cut(part, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		n, err := strconv.ParseInt(v, 10, 64)
		if _, dup := t[k]; !ok || err != nil || !ValidTallyKey(k) || dup || (n < 0 && k != TallyBase) {
			return nil, false
		}
		t[k] = n
	}
	return t, true
}

// SectionField is one bold line to set in a section.
type SectionField struct {
	Label string // "Validated", "Validated by", "Violated", "Violated by", "Golden", "Confidence"
	Value string // one line, no control characters
}

// SetSectionFields sets bold "**Label**: value" lines in the section
// "## H-<id>" of a domain file, replacing a line with the same label or
// adding it after the section's last bold line. Everything else is kept
// byte for byte. It fails when the file has no such section or a value
// does not fit on one line.
func SetSectionFields(data []byte, id int64, fields []SectionField) ([]byte, error) {
	return SetSectionFieldsNth(data, id, 1, fields)
}

// SetSectionFieldsNth is SetSectionFields for the nth section (from 1)
// numbered id: a number the file repeats, or 0 for the sections
// ParseSections reads without a usable number, each a record of its own
// (the indexer keys them "<file>#H-<id>~<nth>").
func SetSectionFieldsNth(data []byte, id int64, nth int, fields []SectionField) ([]byte, error) {
	for _, f := range fields {
		if strings.ContainsAny(f.Value, "\r\n") || !isValidText(f.Value) || boldKey(f.Label) == "" {
			return nil, fmt.Errorf("section H-%d: bad value for %s", id, f.Label)
		}
	}
	// Split at "\n" as ParseSections counts lines; a CRLF file's lines
	// keep their "\r", and new ones get one.
	cr := ""
	if bytes.Contains(data, []byte("\r\n")) {
		cr = "\r"
	}
	lines := strings.Split(string(data), "\n")
	sec, ok := nthSection(data, id, nth)
	if !ok {
		return nil, fmt.Errorf("no section H-%d", id)
	}
	start := sec.Line
	// The bold block: bold lines after the heading, blank lines between.
	last := start
	labels := map[string]int{}
	for i := start + 1; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if t == "" {
			if last > start {
				break
			}
			continue
		}
		m := boldLineRE.FindStringSubmatch(t)
		if m == nil || (m[2] == "" && m[3] == "") {
			break
		}
		labels[boldKey(m[1])] = i
		last = i
	}
	var add []string
	after := map[int][]string{} // a tally line goes right after its counter's line
	for _, f := range fields {
		line := "**" + f.Label + "**: " + f.Value + cr
		if i, ok := labels[boldKey(f.Label)]; ok {
			if !strings.HasSuffix(lines[i], "\r") {
				line = strings.TrimSuffix(line, "\r")
			}
			lines[i] = line
			continue
		}
		if base, ok := strings.CutSuffix(boldKey(f.Label), "_by"); ok {
			if i, ok := labels[base]; ok {
				after[i] = append(after[i], line)
				continue
			}
		}
		add = append(add, line)
	}
	if len(after) > 0 {
		out := make([]string, 0, len(lines)+len(after))
		oldLast := last
		for i, l := range lines {
			out = append(out, l)
			out = append(out, after[i]...)
			if i == oldLast {
				last = len(out) - 1
			}
		}
		lines = out
	}
	if len(add) > 0 {
		at := last + 1
		if last == start {
			add = append([]string{cr}, add...)
		}
		lines = append(lines[:at], append(add, lines[at:]...)...)
	}
	return []byte(strings.Join(lines, "\n")), nil
}

// sectionBounds returns the line range [start, end) of the nth section
// (from 1) numbered id, as ParseSections reads data, in lines (data split
// at "\n"): from its heading to the next heading of level 1 or 2, keeping
// the "---" separator that closes it.
func sectionBounds(data []byte, lines []string, id int64, nth int) (int, int, bool) {
	sec, ok := nthSection(data, id, nth)
	if !ok || sec.Line >= len(lines) {
		return 0, 0, false
	}
	fence := false
	for i := sec.Line + 1; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			fence = !fence
		}
		if fence {
			continue
		}
		if strings.HasPrefix(t, "# ") || strings.HasPrefix(t, "## ") {
			return sec.Line, i, true
		}
	}
	return sec.Line, len(lines), true
}

// RemoveSection removes section "## H-<id>" (heading to the next
// heading, its "---" separator included) from a domain file, keeping
// everything else byte for byte. A file without that section is returned
// as it is.
func RemoveSection(data []byte, id int64) ([]byte, error) {
	return RemoveSectionNth(data, id, 1)
}

// RemoveSectionNth is RemoveSection for the nth section numbered id (see
// SetSectionFieldsNth).
func RemoveSectionNth(data []byte, id int64, nth int) ([]byte, error) {
	lines := strings.Split(string(data), "\n")
	start, end, ok := sectionBounds(data, lines, id, nth)
	if !ok {
		return data, nil
	}
	return []byte(strings.Join(append(lines[:start:start], lines[end:]...), "\n")), nil
}

// SetSectionRule rewrites the heading of section "## H-<id>" with a new
// rule. The rule must be one line of text.
func SetSectionRule(data []byte, id int64, rule string) ([]byte, error) {
	return SetSectionRuleNth(data, id, 1, rule)
}

// SetSectionRuleNth is SetSectionRule for the nth section numbered id
// (see SetSectionFieldsNth); its heading keeps its number.
func SetSectionRuleNth(data []byte, id int64, nth int, rule string) ([]byte, error) {
	rule = strings.TrimSpace(rule)
	if rule == "" || strings.ContainsAny(rule, "\r\n") || !isValidText(rule) {
		return nil, fmt.Errorf("section H-%d: a rule must be one line of text", id)
	}
	for _, r := range rule {
		if r < 0x20 || r == 0x7f {
			return nil, fmt.Errorf("section H-%d: the rule holds a control character", id)
		}
	}
	lines := strings.Split(string(data), "\n")
	sec, ok := nthSection(data, id, nth)
	if !ok {
		return nil, fmt.Errorf("no section H-%d", id)
	}
	old := lines[sec.Line]
	// The heading's own number: a numberless one keeps its text.
	num := strconv.FormatInt(id, 10)
	if m := sectionHeadingRE.FindStringSubmatch(strings.TrimSpace(old)); m != nil {
		num = m[1]
	}
	setLine(lines, sec.Line, "## H-"+num+": "+rule)
	out := []byte(strings.Join(lines, "\n"))
	// The new heading must read back as the same section with that rule.
	if s, ok := nthSection(out, id, nth); ok && s.Rule == rule && s.Line == sec.Line {
		return out, nil
	}
	return nil, fmt.Errorf("section H-%d: the rule %q does not read back", id, rule)
}

// nthSection returns the nth section (from 1) numbered id, as
// ParseSections reads the file.
func nthSection(data []byte, id int64, nth int) (Section, bool) {
	_, secs := ParseSections(data)
	for _, s := range secs {
		if s.ID == id {
			if nth--; nth == 0 {
				return s, true
			}
		}
	}
	return Section{}, false
}

// SetSectionNumber renumbers the nth section (from 1) numbered id (0 for
// a section without a usable number) to newID: its heading becomes
// "## H-<newID>: <rule>", every other byte of the file is kept. The
// record's row id goes into its heading so that an index rebuilt from
// the file keys it and gives it that id again. It fails when the file
// has no such section, another section already has the number newID, or
// the result would not read as the same sections with that one number
// changed.
func SetSectionNumber(data []byte, id int64, nth int, newID int64) ([]byte, error) {
	if newID < 1 || newID > maxSectionID {
		return nil, fmt.Errorf("section H-%d: bad new number %d", id, newID)
	}
	_, secs := ParseSections(data)
	at := -1
	for i, s := range secs {
		if s.HasID && s.ID == newID {
			return nil, fmt.Errorf("section H-%d: the file has a section H-%d already", id, newID)
		}
		if s.ID == id && at < 0 {
			if nth--; nth == 0 {
				at = i
			}
		}
	}
	if at < 0 {
		return nil, fmt.Errorf("no section H-%d", id)
	}
	lines := strings.Split(string(data), "\n")
	cur := secs[at]
	head := "## H-" + strconv.FormatInt(newID, 10) + ": " + cur.Rule
	setLine(lines, cur.Line, head)
	out := []byte(strings.Join(lines, "\n"))
	// The same sections, that one renumbered and nothing else.
	_, after := ParseSections(out)
	if len(after) != len(secs) {
		return nil, fmt.Errorf("section H-%d: renumbering it changes the file's sections", id)
	}
	for i := range secs {
		want := secs[i]
		if i == at {
			want.ID, want.HasID = newID, true
			want.Text = head
			if _, rest, ok := strings.Cut(cur.Text, "\n"); ok {
				want.Text += "\n" + rest
			}
		}
		if !reflect.DeepEqual(after[i], want) {
			return nil, fmt.Errorf("section H-%d: renumbered, it would not read back the same", id)
		}
	}
	return out, nil
}

// BumpSection adds n to a counter of the section "## H-<id>" of a domain
// file (times_violated when violated, else times_validated), in host's
// tally, and returns the file and the section's counters after it.
func BumpSection(data []byte, id int64, violated bool, host string, n int64) (out []byte, validated, violatedN int64, err error) {
	_, secs := ParseSections(data)
	var cur *Section
	for i := range secs {
		if secs[i].ID == id {
			cur = &secs[i]
			break
		}
	}
	if cur == nil {
		return nil, 0, 0, fmt.Errorf("no section H-%d", id)
	}
	label, plain, tally := "Validated", cur.Validated, cur.ValidatedBy
	if violated {
		label, plain, tally = "Violated", cur.Violated, cur.ViolatedBy
	}
	have, tally := SectionCounter(plain, tally)
	t, err := Bump(tally, have, host, n)
	if err != nil {
		return nil, 0, 0, err
	}
	out, err = SetSectionFields(data, id, []SectionField{{Label: label, Value: strconv.FormatInt(t.Sum(), 10)}, {Label: label + " by", Value: t.String()}})
	if err != nil {
		return nil, 0, 0, err
	}
	validated, _ = SectionCounter(cur.Validated, cur.ValidatedBy)
	violatedN, _ = SectionCounter(cur.Violated, cur.ViolatedBy)
	if violated {
		violatedN = t.Sum()
	} else {
		validated = t.Sum()
	}
	return out, validated, violatedN, nil
}

// setLine replaces lines[i] with line, keeping the old line's carriage
// return and, on the first line, its byte order mark.
func setLine(lines []string, i int, line string) {
	old := lines[i]
	if strings.HasSuffix(old, "\r") {
		line += "\r"
	}
	if i == 0 && strings.HasPrefix(old, "\uFEFF") {
		line = "\uFEFF" + line
	}
	lines[i] = line
}
