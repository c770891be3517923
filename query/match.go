package query

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// ErrBadQuery wraps a search query that FTS5 rejects, or one that has
// nothing to search for. Callers map it to a usage error (exit 2).
var ErrBadQuery = errors.New("bad search query")

// maxQueryTerms bounds the terms of one query, so that a pasted log file
// does not become a thousand-term FTS5 expression.
const maxQueryTerms = 64

// match is a query turned into an FTS5 MATCH expression.
type match struct {
	expr   string   // the MATCH expression, terms joined by AND (implicit)
	or     string   // the same terms joined by OR; "" when syntax was used
	terms  []string // lower-cased words to highlight, prefix terms without '*'
	prefix []bool   // terms[i] is a prefix term
	syntax bool     // the user wrote FTS5 syntax
}

// buildMatch turns user text into an FTS5 expression.
//
// Plain text is split on white space; each piece that holds a letter or a
// digit becomes one quoted FTS5 string ("a-b" is the phrase a b, as FTS5
// tokenizes it), so punctuation, '-', ':', '^', parentheses and stray quotes
// in what an agent pastes are never syntax. Pieces without a letter or a
// digit are dropped.
//
// FTS5 syntax passes through when the user wrote it: a "quoted phrase", a
// prefix term (lock*), the operators AND, OR and NOT in capitals, and
// free-standing parentheses around such an expression. Even then the other words are
// quoted as above, so `error: "database is locked" NOT wal` is the phrase
// and the two words, never a column filter on "error".
func buildMatch(text string) (match, error) {
	var m match
	toks, syntax := lex(text)
	m.syntax = syntax
	var parts, plain []string
	for _, t := range toks {
		switch t.kind {
		case tokOp:
			parts = append(parts, t.text)
		case tokWord, tokPhrase, tokPrefix:
			q := quote(t.text)
			if t.kind == tokPrefix {
				q += "*"
			}
			parts = append(parts, q)
			plain = append(plain, q)
			for _, w := range words(t.text) {
				m.terms = append(m.terms, w)
				m.prefix = append(m.prefix, t.kind == tokPrefix)
			}
		}
	}
	if len(plain) == 0 {
		return m, fmt.Errorf("%w: %q has no word to search for", ErrBadQuery, truncate(text, 80))
	}
	if len(plain) > maxQueryTerms {
		return m, fmt.Errorf("%w: %d terms; at most %d", ErrBadQuery, len(plain), maxQueryTerms)
	}
	m.expr = strings.Join(parts, " ")
	if !syntax && len(plain) > 1 {
		m.or = strings.Join(plain, " OR ")
	}
	return m, nil
}

type tokKind int

const (
	tokWord tokKind = iota
	tokPhrase
	tokPrefix
	tokOp // AND, OR, NOT, ( and )
)

type token struct {
	kind tokKind
	text string
}

// lex splits text into words, phrases, prefix terms and operators, and
// reports whether any FTS5 syntax was used.
func lex(text string) ([]token, bool) {
	// Control characters are white space here: FTS5 reads the expression
	// as a C string, so a NUL would end it inside a quoted term.
	text = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, text)
	var toks []token
	syntax := false
	// Phrases first: a balanced pair of double quotes. An odd quote is
	// plain text.
	segs := splitPhrases(text)
	depth := 0
	for _, s := range segs {
		if s.phrase {
			if hasWord(s.text) {
				toks = append(toks, token{tokPhrase, s.text})
				syntax = true
			}
			continue
		}
		for _, f := range strings.Fields(s.text) {
			switch {
			case f == "AND" || f == "OR" || f == "NOT":
				toks = append(toks, token{tokOp, f})
				syntax = true
			case f == "(":
				toks = append(toks, token{tokOp, "("})
				depth++
				syntax = true
			case f == ")" && depth > 0:
				toks = append(toks, token{tokOp, ")"})
				depth--
			case strings.HasSuffix(f, "*") && len(f) > 1 && hasWord(f) && isWordRune(lastRune(strings.TrimRight(f, "*"))):
				toks = append(toks, token{tokPrefix, strings.TrimRight(f, "*")})
				syntax = true
			default:
				if hasWord(f) {
					toks = append(toks, token{tokWord, f})
				}
			}
		}
	}
	if !syntax {
		// Without syntax, parentheses count as plain text: a lone "(" or
		// ")" was dropped by hasWord already.
		var out []token
		for _, t := range toks {
			if t.kind != tokOp {
				out = append(out, t)
			}
		}
		toks = out
	}
	return toks, syntax
}

type segment struct {
	text   string
	phrase bool
}

// splitPhrases cuts text at balanced double quotes.
func splitPhrases(text string) []segment {
	var segs []segment
	for {
		i := strings.IndexByte(text, '"')
		if i < 0 {
			break
		}
		j := strings.IndexByte(text[i+1:], '"')
		if j < 0 {
			break
		}
		segs = append(segs, segment{text: text[:i]}, segment{text: text[i+1 : i+1+j], phrase: true})
		text = text[i+1+j+1:]
	}
	return append(segs, segment{text: text})
}

// quote makes s one FTS5 string: double quotes inside are doubled.
func quote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }

func hasWord(s string) bool { return strings.IndexFunc(s, isWordRune) >= 0 }

func lastRune(s string) rune {
	r := []rune(s)
	if len(r) == 0 {
		return 0
	}
	return r[len(r)-1]
}

// words splits s the way FTS5's unicode61 tokenizer does, roughly: runs of
// letters and digits, lower-cased.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !isWordRune(r) })
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
