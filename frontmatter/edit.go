package frontmatter

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Change is one edit of a file's frontmatter: Key set to Value, or removed
// when Delete is set. Value is one of string, int, int64, float64, bool,
// []string, time.Time or Tally; SetFields renders it so that Parse reads
// back exactly that value.
type Change struct {
	Key    string
	Value  any
	Delete bool
}

// ErrEdit wraps every reason SetFields refuses an edit.
var ErrEdit = errors.New("cannot edit frontmatter")

// editKey is what an edited key may be: the framework's keys are plain
// lower-case words.
var editKey = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,63}$`)

func validKey(k string) bool { return editKey.MatchString(k) }

// SetFields returns data with its frontmatter changed as changes say and
// everything else kept byte for byte: the body, other keys with their
// comments, quoting and order, a byte order mark, CRLF line endings. A key
// that is set replaces the whole value of the existing key (matched
// case-insensitively, so `Confidence:` is replaced, not repeated) or is
// added at the end of the block. A file without frontmatter gets a block in
// front of its first line; note that a bold-field file then stops being
// read as one, so callers re-parse the result and compare.
//
// SetFields refuses, wrapping ErrEdit: a key that is not a plain word, a
// value it cannot render, an unterminated block, and a result whose
// frontmatter is not a YAML mapping holding the new values (it checks).
func SetFields(data []byte, changes []Change) ([]byte, error) {
	hasBOM := bytes.HasPrefix(data, bom)
	data = bytes.TrimPrefix(data, bom)
	crlf := bytes.Contains(data, []byte("\r\n"))
	text := string(data)
	if crlf {
		text = strings.ReplaceAll(text, "\r\n", "\n")
	}
	rendered := make([]string, len(changes))
	for i, c := range changes {
		if !validKey(c.Key) {
			return nil, fmt.Errorf("%w: key %q is not a plain word", ErrEdit, c.Key)
		}
		if c.Delete {
			continue
		}
		v, err := renderValue(c.Value)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrEdit, c.Key, err)
		}
		rendered[i] = c.Key + ": " + v
	}

	fm, err := split(text)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEdit, err)
	}
	var head, block, tail string
	if fm.found {
		head, block, tail = text[:fm.yamlStart], text[fm.yamlStart:fm.yamlEnd], text[fm.yamlEnd:]
	} else {
		head, tail = "---\n", "---\n"+text
	}
	lines := splitLines(block)
	for i, c := range changes {
		lines = applyChange(lines, c, rendered[i])
	}
	block = strings.Join(lines, "")
	if err := checkBlock(block, changes); err != nil {
		return nil, err
	}
	out := head + block + tail
	if crlf {
		out = strings.ReplaceAll(out, "\n", "\r\n")
	}
	if hasBOM {
		out = string(bom) + out
	}
	return []byte(out), nil
}

// splitLines splits s after every "\n", keeping the newlines; a last line
// without one gets one.
func splitLines(s string) []string {
	var lines []string
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			lines = append(lines, s+"\n")
			break
		}
		lines = append(lines, s[:i+1])
		s = s[i+1:]
	}
	return lines
}

// TopKey returns the key a top-level "key:" line of a frontmatter block
// starts, or "" (the remote merge splits blocks the way SetFields does).
func TopKey(l string) string { return topKey(l) }

// topKey returns the key a top-level "key:" line starts, or "".
func topKey(l string) string {
	if l == "" || l[0] == ' ' || l[0] == '\t' || l[0] == '#' || l[0] == '-' || l[0] == '\n' {
		return ""
	}
	i := strings.IndexByte(l, ':')
	if i <= 0 {
		return ""
	}
	k := strings.TrimSpace(l[:i])
	if len(k) >= 2 && (k[0] == '"' || k[0] == '\'') && k[len(k)-1] == k[0] {
		k = k[1 : len(k)-1]
	}
	return k
}

// applyChange replaces, removes or appends one key's lines. A key's lines
// are its own line and every following line that is indented, blank or a
// comment, up to the next top-level line; trailing blank and comment lines
// stay where they are.
func applyChange(lines []string, c Change, rendered string) []string {
	start := -1
	for i, l := range lines {
		if strings.EqualFold(topKey(l), c.Key) {
			start = i
			break
		}
	}
	if start < 0 {
		if c.Delete {
			return lines
		}
		return append(lines, rendered+"\n")
	}
	end := start + 1
	for end < len(lines) {
		l := lines[end]
		if l[0] == ' ' || l[0] == '\t' || strings.TrimSpace(l) == "" || l[0] == '#' {
			end++
			continue
		}
		break
	}
	for end > start+1 {
		t := strings.TrimSpace(lines[end-1])
		if t == "" || strings.HasPrefix(t, "#") {
			end--
			continue
		}
		break
	}
	out := append([]string{}, lines[:start]...)
	if !c.Delete {
		out = append(out, rendered+"\n")
	}
	return append(out, lines[end:]...)
}

// renderValue writes v as a one-line YAML value.
func renderValue(v any) (string, error) {
	switch v := v.(type) {
	case string:
		if !isValidText(v) {
			return "", fmt.Errorf("text is not valid UTF-8")
		}
		return Quote(v), nil
	case int:
		return strconv.Itoa(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case float64:
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0"
		}
		if strings.ContainsAny(s, "NIn") {
			return "", fmt.Errorf("number %v", v)
		}
		return s, nil
	case bool:
		return strconv.FormatBool(v), nil
	case time.Time:
		return FormatCreated(v), nil
	case []string:
		parts := make([]string, len(v))
		for i, s := range v {
			if !isValidText(s) {
				return "", fmt.Errorf("text is not valid UTF-8")
			}
			parts[i] = Quote(s)
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	case Tally:
		for k := range v {
			if !ValidTallyKey(k) {
				return "", fmt.Errorf("tally key %q", k)
			}
		}
		return v.String(), nil
	}
	return "", fmt.Errorf("value of type %T", v)
}

func isValidText(s string) bool {
	return !strings.ContainsRune(s, 0) && strings.ToValidUTF8(s, "\uFFFD") == s
}

// checkBlock parses the edited YAML and checks that it is a mapping in
// which each changed key holds what was asked (or is gone), so that a bug
// here can never write a file that reads differently from the caller's
// intent.
func checkBlock(block string, changes []Change) error {
	var m map[string]any
	if err := yaml.Unmarshal([]byte(block), &m); err != nil {
		return fmt.Errorf("%w: the edited frontmatter does not parse: %v", ErrEdit, err)
	}
	for _, c := range changes {
		got, ok := m[c.Key]
		if c.Delete {
			if ok {
				return fmt.Errorf("%w: %s still present after removal", ErrEdit, c.Key)
			}
			continue
		}
		if !ok || !sameValue(got, c.Value) {
			return fmt.Errorf("%w: %s reads back as %v, not %v", ErrEdit, c.Key, got, c.Value)
		}
	}
	return nil
}

// sameValue compares a value yaml.v3 decoded with the one SetFields wrote.
func sameValue(got, want any) bool {
	switch w := want.(type) {
	case string:
		g, ok := got.(string)
		return ok && g == w
	case int:
		g, ok := got.(int)
		return ok && g == w
	case int64:
		g, ok := got.(int)
		return ok && int64(g) == w
	case float64:
		switch g := got.(type) {
		case float64:
			return g == w
		case int:
			return float64(g) == w
		}
		return false
	case bool:
		g, ok := got.(bool)
		return ok && g == w
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w.UTC().Truncate(time.Second))
	case []string:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if s, ok := g[i].(string); !ok || s != w[i] {
				return false
			}
		}
		return true
	case Tally:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k, n := range w {
			if v, ok := g[k].(int); !ok || int64(v) != n {
				return false
			}
		}
		return true
	}
	return false
}
