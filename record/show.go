package record

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/layout"
)

// WriteFields writes what was read from a record, one "  key: value" line
// per field that has a value (long text on one line, cut to 100
// characters), as `elfsync check` prints it.
func WriteFields(w io.Writer, r frontmatter.Record) {
	field := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %-12s %s\n", k+":", v)
		}
	}
	field("title", r.Title)
	field("domain", r.Domain)
	if r.Severity > 0 {
		field("severity", fmt.Sprint(r.Severity))
	}
	field("tags", r.TagString())
	field("created", r.Created.Format(time.RFC3339))
	field("summary", OneLine(r.Summary, 100))
	if r.Type == layout.TypeHeuristic {
		field("rule", OneLine(r.Rule, 100))
		field("explanation", OneLine(r.Explanation, 100))
		if r.Confidence != nil {
			field("confidence", fmt.Sprint(*r.Confidence))
		}
		field("source_type", r.SourceType)
	}
	field("other keys", r.Extra)
}

// OneLine returns s on one line, cut to at most n characters (the last
// one an ellipsis when cut).
func OneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
