package frontmatter

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The layout Encode writes, and scripts/lib-record.sh writes byte for byte
// the same, for every type but heuristic:
//
//	---
//	type: failure
//	title: "Title"
//	domain: "Domain"
//	severity: 3
//	tags: "a,b"
//	summary: "Summary"
//	created: "2026-11-27T17:00:00Z"
//	---
//
//	# Title
//
//	## Summary
//
//	Summary
//
// and for a heuristic:
//
//	---
//	type: heuristic
//	title: "Rule"
//	domain: "Domain"
//	tags: "a,b"
//	rule: "Rule"
//	explanation: "Explanation"
//	confidence: 0.5
//	source_type: "observation"
//	created: "2026-11-27T17:00:00Z"
//	---
//
//	# Rule
//
//	Explanation
//
// Every line ends in "\n". Every string value is a YAML double-quoted scalar
// (see Quote), so no value can end the frontmatter, start a comment or be
// read as another type. The body repeats the title (its line breaks turned
// into spaces so it stays one heading) and the summary or explanation as
// they are: the frontmatter is closed by then, so nothing in the body can
// change what the frontmatter says. A "## Summary" section (or a
// heuristic's explanation paragraph) is left out when the text is empty, so
// a reader's body fallbacks find nothing that the frontmatter does not say.
//
// Keys whose Record field is unset are left out: severity 0, a nil
// Confidence and a zero Created. elfsync record and the scripts always set
// all three.

// ErrUnencodable reports a text value Encode refuses: one that is not
// valid UTF-8 (YAML cannot hold it) or that holds a NUL byte (Parse refuses
// such a file as binary, and the body copies the text as it is).
var ErrUnencodable = errors.New("not valid UTF-8 text without NUL bytes")

// Encode returns the bytes of a new memory file holding r, in the layout
// above. It reads Type, Title, Domain, Tags, Severity, Summary and Created,
// and for heuristics Rule (the title when empty), Explanation, Confidence
// and SourceType; other fields are ignored. It refuses (ErrUnencodable)
// text that is not valid UTF-8 or holds a NUL byte, an unknown type, a
// severity outside 1-5 and a confidence outside 0-1. Tags are written comma-joined as
// they are: callers split, trim and drop empty tags first (a tag holding a
// comma would come back as two). The output is deterministic: the same
// Record always gives the same bytes.
func Encode(r Record) ([]byte, error) {
	var b strings.Builder
	field := func(name, value string) error {
		if !utf8.ValidString(value) || strings.IndexByte(value, 0) >= 0 {
			return fmt.Errorf("encode %s: %w", name, ErrUnencodable)
		}
		b.WriteString(name)
		b.WriteString(": ")
		b.WriteString(Quote(value))
		b.WriteByte('\n')
		return nil
	}
	created := ""
	if !r.Created.IsZero() {
		created = FormatCreated(r.Created)
	}
	tags := strings.Join(r.Tags, ",")

	b.WriteString("---\n")
	switch r.Type {
	case TypeHeuristic:
		rule, title := r.Rule, r.Title
		if rule == "" {
			rule = title
		}
		if title == "" {
			title = rule
		}
		b.WriteString("type: heuristic\n")
		for _, f := range []struct{ name, value string }{
			{"title", title}, {"domain", r.Domain}, {"tags", tags},
			{"rule", rule}, {"explanation", r.Explanation},
		} {
			if err := field(f.name, f.value); err != nil {
				return nil, err
			}
		}
		if r.Confidence != nil {
			c, err := FormatConfidence(*r.Confidence)
			if err != nil {
				return nil, err
			}
			b.WriteString("confidence: " + c + "\n")
		}
		if err := field("source_type", r.SourceType); err != nil {
			return nil, err
		}
		if created != "" {
			b.WriteString("created: " + Quote(created) + "\n")
		}
		b.WriteString("---\n\n# " + Heading(rule) + "\n")
		if r.Explanation != "" {
			b.WriteString("\n" + r.Explanation + "\n")
		}
	case TypeFailure, TypeSuccess, TypeObservation, TypeExperiment, TypeDecision:
		b.WriteString("type: " + r.Type + "\n")
		if err := field("title", r.Title); err != nil {
			return nil, err
		}
		if err := field("domain", r.Domain); err != nil {
			return nil, err
		}
		if r.Severity != 0 {
			if r.Severity < 1 || r.Severity > 5 {
				return nil, fmt.Errorf("encode severity %d: want 1-5", r.Severity)
			}
			b.WriteString("severity: " + strconv.Itoa(r.Severity) + "\n")
		}
		if err := field("tags", tags); err != nil {
			return nil, err
		}
		if err := field("summary", r.Summary); err != nil {
			return nil, err
		}
		if created != "" {
			b.WriteString("created: " + Quote(created) + "\n")
		}
		b.WriteString("---\n\n# " + Heading(r.Title) + "\n")
		if r.Summary != "" {
			b.WriteString("\n## Summary\n\n" + r.Summary + "\n")
		}
	default:
		return nil, fmt.Errorf("encode: unknown type %q", r.Type)
	}
	return []byte(b.String()), nil
}

// Quote returns s as a YAML double-quoted scalar that any YAML 1.1 or 1.2
// reader gives back as exactly s. Backslash, double quote, newline, tab and
// carriage return get their short escapes (\\ \" \n \t \r). Other C0
// controls, DEL and the C1 controls U+0080-U+009F become \xNN (U+0085, NEL,
// among them: YAML readers treat it as a line break). U+2028 and U+2029
// (line and paragraph separators, also breaks to yaml.v3) and the
// non-characters YAML forbids or mishandles (U+FEFF, U+FFFE, U+FFFF) become
// \uNNNN. Hex digits are upper case. Everything else, emoji and
// right-to-left text included, is copied as UTF-8. s must be valid UTF-8;
// an invalid byte comes out as U+FFFD.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || (r >= 0x7F && r <= 0x9F):
			fmt.Fprintf(&b, `\x%02X`, r)
		case r == 0x2028 || r == 0x2029 || r == 0xFEFF || r == 0xFFFE || r == 0xFFFF:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Heading returns s fit for a one-line "# " heading: every "\r" and "\n"
// becomes a space (one space each, so "a\r\nb" gives "a  b").
func Heading(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// FormatCreated returns t as the created value: UTC, RFC 3339, whole
// seconds ("2026-11-27T17:00:00Z").
func FormatCreated(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// FormatConfidence returns c (0-1) as the shortest decimal that reads back
// as c, always with a point ("0.5", "1.0", "0.0"). The scripts, which cannot
// do floating point, get the same text by stripping trailing zeros from a
// number of at most 15 decimals, which a float64 holds exactly enough to
// give back the same shortest form.
func FormatConfidence(c float64) (string, error) {
	if !(c >= 0 && c <= 1) {
		return "", fmt.Errorf("encode confidence %v: want 0-1", c)
	}
	s := strconv.FormatFloat(c, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s, nil
}

// MaxSlug is the longest slug FileName uses.
const MaxSlug = 60

// Slug turns a title into the file-name part of a record: ASCII letters
// (lower-cased) and digits are kept, every other byte becomes '-', runs of
// '-' collapse into one, '-' is trimmed from both ends, the result is cut to
// MaxSlug bytes (and trimmed again), and an empty slug is "untitled".
func Slug(title string) string {
	var b strings.Builder
	dash := false
	for i := 0; i < len(title); i++ {
		c := title[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		default:
			dash = b.Len() > 0
			continue
		}
		if dash {
			b.WriteByte('-')
			dash = false
		}
		b.WriteByte(c)
	}
	s := b.String()
	if len(s) > MaxSlug {
		s = strings.TrimRight(s[:MaxSlug], "-")
	}
	if s == "" {
		return "untitled"
	}
	return s
}

// FileName returns the name of the n-th candidate file for a record created
// at created with the given slug: "YYYYMMDD_slug.md" for n <= 1, then
// "YYYYMMDD_slug-2.md", "YYYYMMDD_slug-3.md", ... The date is UTC, like
// created.
func FileName(created time.Time, slug string, n int) string {
	name := created.UTC().Format("20060102") + "_" + slug
	if n > 1 {
		name += "-" + strconv.Itoa(n)
	}
	return name + ".md"
}
