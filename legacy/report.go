package legacy

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes the report as one indented JSON object, as `elfsync
// import --json` prints it (paths are not HTML-escaped).
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// WriteText writes the report for a person: one line per action on out,
// the warnings on errw, then a summary line counting each action.
func (r *Report) WriteText(out, errw io.Writer) {
	if r.DryRun {
		fmt.Fprintln(out, "dry run: nothing is written; this is what import would do")
	}
	for _, a := range r.Actions {
		line := fmt.Sprintf("%-16s", a.Action)
		if a.Path != "" {
			line += " " + a.Path
		}
		if a.Source != "" && a.Source != a.Path {
			line += " (from " + a.Source + ")"
		}
		if a.Detail != "" {
			line += ": " + a.Detail
		}
		fmt.Fprintln(out, strings.TrimRight(line, " "))
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(errw, "elfsync import: warning: %s\n", w)
	}
	var parts []string
	for _, act := range ActionOrder {
		parts = append(parts, fmt.Sprintf("%s %d", act, r.Summary[act]))
	}
	verb := "imported"
	if r.DryRun {
		verb = "would import"
	}
	fmt.Fprintf(out, "%s %s into %s: %s\n", verb, r.From, r.Root, strings.Join(parts, ", "))
}
