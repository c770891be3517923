package frontmatter

import (
	"bytes"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// simpleFields reads frontmatter written in the plain subset of YAML that
// scripts and most people write, without yaml.v3: one `key: value` pair per
// line at the left margin, blank lines and "# comment" lines. A value is
// empty (null), a plain scalar, a quoted string without escapes, or a flow
// list of plain scalars like [a, b]. yaml.v3 costs about 80% of Parse on a
// typical note, and the indexer parses tens of thousands of them at start.
//
// For anything outside the subset (indentation, block lists, anchors, tags,
// escapes, comments after a value, a value that opens with an indicator,
// control or line-break characters, ...) it returns ok false and Parse uses
// yaml.v3. Inside the subset the result is what yaml.v3 gives: scalars keep
// their text and get their tag from yaml.v3's own resolution (Node.ShortTag),
// so `no` is a string and 2025-12-01 a timestamp, exactly as there.
// FuzzParse checks that the two agree on every input the subset accepts.
//
// pad is the number of file lines before data, for line numbers. err is a
// repeated key, which yaml.v3's path reports the same way.
func simpleFields(data []byte, pad int) (f fields, ok bool, err error) {
	f = make(fields, 12)
	line := pad
	for len(data) > 0 {
		var l []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			l, data = data, nil
		}
		line++
		if len(bytes.TrimLeft(l, " ")) == 0 {
			continue
		}
		if l[0] == '#' {
			// yaml.v3 refuses control characters even in comments.
			if !safeText(l) {
				return nil, false, nil
			}
			continue
		}
		k := 0
		for k < len(l) && isKeyByte(l[k], k == 0) {
			k++
		}
		if k == 0 || k > 128 || k == len(l) || l[k] != ':' {
			return nil, false, nil
		}
		rest := l[k+1:]
		if len(rest) > 0 && rest[0] != ' ' {
			return nil, false, nil
		}
		val, ok := simpleValue(bytes.Trim(rest, " "), line)
		if !ok {
			return nil, false, nil
		}
		// A repeated key is reported only once the whole block is known to
		// be in the subset, since yaml.v3 would report a syntax error on a
		// later line first.
		if e := addField(f, string(l[:k]), line, val); e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		return nil, true, err
	}
	return f, true, nil
}

// isKeyByte reports whether c may be in a key the subset accepts: letters,
// digits, '_' and '-', starting with a letter or '_'.
func isKeyByte(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		return true
	case c >= '0' && c <= '9', c == '-':
		return !first
	}
	return false
}

func simpleValue(v []byte, line int) (*yaml.Node, bool) {
	if len(v) == 0 {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: line}, true
	}
	switch v[0] {
	case '"', '\'':
		q := v[0]
		if len(v) < 2 || v[len(v)-1] != q {
			return nil, false
		}
		in := v[1 : len(v)-1]
		if bytes.IndexByte(in, q) >= 0 || bytes.IndexByte(in, '\\') >= 0 || !safeText(in) {
			return nil, false
		}
		style := yaml.DoubleQuotedStyle
		if q == '\'' {
			style = yaml.SingleQuotedStyle
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: style, Value: string(in), Line: line}, true
	case '[':
		if v[len(v)-1] != ']' {
			return nil, false
		}
		seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle, Line: line}
		in := v[1 : len(v)-1]
		if len(bytes.Trim(in, " ")) == 0 {
			return seq, true
		}
		for len(in) > 0 || seq.Content == nil {
			var item []byte
			if i := bytes.IndexByte(in, ','); i >= 0 {
				item, in = in[:i], in[i+1:]
				if len(in) == 0 {
					return nil, false // a trailing comma
				}
			} else {
				item, in = in, nil
			}
			item = bytes.Trim(item, " ")
			if !plainSafe(item, true) {
				return nil, false
			}
			seq.Content = append(seq.Content, plainNode(item, line))
		}
		return seq, true
	}
	if !plainSafe(v, false) {
		return nil, false
	}
	return plainNode(v, line), true
}

func plainNode(v []byte, line int) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: string(v), Line: line}
	n.Tag = n.ShortTag() // yaml.v3's resolution of a plain scalar
	return n
}

// plainSafe reports whether v, trimmed, is a plain scalar that yaml.v3 reads
// as exactly its text: it opens with no indicator, holds no ": " or " #"
// (no ':' or '#' at all, and no flow indicator, inside a flow list), and no
// control or line-break character.
func plainSafe(v []byte, flow bool) bool {
	if len(v) == 0 {
		return false
	}
	switch v[0] {
	case '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	}
	for i, c := range v {
		switch c {
		case ':':
			if flow || i+1 == len(v) || v[i+1] == ' ' {
				return false
			}
		case '#':
			if flow || v[i-1] == ' ' {
				return false
			}
		case '[', ']', '{', '}', ',':
			if flow {
				return false
			}
		}
	}
	return safeText(v)
}

// safeText reports whether v holds only characters that yaml.v3 reads as
// themselves on one line: no control characters (tab included), no NEL,
// line or paragraph separator (line breaks to YAML), no byte order mark,
// and nothing yaml.v3 refuses.
func safeText(v []byte) bool {
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7F {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(v[i:])
		switch {
		case r == utf8.RuneError && n == 1,
			r >= 0x80 && r <= 0x9F,
			r == 0x2028, r == 0x2029, r == 0xFEFF, r == 0xFFFE, r == 0xFFFF:
			return false
		}
		i += n
	}
	return true
}
