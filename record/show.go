package record

import (
	"context"
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

// List writes a line per valid record file under memDir of type typ and
// domain (any case; "" for any), as `elfsync list` prints it: root-relative
// path, type, domain and title (a heuristic's rule), tab-separated, in path
// order. It returns how many files were invalid; they are not listed.
func List(ctx context.Context, w io.Writer, memDir, typ, domain string) (invalid int, err error) {
	err = Walk(ctx, memDir, frontmatter.DefaultMaxSize, func(rel string, r frontmatter.Record, err error) error {
		switch {
		case err != nil:
			invalid++
		case (typ == "" || r.Type == typ) && (domain == "" || strings.EqualFold(r.Domain, domain)):
			title := r.Title
			if r.Type == layout.TypeHeuristic {
				title = r.Rule // which defaults to the title
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", layout.RootRel(rel), r.Type, r.Domain, OneLine(title, 100))
		}
		return nil
	})
	return invalid, err
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
