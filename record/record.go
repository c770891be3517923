package record

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/layout"
)

// The old framework's limits, in characters (Unicode code points), checked
// after surrounding white space is trimmed. Tags are counted as written:
// comma-joined without spaces. The source limit is new: with it, even a
// record whose every character needs a 6-byte escape keeps its frontmatter
// under frontmatter.MaxFrontmatterSize.
const (
	MaxTitle       = 200
	MaxSummary     = 5000
	MaxExplanation = 5000
	MaxRule        = 500
	MaxDomain      = 100
	MaxTags        = 500
	MaxSource      = 500
)

// Field is one value a record type takes: a flag of `elfsync record`, an
// argument of the MCP tools, and, upper-cased after the type's Env prefix,
// an environment variable of the scripts.
type Field struct {
	Name  string // "title"
	Usage string // one line for help texts
}

var learningFields = []Field{
	{"title", fmt.Sprintf("required; at most %d characters", MaxTitle)},
	{"domain", fmt.Sprintf("at most %d characters", MaxDomain)},
	{"severity", "1-5 or low=2, medium=3, high=4, critical=5 (default 3)"},
	{"tags", fmt.Sprintf("comma-separated; at most %d characters", MaxTags)},
	{"summary", fmt.Sprintf("at most %d characters", MaxSummary)},
}

var heuristicFields = []Field{
	{"domain", fmt.Sprintf("required; at most %d characters", MaxDomain)},
	{"rule", fmt.Sprintf("required; at most %d characters", MaxRule)},
	{"explanation", fmt.Sprintf("at most %d characters", MaxExplanation)},
	{"confidence", "low=0.3, medium=0.6, high=0.9 or a number from 0 to 1 (default 0.5)"},
	{"source", fmt.Sprintf(`where the rule comes from (default "observation"); at most %d characters`, MaxSource)},
	{"tags", fmt.Sprintf("comma-separated; at most %d characters", MaxTags)},
}

// ErrUnknownType is returned for a type that is not one of layout.Kinds.
var ErrUnknownType = errors.New("unknown record type")

// Fields returns the fields a record type takes, in help order.
func Fields(typ string) ([]Field, error) {
	switch {
	case typ == layout.TypeHeuristic:
		return heuristicFields, nil
	case layout.Folder(typ) != "":
		return learningFields, nil
	}
	return nil, fmt.Errorf("%w %q (want %s)", ErrUnknownType, typ, layout.Types(", "))
}

// Env returns the prefix of a type's environment variables: FAILURE for
// failure (FAILURE_TITLE, ...).
func Env(typ string) string { return strings.ToUpper(typ) }

// Write records a new memory of type typ from raw field values (as given:
// they are trimmed and checked here) under memoryDir/<folder>/, created at
// now (truncated to the second, in UTC), and returns the new file's path.
// A value that breaks a rule is an error naming the field; nothing is
// written then.
func Write(memoryDir, typ string, fields map[string]string, now time.Time) (string, error) {
	created := now.UTC().Truncate(time.Second)
	r, err := Build(typ, fields, created)
	if err != nil {
		return "", err
	}
	data, err := frontmatter.Encode(r)
	if err != nil {
		return "", err
	}
	title := r.Title
	if typ == layout.TypeHeuristic {
		title = r.Rule
	}
	return writeUnique(filepath.Join(memoryDir, layout.Folder(typ)), created, frontmatter.Slug(title), data)
}

// Build checks raw field values the way the scripts do and returns the
// record to encode. Keys of in that typ does not take are ignored.
func Build(typ string, in map[string]string, created time.Time) (frontmatter.Record, error) {
	fields, err := Fields(typ)
	if err != nil {
		return frontmatter.Record{}, err
	}
	v := make(map[string]string, len(fields))
	for _, f := range fields { // in help order, so the first bad field is named
		if !utf8.ValidString(in[f.Name]) {
			return frontmatter.Record{}, fmt.Errorf("%s is not valid UTF-8", f.Name)
		}
		v[f.Name] = strings.TrimSpace(in[f.Name])
	}
	tags := SplitTags(v["tags"])
	if err := checkLength("domain", v["domain"], MaxDomain); err != nil {
		return frontmatter.Record{}, err
	}
	if err := checkLength("tags", strings.Join(tags, ","), MaxTags); err != nil {
		return frontmatter.Record{}, err
	}
	r := frontmatter.Record{Type: typ, Domain: v["domain"], Tags: tags, Created: created}
	if typ == layout.TypeHeuristic {
		return buildHeuristic(r, v)
	}
	if v["title"] == "" {
		return r, fmt.Errorf("title is required (--title or %s_TITLE)", Env(typ))
	}
	if err := checkLength("title", v["title"], MaxTitle); err != nil {
		return r, err
	}
	if err := checkLength("summary", v["summary"], MaxSummary); err != nil {
		return r, err
	}
	r.Severity = 3
	if s := v["severity"]; s != "" {
		if r.Severity, err = parseSeverity(s); err != nil {
			return r, err
		}
	}
	r.Title, r.Summary = v["title"], v["summary"]
	return r, nil
}

func buildHeuristic(r frontmatter.Record, v map[string]string) (frontmatter.Record, error) {
	if r.Domain == "" {
		return r, errors.New("domain is required (--domain or HEURISTIC_DOMAIN)")
	}
	if v["rule"] == "" {
		return r, errors.New("rule is required (--rule or HEURISTIC_RULE)")
	}
	for _, c := range []struct {
		name  string
		limit int
	}{{"rule", MaxRule}, {"explanation", MaxExplanation}, {"source", MaxSource}} {
		if err := checkLength(c.name, v[c.name], c.limit); err != nil {
			return r, err
		}
	}
	c := 0.5
	if s := v["confidence"]; s != "" {
		var err error
		if c, err = parseConfidence(s); err != nil {
			return r, err
		}
	}
	r.Title, r.Rule, r.Explanation, r.Confidence = v["rule"], v["rule"], v["explanation"], &c
	r.SourceType = v["source"]
	if r.SourceType == "" {
		r.SourceType = "observation"
	}
	return r, nil
}

func checkLength(name, value string, limit int) error {
	if n := utf8.RuneCountInString(value); n > limit {
		return fmt.Errorf("%s is %d characters long; the limit is %d", name, n, limit)
	}
	return nil
}

// SplitTags splits a comma string, trims each tag and drops empty ones.
func SplitTags(s string) []string {
	var tags []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

// severityRE is the severity syntax the scripts accept: one digit or a
// word in ASCII letters (their tr lower-cases ASCII only, in the C locale).
// The values are frontmatter's (SeverityValue).
var severityRE = regexp.MustCompile(`^(?:[1-5]|[A-Za-z]+)$`)

// parseSeverity accepts 1-5 or low/medium/high/critical (any ASCII case).
func parseSeverity(s string) (int, error) {
	if severityRE.MatchString(s) {
		if n, ok := frontmatter.SeverityValue(s); ok {
			return n, nil
		}
	}
	return 0, fmt.Errorf("severity %q: want 1-5 or low, medium, high, critical", s)
}

// confidenceRE is the confidence syntax the scripts accept: an ASCII word,
// or 0 or 1 with up to 15 decimals, or the decimals alone (".5"). Fifteen
// decimals is what a float64 gives back exactly, so Encode writes the
// number the way the scripts do (trailing zeros dropped). The values are
// frontmatter's (ConfidenceValue).
var confidenceRE = regexp.MustCompile(`^(?:[01](?:\.[0-9]{0,15})?|\.[0-9]{1,15}|[A-Za-z]+)$`)

// parseConfidence accepts low/medium/high (0.3/0.6/0.9, as frontmatter
// reads them) or a number from 0 to 1.
func parseConfidence(s string) (float64, error) {
	if confidenceRE.MatchString(s) {
		if c, ok := frontmatter.ConfidenceValue(s); ok {
			return c, nil
		}
	}
	return 0, fmt.Errorf("confidence %q: want a number from 0 to 1 (at most 15 decimals) or low, medium, high", s)
}
