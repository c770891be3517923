package query

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteHits writes hits for a person: rank, type and title; path, domain,
// date and reference; the snippet.
func WriteHits(w io.Writer, hits []Hit) {
	for _, h := range hits {
		fmt.Fprintf(w, "%2d. %-11s %s\n", h.Rank, h.Type, h.Title)
		var facts []string
		if h.Domain != "" {
			facts = append(facts, h.Domain)
		}
		if len(h.Created) >= 10 {
			facts = append(facts, h.Created[:10])
		}
		facts = append(facts, h.Ref)
		fmt.Fprintf(w, "    %s  (%s)\n", h.Path, strings.Join(facts, "; "))
		if h.Snippet != "" {
			fmt.Fprintf(w, "    %s\n", h.Snippet)
		}
	}
}

// WriteHitsJSON writes the query text and its hits (an empty list, not
// null, when there are none) as indented JSON, as `elfsync search --json`
// prints them.
func WriteHitsJSON(w io.Writer, text string, hits []Hit) error {
	if hits == nil {
		hits = []Hit{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Query string `json:"query"`
		Hits  []Hit  `json:"hits"`
	}{text, hits})
}

// WriteJSON writes the briefing as indented JSON, as `elfsync context
// --format json` prints it; Markdown is its form for a person or an agent.
func (b Briefing) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(b)
}
