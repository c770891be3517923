package layout

import "strings"

// The record types. A file's type comes from its frontmatter `type`, else
// from its top-level folder under memory/ (Folder).
const (
	TypeFailure     = "failure"
	TypeSuccess     = "success"
	TypeHeuristic   = "heuristic"
	TypeObservation = "observation"
	TypeExperiment  = "experiment"
	TypeDecision    = "decision"
)

// Kind is one record type and the folder under memory/ that holds it.
type Kind struct {
	Type   string // "failure"
	Folder string // "failures"
}

// Kinds lists every record type in the order help texts show them.
var Kinds = []Kind{
	{TypeFailure, "failures"},
	{TypeSuccess, "successes"},
	{TypeHeuristic, "heuristics"},
	{TypeObservation, "observations"},
	{TypeExperiment, "experiments"},
	{TypeDecision, "decisions"},
}

// Folder returns the folder under memory/ for a record type, or "" for an
// unknown type.
func Folder(typ string) string {
	for _, k := range Kinds {
		if k.Type == typ {
			return k.Folder
		}
	}
	return ""
}

// TypeWord returns the type a word names, singular or plural, in any case
// and with surrounding white space ("Failures " → "failure"), or "".
func TypeWord(s string) string {
	w := strings.ToLower(strings.TrimSpace(s))
	for _, k := range Kinds {
		if w == k.Type || w == k.Folder {
			return k.Type
		}
	}
	return ""
}

// TypeOfPath returns the type named by the top-level folder of a
// memory-relative slash path ("failures/2025/x.md" → "failure"), however
// deep the file sits, or "".
func TypeOfPath(rel string) string {
	i := strings.IndexByte(rel, '/')
	if i <= 0 {
		return ""
	}
	return TypeWord(rel[:i])
}

// Types returns the type names joined by sep, for messages and help.
func Types(sep string) string {
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = k.Type
	}
	return strings.Join(names, sep)
}
