package frontmatter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Editing a file in its own style
//
// The framework writes its records without frontmatter: a "# Title"
// heading, then bold "**Domain**: git" lines, then "## Summary" and the
// rest. EditRecord keeps that style when a value changes: the bold line
// of the field is rewritten in place (the heading for the title, the
// "## Summary" paragraph for the summary), a field the file lacks is added
// as a bold line beside the others. Only when a value cannot be a bold
// line (an explanation of several lines, text with spaces around it) is
// the file converted: the bold field lines of its header are removed and
// a frontmatter block holding every field they held, and the change, is
// put in front. A file never ends up saying a value twice.

// ErrNotBold: a value cannot be written as a bold line.
var ErrNotBold = errors.New("not expressible as a bold line")

// EditRecord returns in.Data with changes made in the file's own style
// (see above; a file with frontmatter gets SetFields) and the record it
// parses to. It checks that the result parses to what the file said
// before with the changes made, and nothing else: a changed field reads
// back as its new value, every other field is unchanged (a rule or an
// explanation that only defaulted to the title or summary may follow
// them). An empty string value is written but not checked: an empty
// field counts as absent, so the file's fallback applies.
func EditRecord(in Input, changes []Change) ([]byte, Record, error) {
	before, err := Parse(in)
	if err != nil {
		return nil, Record{}, fmt.Errorf("%w: the file does not parse: %v", ErrEdit, err)
	}
	check := func(out []byte) (Record, error) {
		after, err := Parse(Input{Path: in.Path, Data: out, ModTime: in.ModTime, MaxSize: in.MaxSize})
		if err != nil {
			return Record{}, fmt.Errorf("%w: the edited file would not parse: %v", ErrEdit, err)
		}
		return after, sameRecord(before, after, changes)
	}
	if HasFrontmatter(in.Data) {
		out, err := SetFields(in.Data, aliased(in.Data, changes))
		if err != nil {
			return nil, Record{}, err
		}
		after, err := check(out)
		return out, after, err
	}
	out, err := SetBoldFields(in.Data, changes)
	if err == nil {
		after, cerr := check(out)
		if cerr == nil {
			return out, after, nil
		}
	}
	out, err = ToFrontmatter(in.Data, in.Path, changes)
	if err != nil {
		return nil, Record{}, err
	}
	after, err := check(out)
	return out, after, err
}

// aliased returns changes with each key the frontmatter spells by its
// alias (source for source_type, ...) under that alias, so the edit
// replaces the value Parse reads instead of adding a second key.
func aliased(data []byte, changes []Change) []Change {
	text := strings.ReplaceAll(string(bytes.TrimPrefix(data, bom)), "\r\n", "\n")
	fm, err := split(text)
	if err != nil || !fm.found {
		return changes
	}
	keys := map[string]bool{}
	for _, l := range splitLines(text[fm.yamlStart:fm.yamlEnd]) {
		if k := topKey(l); k != "" {
			keys[strings.ToLower(k)] = true
		}
	}
	out := make([]Change, len(changes))
	for i, c := range changes {
		if a := boldAliases[c.Key]; a != "" && !keys[c.Key] && keys[a] {
			c.Key = a
		}
		out[i] = c
	}
	return out
}

// HasBoldFields reports whether data is a file in the bold-field style:
// no frontmatter, and bold field lines in its header, which Parse reads
// (and would no longer read under a frontmatter block put in front).
func HasBoldFields(data []byte) bool {
	return !HasFrontmatter(data) && len(splitBold(data).fields) > 0
}

// boldDoc is a bold-field file split into lines, with what Parse reads
// from them: the header's bold field lines, the first "# " heading and
// the "## Summary" paragraph.
type boldDoc struct {
	lines   []string // without their "\n"
	crlf    bool
	bom     bool
	fields  []boldLine // the header's bold field lines, in order
	title   int        // the line of the first "# " heading, or -1
	header  int        // the first line after the header (its first "## " heading, or len(lines))
	summary [2]int     // the "## Summary" paragraph's lines [start, end), or {-1, -1}
}

// boldLine is one bold field line of a header.
type boldLine struct {
	line  int
	key   string // fieldKey of its name
	value string // "" for an empty one (which Parse ignores)
}

func splitBold(data []byte) boldDoc {
	d := boldDoc{title: -1, summary: [2]int{-1, -1}}
	d.bom = bytes.HasPrefix(data, bom)
	text := string(bytes.TrimPrefix(data, bom))
	if strings.Contains(text, "\r\n") {
		d.crlf = true
		text = strings.ReplaceAll(text, "\r\n", "\n")
	}
	d.lines = strings.Split(text, "\n")
	d.header = len(d.lines)
	// The same reading as scanBody: fenced code counts for nothing, the
	// header ends at the first heading of level 2 or more.
	var fenceMark string
	inSummary, para := false, false
	for i, l := range d.lines {
		t := strings.TrimSpace(l)
		if fenceMark != "" {
			if strings.HasPrefix(t, fenceMark) {
				fenceMark = ""
			}
			continue
		}
		endPara := func() {
			if para {
				para = false
				if d.summary[0] >= 0 && d.summary[1] < 0 {
					d.summary[1] = i
					inSummary = false
				}
			}
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
			if level == 1 && d.title < 0 {
				d.title = i
			}
			if level >= 2 {
				if d.header == len(d.lines) {
					d.header = i
				}
				inSummary = d.summary[0] < 0 && strings.EqualFold(strings.TrimSuffix(text, ":"), "summary")
			}
			continue
		}
		if isRule(t) {
			endPara()
			continue
		}
		if name, value, ok := boldField(t); ok {
			endPara()
			if i < d.header {
				d.fields = append(d.fields, boldLine{line: i, key: fieldKey(name), value: value})
			}
			continue
		}
		if !para {
			para = true
			if inSummary && d.summary[0] < 0 {
				d.summary[0] = i
			}
		}
	}
	if para && d.summary[0] >= 0 && d.summary[1] < 0 {
		d.summary[1] = len(d.lines)
	}
	return d
}

func (d boldDoc) bytes() []byte {
	out := strings.Join(d.lines, "\n")
	if d.crlf {
		out = strings.ReplaceAll(out, "\n", "\r\n")
	}
	if d.bom {
		out = string(bom) + out
	}
	return []byte(out)
}

// boldAliases are the other names Parse reads a field under when the
// main one is absent.
var boldAliases = map[string]string{"source_type": "source", "severity": "significance", "created": "date"}

// find returns the index in d.fields of the line Parse takes key from:
// the first non-empty one of that name, else of its alias; -1 if none.
// An empty line of the name is returned when there is no value at all.
func (d boldDoc) find(key string) int {
	empty := -1
	for _, k := range []string{key, boldAliases[key]} {
		if k == "" {
			continue
		}
		for i, f := range d.fields {
			if f.key != k {
				continue
			}
			if f.value != "" {
				return i
			}
			if empty < 0 {
				empty = i
			}
		}
	}
	return empty
}

// boldLabel is the name a new bold line of key gets: "ID", else the key's
// words capitalised ("times_validated" is "Times Validated"), which
// fieldKey turns back into the key.
func boldLabel(key string) string {
	if key == "id" {
		return "ID"
	}
	words := strings.Split(key, "_")
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

// boldValue renders v as the value of a bold line, which Parse reads as
// trimmed one-line text.
func boldValue(v any) (string, error) {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case int:
		s = strconv.Itoa(v)
	case int64:
		s = strconv.FormatInt(v, 10)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", fmt.Errorf("%w: number %v", ErrNotBold, v)
		}
		s = strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0"
		}
	case bool:
		s = strconv.FormatBool(v)
	case time.Time:
		s = FormatCreated(v)
	case []string:
		for _, t := range v {
			if t == "" || strings.TrimSpace(t) != t || strings.Contains(t, ",") {
				return "", fmt.Errorf("%w: tag %q", ErrNotBold, t)
			}
		}
		s = strings.Join(v, ", ")
	case Tally:
		for k := range v {
			if !ValidTallyKey(k) {
				return "", fmt.Errorf("%w: tally key %q", ErrNotBold, k)
			}
		}
		s = v.String()
	default:
		return "", fmt.Errorf("%w: value of type %T", ErrNotBold, v)
	}
	if s == "" || strings.TrimSpace(s) != s || !isValidText(s) {
		return "", fmt.Errorf("%w: %q", ErrNotBold, s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return "", fmt.Errorf("%w: a line break or control character", ErrNotBold)
		}
	}
	return s, nil
}

// withValue returns a bold line with its value replaced, keeping its
// indentation and how it spells the name ("**Date:**" or "**Date**:").
func withValue(l, value string) string {
	open := strings.Index(l, "**")
	end := strings.Index(l[open+2:], "**") + open + 2
	prefix := l[:end+2]
	if !strings.HasSuffix(l[:end], ":") {
		rest := l[end+2:]
		prefix += rest[:strings.IndexByte(rest, ':')+1]
	}
	return prefix + " " + value
}

// SetBoldFields returns data, a file without frontmatter, with changes
// made to the bold field lines of its header (the lines before its first
// "## " heading, where Parse reads them): a field's line is rewritten in
// place, a missing field is added after the header's last bold line (or
// after the "# " heading), a deleted one is removed. The title goes into
// the file's first "# " heading and the summary into its "## Summary"
// paragraph when the file has those and no bold line for them. Everything
// else is kept byte for byte. It fails, wrapping ErrNotBold, when a value
// cannot be one bold line; it does not check how the result parses
// (EditRecord does).
func SetBoldFields(data []byte, changes []Change) ([]byte, error) {
	if HasFrontmatter(data) {
		return nil, fmt.Errorf("%w: the file has frontmatter", ErrEdit)
	}
	d := splitBold(data)
	var add []string
	drop := map[int]bool{}
	for _, c := range changes {
		if !validKey(c.Key) {
			return nil, fmt.Errorf("%w: key %q is not a plain word", ErrEdit, c.Key)
		}
		i := d.find(c.Key)
		if c.Delete {
			for _, f := range d.fields {
				if f.key == c.Key || (i >= 0 && f.key == d.fields[i].key) {
					drop[f.line] = true
				}
			}
			continue
		}
		v, err := boldValue(c.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Key, err)
		}
		switch {
		case i >= 0:
			d.lines[d.fields[i].line] = withValue(d.lines[d.fields[i].line], v)
			d.fields[i].value = v
		case c.Key == "title" && d.title >= 0:
			d.lines[d.title] = "# " + v
		case c.Key == "summary" && d.summary[0] >= 0:
			s, e := d.summary[0], d.summary[1]
			d.lines[s] = v
			for j := s + 1; j < e; j++ {
				drop[j] = true
			}
		default:
			add = append(add, boldLabel(c.Key)+"\x00"+v)
		}
	}
	if len(add) > 0 {
		// New lines spell their names as the file's last one does:
		// "**Date:** x" (the manual template) or "**Date**: x".
		inside := len(d.fields) > 0 && strings.Contains(d.lines[d.fields[len(d.fields)-1].line], ":**")
		for i, a := range add {
			label, v, _ := strings.Cut(a, "\x00")
			if inside {
				add[i] = "**" + label + ":** " + v
			} else {
				add[i] = "**" + label + "**: " + v
			}
		}
		at := -1 // insert after this line
		var pre, post []string
		switch {
		case len(d.fields) > 0:
			at = d.fields[len(d.fields)-1].line
		case d.title >= 0 && d.title < d.header:
			at, pre = d.title, []string{""}
		default:
			post = []string{""} // at the top
		}
		if at+1 < len(d.lines) && strings.TrimSpace(d.lines[at+1]) != "" && len(post) == 0 && len(pre) > 0 {
			post = []string{""}
		}
		ins := append(append(pre, add...), post...)
		lines := make([]string, 0, len(d.lines)+len(ins))
		lines = append(lines, d.lines[:at+1]...)
		lines = append(lines, ins...)
		lines = append(lines, d.lines[at+1:]...)
		// Shift the lines to drop past the insertion.
		shifted := map[int]bool{}
		for j := range drop {
			if j > at {
				j += len(ins)
			}
			shifted[j] = true
		}
		d.lines, drop = lines, shifted
	}
	if len(drop) > 0 {
		d.lines = dropLines(d.lines, drop)
	}
	return d.bytes(), nil
}

// dropLines removes the marked lines, and a blank line that would then
// follow another blank line.
func dropLines(lines []string, drop map[int]bool) []string {
	out := make([]string, 0, len(lines))
	after := false // just after dropped lines
	for i, l := range lines {
		if drop[i] {
			after = true
			continue
		}
		if after && strings.TrimSpace(l) == "" && len(out) > 0 && strings.TrimSpace(out[len(out)-1]) == "" {
			continue
		}
		after = false
		out = append(out, l)
	}
	return out
}

// ToFrontmatter converts a file without frontmatter: the bold field lines
// of its header are removed and a frontmatter block holding every field
// they held (as Parse read them), then changes, is put in front. The rest
// of the file, its "# " heading and "## Summary" included, is kept.
func ToFrontmatter(data []byte, path string, changes []Change) ([]byte, error) {
	if HasFrontmatter(data) {
		return nil, fmt.Errorf("%w: the file has frontmatter already", ErrEdit)
	}
	rec, err := Parse(Input{Path: path, Data: data})
	if err != nil {
		return nil, fmt.Errorf("%w: the file does not parse: %v", ErrEdit, err)
	}
	d := splitBold(data)
	have := map[string]string{}
	drop := map[int]bool{}
	for _, f := range d.fields {
		drop[f.line] = true
		if _, ok := have[f.key]; !ok && f.value != "" {
			have[f.key] = f.value
		}
	}
	// Every field as it reads (the record's typed value for the fields
	// it knows), in the file's order, the type first.
	ch := []Change{{Key: "type", Value: rec.Type}}
	done := map[string]bool{"type": true}
	for _, f := range d.fields {
		k := f.key
		if done[k] || have[k] == "" {
			continue
		}
		done[k] = true
		if main, ok := aliasOf(k); ok && have[main] == "" {
			k = main // the alias is the field: written under its own key
		}
		v, known := typedField(rec, k)
		if !known {
			v = have[f.key]
		}
		if !validKey(k) {
			return nil, fmt.Errorf("%w: the field %q cannot be a frontmatter key", ErrEdit, k)
		}
		ch = append(ch, Change{Key: k, Value: v})
	}
	ch = lastWins(append(ch, changes...))
	return SetFields(d.withoutLines(drop), ch)
}

func (d boldDoc) withoutLines(drop map[int]bool) []byte {
	d.lines = dropLines(d.lines, drop)
	// No blank line between the new block and the text.
	for len(d.lines) > 1 && strings.TrimSpace(d.lines[0]) == "" {
		d.lines = d.lines[1:]
	}
	return d.bytes()
}

// aliasOf returns the main key of an alias.
func aliasOf(k string) (string, bool) {
	for main, alias := range boldAliases {
		if alias == k {
			return main, true
		}
	}
	return "", false
}

// typedField returns a record's value of a key Parse interprets.
func typedField(r Record, key string) (any, bool) {
	switch key {
	case "title":
		return r.Title, true
	case "summary":
		return r.Summary, true
	case "domain":
		return r.Domain, true
	case "rule":
		return r.Rule, true
	case "explanation":
		return r.Explanation, true
	case "source_type":
		return r.SourceType, true
	case "project_path":
		return r.ProjectPath, true
	case "tags":
		return r.Tags, true
	case "severity":
		return r.Severity, true
	case "created":
		return r.Created, true
	case "confidence":
		if r.Confidence != nil {
			return *r.Confidence, true
		}
	case "is_golden":
		if r.IsGolden != nil {
			return *r.IsGolden, true
		}
	case KeyTimesValidated:
		return r.TimesValidated, true
	case KeyTimesViolated:
		return r.TimesViolated, true
	case KeyValidatedBy:
		return r.ValidatedBy, r.ValidatedBy != nil
	case KeyViolatedBy:
		return r.ViolatedBy, r.ViolatedBy != nil
	}
	return nil, false
}

// lastWins keeps one change per key, the last, at the place of the first.
func lastWins(ch []Change) []Change {
	at := map[string]int{}
	var out []Change
	for _, c := range ch {
		if i, ok := at[c.Key]; ok {
			out[i] = c
			continue
		}
		at[c.Key] = len(out)
		out = append(out, c)
	}
	return out
}

// sameRecord checks that after is before with changes made.
func sameRecord(before, after Record, changes []Change) error {
	want := before
	var extra map[string]any
	if want.Extra != "" {
		if err := json.Unmarshal([]byte(want.Extra), &extra); err != nil {
			return fmt.Errorf("%w: extra keys: %v", ErrEdit, err)
		}
	}
	if extra == nil {
		extra = map[string]any{}
	}
	skip := map[string]bool{}
	for _, c := range changes {
		if s, ok := c.Value.(string); ok && s == "" && !c.Delete {
			skip[c.Key] = true
			continue
		}
		if c.Delete {
			skip[c.Key] = true // the file's fallback applies
			delete(extra, c.Key)
			continue
		}
		if !setField(&want, c.Key, c.Value) {
			extra[c.Key] = c.Value
		}
	}
	if skip["title"] || changed(changes, "title") && !changed(changes, "rule") {
		skip["rule"] = true // may have defaulted to the title
	}
	if skip["summary"] || changed(changes, "summary") && !changed(changes, "explanation") {
		skip["explanation"] = true
	}
	var got map[string]any
	if after.Extra != "" {
		if err := json.Unmarshal([]byte(after.Extra), &got); err != nil {
			return fmt.Errorf("%w: extra keys: %v", ErrEdit, err)
		}
	}
	diff := func(key string, a, b any) error {
		return fmt.Errorf("%w: %s reads back as %v, not %v", ErrEdit, key, a, b)
	}
	for _, f := range []struct {
		key  string
		a, b any
	}{
		{"type", after.Type, want.Type}, {"title", after.Title, want.Title}, {"summary", after.Summary, want.Summary},
		{"domain", after.Domain, want.Domain}, {"tags", after.TagString(), want.TagString()},
		{"severity", after.Severity, want.Severity},
		{"created", after.Created.Truncate(time.Second).UTC(), want.Created.Truncate(time.Second).UTC()},
		{"rule", after.Rule, want.Rule}, {"explanation", after.Explanation, want.Explanation},
		{"source_type", after.SourceType, want.SourceType}, {"project_path", after.ProjectPath, want.ProjectPath},
		{"confidence", ptrValue(after.Confidence), ptrValue(want.Confidence)},
		{"is_golden", ptrValue(after.IsGolden), ptrValue(want.IsGolden)},
		{KeyTimesValidated, after.TimesValidated, want.TimesValidated}, {KeyTimesViolated, after.TimesViolated, want.TimesViolated},
		{KeyValidatedBy, after.ValidatedBy.Sum(), want.ValidatedBy.Sum()}, {KeyViolatedBy, after.ViolatedBy.Sum(), want.ViolatedBy.Sum()},
	} {
		if skip[f.key] {
			continue
		}
		if f.key == "created" {
			if !f.a.(time.Time).Equal(f.b.(time.Time)) {
				return diff(f.key, f.a, f.b)
			}
			continue
		}
		if !reflect.DeepEqual(f.a, f.b) {
			return diff(f.key, f.a, f.b)
		}
	}
	for k, v := range extra {
		if skip[k] {
			continue
		}
		if g, ok := got[k]; !ok || plainText(g) != plainText(v) {
			return diff(k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := extra[k]; !ok && !skip[k] {
			return fmt.Errorf("%w: the edit added the key %s", ErrEdit, k)
		}
	}
	return nil
}

// plainText renders a value of Extra as the text a bold line of it
// holds, so "id: 1234567" (a JSON number) and "**ID**: 1234567" compare
// equal.
func plainText(v any) string {
	switch v := v.(type) {
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return strconv.FormatInt(int64(v), 10)
		}
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	}
	return fmt.Sprint(v)
}

func changed(changes []Change, key string) bool {
	for _, c := range changes {
		if c.Key == key {
			return true
		}
	}
	return false
}

func ptrValue[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// setField sets a known key of a record to a change's value; false for a
// key that goes to Extra.
func setField(r *Record, key string, v any) bool {
	str := func(dst *string) bool {
		s, ok := v.(string)
		if ok {
			*dst = s
		}
		return true
	}
	switch key {
	case "type":
		return str(&r.Type)
	case "title":
		return str(&r.Title)
	case "summary":
		return str(&r.Summary)
	case "domain":
		return str(&r.Domain)
	case "rule":
		return str(&r.Rule)
	case "explanation":
		return str(&r.Explanation)
	case "source_type":
		return str(&r.SourceType)
	case "project_path":
		return str(&r.ProjectPath)
	case "tags":
		if t, ok := v.([]string); ok {
			r.Tags = t
		}
		return true
	case "severity":
		switch n := v.(type) {
		case int:
			r.Severity = n
		case int64:
			r.Severity = int(n)
		}
		return true
	case "created":
		if t, ok := v.(time.Time); ok {
			r.Created = t
		}
		return true
	case "confidence":
		if c, ok := v.(float64); ok {
			r.Confidence = &c
		}
		return true
	case "is_golden":
		if g, ok := v.(bool); ok {
			r.IsGolden = &g
		}
		return true
	case KeyTimesValidated, KeyTimesViolated:
		n, ok := v.(int64)
		if i, isInt := v.(int); isInt {
			n, ok = int64(i), true
		}
		if ok && key == KeyTimesValidated {
			r.TimesValidated = n
		} else if ok {
			r.TimesViolated = n
		}
		return true
	case KeyValidatedBy, KeyViolatedBy:
		if t, ok := v.(Tally); ok {
			if key == KeyValidatedBy {
				r.ValidatedBy = t
			} else {
				r.ViolatedBy = t
			}
		}
		return true
	}
	return false
}
