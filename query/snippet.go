package query

import (
	"strings"
	"unicode/utf8"
)

// snippetWords is how many words a snippet shows around its best match.
const snippetWords = 24

// Marks put around a matched word in a snippet.
const (
	markOpen  = "**"
	markClose = "**"
)

// snippet returns the best window of the first text (in order) that holds
// most of the query's terms, the matched words between marks, on one line.
// With no match anywhere it returns the start of the first non-empty text.
func snippet(m match, texts ...string) string {
	bestText, bestStart, bestHits := -1, 0, 0
	var bestWords []string
	for ti, t := range texts {
		ws := plainWords(t)
		if len(ws) == 0 {
			continue
		}
		hit := make([]bool, len(ws))
		for i, w := range ws {
			hit[i] = m.matches(w)
		}
		// Sliding window: most hits, earliest on ties.
		n := 0
		for i := 0; i < len(ws) && i < snippetWords; i++ {
			if hit[i] {
				n++
			}
		}
		start, most := 0, n
		for i := snippetWords; i < len(ws); i++ {
			if hit[i] {
				n++
			}
			if hit[i-snippetWords] {
				n--
			}
			if n > most {
				most, start = n, i-snippetWords+1
			}
		}
		if bestText < 0 || most > bestHits {
			bestText, bestStart, bestHits, bestWords = ti, start, most, ws
		}
	}
	if bestText < 0 {
		return ""
	}
	ws := bestWords
	// Start a little before the first hit of the window, for context.
	if bestHits > 0 {
		for i := bestStart; i < len(ws) && i < bestStart+snippetWords; i++ {
			if m.matches(ws[i]) {
				bestStart = max(0, i-4)
				break
			}
		}
	}
	end := min(len(ws), bestStart+snippetWords)
	var b strings.Builder
	if bestStart > 0 {
		b.WriteString("… ")
	}
	for i := bestStart; i < end; i++ {
		if i > bestStart {
			b.WriteByte(' ')
		}
		if m.matches(ws[i]) {
			b.WriteString(markOpen + ws[i] + markClose)
		} else {
			b.WriteString(ws[i])
		}
	}
	if end < len(ws) {
		b.WriteString(" …")
	}
	return b.String()
}

// matches reports whether a white-space-separated word holds one of the
// query's terms as a token (or, for a prefix term, a token starting with
// it).
func (m match) matches(word string) bool {
	// Lower-cased once (no copy when already lower-case ASCII), split
	// without building a slice: a snippet tests every word of a body.
	for tok := range strings.FieldsFuncSeq(strings.ToLower(word), notWordRune) {
		for i, t := range m.terms {
			if tok == t || (m.prefix[i] && strings.HasPrefix(tok, t)) {
				return true
			}
		}
	}
	return false
}

func notWordRune(r rune) bool { return !isWordRune(r) }

// clip shortens s to at most n runes on a word boundary, with "…".
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return cut + "…"
}

// emphasis removes markdown's emphasis and code marks from a word. (Built
// once: building it for every word cost about 4% of a search's CPU.)
var emphasis = strings.NewReplacer("**", "", "__", "", "`", "")

// plainWords splits markdown into words without its markup: heading lines
// of level 1 (the title, shown apart), heading marks, rules, and emphasis
// marks, so that a snippet's own ** marks are the only ones.
func plainWords(text string) []string {
	var out []string
	for line := range strings.Lines(text) {
		if strings.HasPrefix(line, "# ") {
			continue
		}
		for w := range strings.FieldsSeq(line) {
			if strings.ContainsAny(w, "*_`") {
				w = emphasis.Replace(w)
			}
			if w == "" || strings.Trim(w, "#-=*_") == "" {
				continue
			}
			out = append(out, w)
		}
	}
	return out
}
