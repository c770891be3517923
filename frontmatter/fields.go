package frontmatter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/emergent-learning/elfsync/layout"
)

// field is one key: value pair of a file, from its frontmatter or from a
// bold-field line. Bold-field values are plain string scalars, so both styles
// go through the same interpretation below.
type field struct {
	name string // the key as the file spells it, for error messages
	line int    // the key's line in the file
	val  *yaml.Node
}

// fields are a file's pairs keyed by lower-cased name.
type fields map[string]field

// take removes and returns the named field. A field whose value is null or
// blank (`title:` with nothing after it, or `severity: ""` from a script
// that had no value) counts as absent, so its fallback applies.
func (f fields) take(key string) (field, bool) {
	fl, ok := f[key]
	if !ok {
		return field{}, false
	}
	delete(f, key)
	if n := resolve(fl.val); isNull(n) || (n.Kind == yaml.ScalarNode && strings.TrimSpace(n.Value) == "") {
		return field{}, false
	}
	return fl, true
}

// takeAlias is take(key), else take(alias): an alias such as `source` for
// `source_type` is used only when the main key is absent, and otherwise
// stays in Extra like any other key.
func (f fields) takeAlias(key, alias string) (field, bool) {
	if _, ok := f[key]; ok {
		return f.take(key)
	}
	return f.take(alias)
}

// hasText reports whether the named field is a scalar with a non-blank
// value.
func (f fields) hasText(key string) bool {
	fl, ok := f[key]
	if !ok {
		return false
	}
	n := resolve(fl.val)
	return n.Kind == yaml.ScalarNode && !isNull(n) && strings.TrimSpace(n.Value) != ""
}

func strNode(value string, line int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value, Line: line}
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// yamlFields checks the decoded frontmatter and returns its top-level pairs.
// fm is where the block sits, for messages: a file that opens with a "---"
// horizontal rule and has another one later is read as frontmatter, which
// its writer will not expect.
func yamlFields(doc *yaml.Node, fm fence) (fields, error) {
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return fields{}, nil // an empty block, or only comments
	}
	root := doc.Content[0]
	if err := checkExpansion(root); err != nil {
		return nil, err
	}
	root = resolve(root)
	switch root.Kind {
	case yaml.MappingNode:
	case yaml.ScalarNode:
		if isNull(root) {
			return fields{}, nil
		}
		return nil, notMapping(fm, "a single value")
	case yaml.SequenceNode:
		return nil, notMapping(fm, "a list")
	default:
		return nil, notMapping(fm, "not a mapping")
	}
	f := make(fields, len(root.Content)/2)
	if err := addPairs(f, root, false); err != nil {
		return nil, err
	}
	return f, nil
}

func notMapping(fm fence, what string) error {
	return fmt.Errorf("%w: the text between the --- lines %d and %d is %s, not key: value pairs",
		ErrYAML, fm.openLine, fm.bodyLine-1, what)
}

// yamlMessage returns a yaml.v3 error's text on one line, without the
// "yaml: " prefix.
func yamlMessage(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return strings.Join(te.Errors, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

// addPairs adds a mapping's pairs to f. Keys are case-insensitive, so
// `Title` and `title` in one mapping are a repeated key, which yaml.v3 itself
// reports only for identical spellings. Merge keys (`<<: *base`) are honoured
// the YAML way: the mapping's own keys win over merged ones, earlier merged
// mappings over later ones.
func addPairs(f fields, m *yaml.Node, merged bool) error {
	var merges []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := resolve(m.Content[i]), m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return fmt.Errorf("%w: line %d: a key is not a plain word", ErrYAML, k.Line)
		}
		if k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if merged {
			if _, ok := f[fieldName(k.Value)]; ok {
				continue
			}
		}
		if err := addField(f, k.Value, k.Line, v); err != nil {
			return err
		}
	}
	for _, v := range merges {
		v = resolve(v)
		var maps []*yaml.Node
		switch v.Kind {
		case yaml.MappingNode:
			maps = []*yaml.Node{v}
		case yaml.SequenceNode:
			maps = v.Content
		}
		if len(maps) == 0 {
			return fmt.Errorf("%w: line %d: a merge (<<) needs a mapping or a list of mappings", ErrYAML, v.Line)
		}
		for _, mm := range maps {
			mm = resolve(mm)
			if mm.Kind != yaml.MappingNode {
				return fmt.Errorf("%w: line %d: a merge (<<) needs a mapping or a list of mappings", ErrYAML, mm.Line)
			}
			if err := addPairs(f, mm, true); err != nil {
				return err
			}
		}
	}
	return nil
}

func fieldName(key string) string {
	return strings.ToLower(strings.TrimSpace(key))
}

// addField adds a pair to f, refusing a key f already has in any case.
func addField(f fields, name string, line int, val *yaml.Node) error {
	key := fieldName(name)
	if old, ok := f[key]; ok {
		return fmt.Errorf("%w: line %d: key %q repeats %q of line %d (keys are case-insensitive)",
			ErrYAML, line, name, old.name, old.line)
	}
	f[key] = field{name: name, line: line, val: val}
	return nil
}

// checkExpansion refuses YAML whose aliases expand past maxYAMLNodes (a
// "billion laughs" bomb) or refer to themselves. It counts nodes with every
// alias expanded, remembering each anchored node's count, so it runs in time
// linear in the unexpanded document.
func checkExpansion(root *yaml.Node) error {
	var memo map[*yaml.Node]int // anchored node -> expanded count; -1 while counting it
	var count func(n *yaml.Node) (int, error)
	count = func(n *yaml.Node) (int, error) {
		if n.Kind == yaml.AliasNode {
			if n.Alias == nil {
				return 1, nil
			}
			n = n.Alias
		}
		if n.Anchor != "" {
			if memo == nil {
				memo = make(map[*yaml.Node]int)
			}
			switch c, ok := memo[n]; {
			case ok && c < 0:
				return 0, fmt.Errorf("%w: line %d: anchor &%s contains an alias to itself", ErrYAML, n.Line, n.Anchor)
			case ok:
				return c, nil
			}
			memo[n] = -1
		}
		total := 1
		for _, c := range n.Content {
			k, err := count(c)
			if err != nil {
				return 0, err
			}
			total += k
			if total > maxYAMLNodes {
				return 0, fmt.Errorf("%w: line %d: aliases expand to more than %d values", ErrYAML, n.Line, maxYAMLNodes)
			}
		}
		if n.Anchor != "" {
			memo[n] = total
		}
		return total, nil
	}
	_, err := count(root)
	return err
}

// describe shows a bad value in an error message.
func describe(n *yaml.Node) string {
	n = resolve(n)
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:37] + "..."
	}
	return strconv.Quote(v)
}

func badField(fl field, want string) error {
	return fmt.Errorf("%w %s (line %d): want %s, got %s", ErrField, fl.name, fl.line, want, describe(fl.val))
}

// text returns a scalar field's value, trimmed. Numbers and booleans are
// taken as written (`title: 1.50` is "1.50").
func (fl field) text() (string, error) {
	n := resolve(fl.val)
	if n.Kind != yaml.ScalarNode {
		return "", badField(fl, "text")
	}
	return strings.TrimSpace(n.Value), nil
}

// cleanPath returns a memory-relative path without "./" or "/" in front.
func cleanPath(p string) string {
	if p == "" {
		return ""
	}
	p = path.Clean(p)
	for strings.HasPrefix(p, "/") || strings.HasPrefix(p, "./") {
		p = strings.TrimPrefix(strings.TrimPrefix(p, "/"), "./")
	}
	if p == "." {
		return ""
	}
	return p
}

// baseName returns the file name without a ".md" extension.
func baseName(p string) string {
	if p == "" {
		return ""
	}
	b := path.Base(p)
	if ext := path.Ext(b); strings.EqualFold(ext, ".md") {
		b = b[:len(b)-len(ext)]
	}
	return b
}

// dateFromName returns the date of a YYYYMMDD_ file-name prefix, as the
// framework's scripts named files.
func dateFromName(p string) (time.Time, bool) {
	b := path.Base(p)
	if len(b) < 9 || b[8] != '_' {
		return time.Time{}, false
	}
	for i := 0; i < 8; i++ {
		if b[i] < '0' || b[i] > '9' {
			return time.Time{}, false
		}
	}
	t, err := time.Parse("20060102", b[:8])
	return t, err == nil
}

var severityWords = map[string]int{"low": 2, "medium": 3, "high": 4, "critical": 5}

// SeverityValue reads a severity as Parse does: 1-5, or low, medium, high,
// critical (any case) for 2, 3, 4, 5. ok is false for anything else.
func SeverityValue(s string) (n int, ok bool) {
	if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= 5 {
		return n, true
	}
	n, ok = severityWords[strings.ToLower(s)]
	return n, ok
}

func severity(fl field) (int, error) {
	const want = "1-5 or low, medium, high, critical"
	s, err := fl.text()
	if err != nil {
		return 0, badField(fl, want)
	}
	if n, ok := SeverityValue(s); ok {
		return n, nil
	}
	return 0, badField(fl, want)
}

// confidenceWords are the words Parse accepts for a confidence, for files
// written by people rather than scripts.
var confidenceWords = map[string]float64{"low": 0.3, "medium": 0.6, "high": 0.9}

// ConfidenceValue reads a confidence as Parse does: a number from 0 to 1,
// or low, medium, high (any case) for 0.3, 0.6, 0.9. ok is false for
// anything else, NaN included.
func ConfidenceValue(s string) (c float64, ok bool) {
	if c, ok := confidenceWords[strings.ToLower(s)]; ok {
		return c, true
	}
	c, err := strconv.ParseFloat(s, 64)
	if err != nil || !(c >= 0 && c <= 1) { // also refuses NaN
		return 0, false
	}
	return c, true
}

func confidence(fl field) (float64, error) {
	const want = "a number from 0 to 1 or low, medium, high"
	s, err := fl.text()
	if err != nil {
		return 0, badField(fl, want)
	}
	if c, ok := ConfidenceValue(s); ok {
		return c, nil
	}
	return 0, badField(fl, want)
}

func isGolden(fl field) (bool, error) {
	s, err := fl.text()
	if err == nil {
		switch strings.ToLower(s) {
		case "true", "yes":
			return true, nil
		case "false", "no":
			return false, nil
		}
	}
	return false, badField(fl, "true, false, yes or no")
}

// timeLayouts are the created forms Parse accepts. time.Parse takes a
// fractional second after the seconds even when the layout has none; a time
// without a zone is UTC.
var timeLayouts = []string{
	"2006-01-02",
	time.RFC3339,
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
}

func created(fl field) (time.Time, error) {
	s, err := fl.text()
	if err == nil {
		for _, layout := range timeLayouts {
			if layout == "2006-01-02" && len(s) != len(layout) {
				continue
			}
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), nil
			}
		}
	}
	return time.Time{}, badField(fl, "a date or time like 2025-12-01 or 2025-12-01T10:00:00Z")
}

func tags(fl field) ([]string, error) {
	const want = "a list or a comma-separated string"
	n := resolve(fl.val)
	switch n.Kind {
	case yaml.ScalarNode:
		return splitTags(nil, n.Value), nil
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			c = resolve(c)
			if c.Kind != yaml.ScalarNode {
				return nil, badField(fl, want+" of words")
			}
			if !isNull(c) {
				out = splitTags(out, c.Value)
			}
		}
		return out, nil
	}
	return nil, badField(fl, want)
}

// splitTags appends the comma-separated tags of s, trimmed, empty ones
// dropped. A list item holding a comma is split too, since tags are stored
// comma-joined.
func splitTags(out []string, s string) []string {
	for s != "" {
		t := s
		if i := strings.IndexByte(s, ','); i >= 0 {
			t, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// build turns a file's fields and body into a Record.
func build(in Input, f fields, s bodyScan, body string) (Record, error) {
	r := Record{Body: body, Updated: in.ModTime.UTC()}
	p := cleanPath(in.Path)
	var err error

	if fl, ok := f.take("type"); ok {
		v, err := fl.text()
		if r.Type = layout.TypeWord(v); err != nil || r.Type == "" {
			return Record{}, badField(fl, "failure, success, heuristic, observation, experiment or decision")
		}
	} else if r.Type = layout.TypeOfPath(p); r.Type == "" {
		return Record{}, ErrNoType
	}

	text := func(key string, dst *string) error {
		if fl, ok := f.take(key); ok {
			v, err := fl.text()
			*dst = v
			return err
		}
		return nil
	}
	for _, t := range []struct {
		key string
		dst *string
	}{
		{"title", &r.Title},
		{"summary", &r.Summary},
		{"domain", &r.Domain},
		{"rule", &r.Rule},
		{"explanation", &r.Explanation},
	} {
		if err := text(t.key, t.dst); err != nil {
			return Record{}, err
		}
	}
	if fl, ok := f.takeAlias("source_type", "source"); ok {
		if r.SourceType, err = fl.text(); err != nil {
			return Record{}, err
		}
	}
	if fl, ok := f.take("tags"); ok {
		if r.Tags, err = tags(fl); err != nil {
			return Record{}, err
		}
	}
	if fl, ok := f.takeAlias("severity", "significance"); ok {
		if r.Severity, err = severity(fl); err != nil {
			return Record{}, err
		}
	}
	if fl, ok := f.takeAlias("created", "date"); ok {
		if r.Created, err = created(fl); err != nil {
			return Record{}, err
		}
	} else if t, ok := dateFromName(p); ok {
		r.Created = t
	} else {
		r.Created = in.ModTime.UTC()
	}
	if fl, ok := f.take("confidence"); ok {
		c, err := confidence(fl)
		if err != nil {
			return Record{}, err
		}
		r.Confidence = &c
	}
	if fl, ok := f.take("is_golden"); ok {
		g, err := isGolden(fl)
		if err != nil {
			return Record{}, err
		}
		r.IsGolden = &g
	}

	if fl, ok := f.take("project_path"); ok {
		if r.ProjectPath, err = fl.text(); err != nil {
			return Record{}, err
		}
	}
	for _, c := range []struct {
		plainKey, tallyKey string
		dst                *int64
		tally              *Tally
	}{
		{KeyTimesValidated, KeyValidatedBy, &r.TimesValidated, &r.ValidatedBy},
		{KeyTimesViolated, KeyViolatedBy, &r.TimesViolated, &r.ViolatedBy},
	} {
		if fl, ok := f.take(c.tallyKey); ok {
			if *c.tally, err = tallyField(fl); err != nil {
				return Record{}, err
			}
		}
		var plain int64
		var have bool
		if fl, ok := f.take(c.plainKey); ok {
			if plain, have, err = counterField(fl); err != nil {
				return Record{}, err
			}
		}
		*c.dst = counter(plain, have, *c.tally)
	}

	if r.Title == "" {
		r.Title = s.title
	}
	if r.Title == "" {
		r.Title = baseName(p)
	}
	if r.Summary == "" {
		r.Summary = s.summary
	}
	if r.Summary == "" {
		r.Summary = s.first
	}
	if r.Rule == "" {
		r.Rule = r.Title
	}
	if r.Explanation == "" {
		r.Explanation = r.Summary
	}
	if r.Extra, err = extra(f); err != nil {
		return Record{}, err
	}
	return r, nil
}

// extra returns the fields left over as a JSON object with sorted keys.
func extra(f fields) (string, error) {
	if len(f) == 0 {
		return "", nil
	}
	m := make(map[string]any, len(f))
	for key, fl := range f {
		n := resolve(fl.val)
		if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
			m[key] = n.Value // bold fields and quoted strings: no decoder needed
			continue
		}
		var v any
		if err := fl.val.Decode(&v); err != nil {
			return "", fmt.Errorf("%w: %s: %s", ErrYAML, fl.name, yamlMessage(err))
		}
		m[key] = jsonValue(v)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return "", fmt.Errorf("%w: extra keys as JSON: %v", errInternal, err)
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// jsonValue makes a decoded YAML value marshalable: maps with non-string
// keys get string keys, times become RFC 3339 strings, and NaN and the
// infinities, which JSON lacks, become their YAML spellings.
func jsonValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = jsonValue(e)
		}
		return v
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			ks := "null"
			if k != nil {
				ks = fmt.Sprint(jsonValue(k))
			}
			m[ks] = jsonValue(e)
		}
		return m
	case []any:
		for i, e := range v {
			v[i] = jsonValue(e)
		}
		return v
	case time.Time:
		return v.Format(time.RFC3339Nano)
	case float64:
		switch {
		case math.IsNaN(v):
			return ".nan"
		case math.IsInf(v, 1):
			return ".inf"
		case math.IsInf(v, -1):
			return "-.inf"
		}
	}
	return v
}
