package frontmatter

import (
	"time"

	"github.com/emergent-learning/elfsync/layout"
)

// Record types, as package layout names them. The type of a record decides
// its table: heuristics go to the heuristics table, every other type to
// learnings.
const (
	TypeFailure     = layout.TypeFailure
	TypeSuccess     = layout.TypeSuccess
	TypeHeuristic   = layout.TypeHeuristic
	TypeObservation = layout.TypeObservation
	TypeExperiment  = layout.TypeExperiment
	TypeDecision    = layout.TypeDecision
)

// Input is everything Parse needs to know about one file. Parse does no I/O:
// the caller reads the file (bounded by MaxSize) and passes its bytes.
type Input struct {
	// Path is the file's path relative to the memory folder, with forward
	// slashes, e.g. "failures/20251201_x.md". It decides the type when the
	// frontmatter has none, and the created date and title fallbacks.
	Path string
	// Data is the file's content.
	Data []byte
	// ModTime is the file's modification time, the last fallback for Created
	// and the value of Updated.
	ModTime time.Time
	// Size is the file's size on disk; a file larger than MaxSize is refused
	// even when the caller passes only its first bytes.
	Size int64
	// MaxSize bounds the input; 0 means DefaultMaxSize.
	MaxSize int64
}

// DefaultMaxSize is the default limit on a memory file's size.
const DefaultMaxSize = 4 << 20

// Record is one memory file, parsed. Every field is what the file says now.
type Record struct {
	Type     string   // one of the Type constants
	Title    string   // frontmatter title, else first "# " heading, else file name without .md
	Summary  string   // frontmatter summary, else first paragraph under "## Summary", else first paragraph
	Domain   string   //
	Tags     []string // trimmed, empty ones dropped; stored comma-joined without spaces
	Severity int      // 1-5; 0 means the file does not say
	Created  time.Time
	Updated  time.Time // the file's ModTime

	// Heuristic fields (also parsed for other types; only the heuristics
	// table stores them).
	Rule        string   // defaults to Title
	Explanation string   //
	SourceType  string   // frontmatter source_type (or source)
	Confidence  *float64 // 0-1; nil when the file does not say
	IsGolden    *bool    // nil when the file does not say
	ProjectPath string   // project_path: the project a heuristic belongs to

	// Counters (heuristics). TimesValidated is times_validated when the
	// file has it, else the sum of ValidatedBy; likewise TimesViolated.
	// ValidatedBy and ViolatedBy are the per-host tallies (validated_by,
	// violated_by) that let hosts merge their counts; see Tally.
	TimesValidated int64
	TimesViolated  int64
	ValidatedBy    Tally
	ViolatedBy     Tally

	// Extra holds the frontmatter keys not listed above, as a JSON object
	// ("" when there are none). Keys are lower-cased.
	Extra string
	// Body is the markdown after the frontmatter (the whole file when there
	// is none), used for full-text search.
	Body string
}

// TagString returns the tags comma-joined without spaces, as the framework
// stored them.
func (r *Record) TagString() string {
	s := ""
	for i, t := range r.Tags {
		if i > 0 {
			s += ","
		}
		s += t
	}
	return s
}
