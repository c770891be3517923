package frontmatter

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	adrg "github.com/adrg/frontmatter"
	"go.yaml.in/yaml/v3"
)

// MaxFrontmatterSize bounds the YAML between the "---" lines. yaml.v3 builds
// a node of a few hundred bytes for every scalar, so a multi-megabyte
// frontmatter would cost hundreds of megabytes and seconds; real frontmatter
// is a few hundred bytes, and long text belongs in the body.
const MaxFrontmatterSize = 64 << 10

// maxYAMLNodes bounds the frontmatter's node count with every alias
// expanded. A "billion laughs" document is a few hundred bytes whose aliases
// expand to billions of nodes; yaml.v3's own guard still lets about 400,000
// alias-driven decodes through per decode call. 64 KiB of YAML cannot hold
// more than about 33,000 nodes without aliases, so no honest file comes near
// this.
const maxYAMLNodes = 100_000

// Errors Parse wraps, so that callers can tell the kinds of bad files apart
// with errors.Is. Parse's messages add the file's path and the details.
var (
	// ErrTooLarge: the file is over Input.MaxSize, or its frontmatter is over
	// MaxFrontmatterSize.
	ErrTooLarge = errors.New("too large")
	// ErrBinary: the file holds NUL bytes.
	ErrBinary = errors.New("binary file")
	// ErrNotUTF8: the file is not valid UTF-8.
	ErrNotUTF8 = errors.New("not UTF-8 text")
	// ErrUnterminated: the file opens a frontmatter block with "---" and never
	// closes it, which is what a half-written save looks like.
	ErrUnterminated = errors.New("unterminated frontmatter")
	// ErrYAML: the frontmatter is not valid YAML, or not a mapping of keys to
	// values, or repeats a key.
	ErrYAML = errors.New("bad YAML frontmatter")
	// ErrNoType: neither the frontmatter nor the file's folder names a record
	// type.
	ErrNoType = errors.New("cannot tell the record type: set `type:` in the frontmatter " +
		"or put the file under failures/, successes/, heuristics/, observations/, experiments/ or decisions/")
	// ErrField: a known field has a value Parse cannot use, such as a
	// severity of 9.
	ErrField = errors.New("bad field")
)

// errInternal marks a bug in this package (a panic, or adrg/frontmatter
// disagreeing with our own scan). FuzzParse fails on it.
var errInternal = errors.New("internal error")

var bom = []byte("\uFEFF")

// yamlFormat is the only format adrg/frontmatter looks for: passing formats
// replaces its defaults, which would read "---" blocks with yaml.v2 (YAML
// 1.1, where `no` is false) and also accept TOML and JSON blocks. Its
// Unmarshal reads YAML 1.2 with go.yaml.in/yaml/v3, or with simpleFields
// when the block is plain enough to read the same way faster.
var yamlFormat = adrg.NewFormat("---", "---", unmarshalYAML)

// yamlTarget is what Parse hands adrg/frontmatter to decode into. pad is the
// number of file lines before the YAML: the YAML is given that many leading
// newlines, so that yaml.v3's line numbers (in its errors and in Node.Line)
// are the file's line numbers.
type yamlTarget struct {
	pad    int
	called bool
	// simple is set when simpleFields read the block; fields and err are
	// then its result. Otherwise yaml.v3 decoded the block into doc.
	simple bool
	fields fields
	err    error
	doc    yaml.Node
}

// unmarshalYAML is the Unmarshal of the YAML format given to
// adrg/frontmatter: simpleFields when the block is in its plain subset,
// else yaml.v3.
func unmarshalYAML(data []byte, v any) error {
	t := v.(*yamlTarget)
	t.called = true
	if f, ok, err := simpleFields(data, t.pad); ok {
		t.simple, t.fields, t.err = true, f, err
		return nil
	}
	buf := make([]byte, t.pad, t.pad+len(data))
	for i := range buf {
		buf[i] = '\n'
	}
	buf = append(buf, data...)
	return yaml.Unmarshal(buf, &t.doc)
}

// Parse turns one memory file into a Record. It does no I/O and is safe for
// concurrent use; the Record shares no memory with in.Data.
//
// A file may start with YAML frontmatter between "---" lines, read with YAML
// 1.2 semantics (`no` and `on` stay strings); keys are case-insensitive.
// Blank lines may come before the opening line and white space may surround
// either line, as adrg/frontmatter allows; `...` does not close the block.
// So a file that opens with a "---" horizontal rule is read as frontmatter,
// and one that opens with "---" and never repeats it is an error, since that
// is what a half-written save looks like. A file without frontmatter may
// use the framework's older bold-field style: a "# Title" heading and lines
// like "**Domain**: x" or "**Domain:** x" before the first "## " heading
// (names lower-cased, spaces turned into "_"). A UTF-8 byte order mark is
// skipped and CRLF line endings are read as LF.
//
// Field values Parse accepts, in either style. A null or blank value is the
// same as none, so its fallback applies.
//
//   - type: failure, success, heuristic, observation, experiment, decision,
//     singular or plural, any case; else the file's top-level folder
//     (failures/, successes/, ...), however deep the file sits.
//   - title: else the first "# " heading, else the file name without ".md".
//   - summary: else the first paragraph under a "## Summary" heading, else
//     the first paragraph of the body. A paragraph is a run of non-blank
//     lines joined with single spaces; headings, rules, bold-field lines and
//     fenced code are skipped.
//   - domain: text.
//   - tags: a YAML list or a comma-separated string.
//   - severity (or "significance", as the framework's success files say,
//     when there is no "severity"): 1-5, or low, medium, high, critical for
//     2, 3, 4, 5, any case.
//   - created (or "date" when there is no "created"): a YAML date or time,
//     or a string like 2025-12-01, 2025-12-01T10:00:00Z, 2025-12-01
//     10:00:00 or any RFC 3339 time (UTC when no zone is given); else the
//     YYYYMMDD_ prefix of the file name; else Input.ModTime. Always in UTC.
//   - rule (default: the title), explanation (default: the summary),
//     source_type (or "source" when there is no "source_type").
//   - confidence: a number from 0 to 1, or low, medium, high for 0.3, 0.6,
//     0.9 (for people who write words, not numbers).
//   - is_golden: a YAML bool, or true, false, yes, no, any case.
//
// Updated is Input.ModTime in UTC. Other keys go to Record.Extra as a JSON
// object with sorted keys; YAML times in it are written in RFC 3339, and
// NaN and the infinities as ".nan", ".inf", "-.inf". A bad value of a known
// field is an error wrapping ErrField, never a silently dropped field.
//
// Parse refuses, with an error that wraps one of the Err values (and does
// not name the file: the caller does, once), a file over the size limit
// (Input.Size or len(Input.Data) over Input.MaxSize), binary data (NUL
// bytes), UTF-16 or other non-UTF-8 text,
// an unterminated frontmatter block, bad YAML, frontmatter that is not a
// mapping or repeats a key (in any case), frontmatter over
// MaxFrontmatterSize or whose aliases expand past a fixed node budget, and a
// file whose type cannot be told.
func Parse(in Input) (rec Record, err error) {
	defer func() {
		if p := recover(); p != nil {
			rec, err = Record{}, fmt.Errorf("%w: panic: %v", errInternal, p)
		}
	}()
	return parse(in)
}

func parse(in Input) (Record, error) {
	limit := in.MaxSize
	if limit <= 0 {
		limit = DefaultMaxSize
	}
	size := max(in.Size, int64(len(in.Data)))
	if size > limit {
		return Record{}, fmt.Errorf("file is %d bytes: %w (limit %d bytes)", size, ErrTooLarge, limit)
	}
	data := in.Data
	// Windows PowerShell 5's Out-File and `>` write UTF-16 with a byte order
	// mark; say so rather than calling the file binary.
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return Record{}, fmt.Errorf("%w: the file is UTF-16; save it as UTF-8", ErrNotUTF8)
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return Record{}, fmt.Errorf("%w: NUL byte at offset %d", ErrBinary, i)
	}
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, n := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			off += n
		}
		return Record{}, fmt.Errorf("%w: invalid byte 0x%02x at offset %d", ErrNotUTF8, data[off], off)
	}
	data = bytes.TrimPrefix(data, bom)
	// One conversion to string: the body and every text field are substrings
	// of it, and the caller may reuse in.Data afterwards.
	var text string
	if bytes.IndexByte(data, '\r') >= 0 {
		text = strings.ReplaceAll(string(data), "\r\n", "\n")
	} else {
		text = string(data)
	}

	fm, err := split(text)
	if err != nil {
		return Record{}, err
	}
	var f fields
	body := text
	if fm.found {
		if fm.yamlEnd-fm.yamlStart > MaxFrontmatterSize {
			return Record{}, fmt.Errorf("frontmatter is %d bytes: %w (limit %d bytes; move long text into the body)",
				fm.yamlEnd-fm.yamlStart, ErrTooLarge, MaxFrontmatterSize)
		}
		// adrg/frontmatter gets only the text up to the end of the closing
		// line, so that it does not copy the body: it must find the block
		// and return nothing after it, or our scan (and with it the
		// unterminated check above) disagrees with it.
		target := &yamlTarget{pad: fm.openLine}
		rest, err := adrgParse(text[:fm.bodyStart], target)
		if err != nil {
			return Record{}, fmt.Errorf("%w: %s", ErrYAML, yamlMessage(err))
		}
		if !target.called || len(rest) != 0 {
			return Record{}, fmt.Errorf("%w: frontmatter scan disagrees with adrg/frontmatter", errInternal)
		}
		body = text[fm.bodyStart:]
		if target.simple {
			f, err = target.fields, target.err
		} else {
			f, err = yamlFields(&target.doc, fm)
		}
		if err != nil {
			return Record{}, err
		}
	}
	// Skip what the frontmatter already says: most files with frontmatter
	// need nothing from their body.
	needTitle, needSummary := !f.hasText("title"), !f.hasText("summary")
	scan := scanBody(body, fm.bodyLine, !fm.found, needTitle, needSummary)
	if !fm.found {
		f = scan.fields
	}
	return build(in, f, scan, body)
}

// adrgParse reads text's frontmatter into target with adrg/frontmatter and
// returns the rest.
func adrgParse(text string, target *yamlTarget) ([]byte, error) {
	// adrg wraps its reader in a bufio.Reader, which allocates 4 KiB unless
	// the reader already is a large enough one; pooling them saves a fifth
	// of Parse's allocation.
	br := readers.Get().(*bufio.Reader)
	br.Reset(strings.NewReader(text))
	defer func() {
		br.Reset(nil)
		readers.Put(br)
	}()
	return adrg.Parse(br, target, yamlFormat)
}

var readers = sync.Pool{New: func() any { return bufio.NewReader(nil) }}

// fence is where the frontmatter sits in the text.
type fence struct {
	found              bool
	openLine           int // 1-based line of the opening "---"
	yamlStart, yamlEnd int // the YAML between the lines
	bodyStart          int // the byte after the closing line
	bodyLine           int // 1-based line number of bodyStart
}

// split finds the frontmatter exactly as adrg/frontmatter v0.2.0 does, so
// that Parse can tell an unterminated block (which adrg reads as no
// frontmatter at all) from none: blank lines before the opening line are
// skipped, and lines are compared with surrounding white space trimmed. The
// opening line must end in a newline; the closing one need not.
func split(text string) (fence, error) {
	pos, line := 0, 0
	next := func() (string, int, bool) {
		start := pos
		end := strings.IndexByte(text[pos:], '\n')
		nl := end >= 0
		if nl {
			end += pos
			pos = end + 1
		} else {
			end = len(text)
			pos = end
		}
		line++
		return strings.TrimSpace(text[start:end]), start, nl
	}
	for pos < len(text) {
		l, _, nl := next()
		if l == "" {
			continue
		}
		if l != "---" {
			return fence{bodyLine: 1}, nil
		}
		if !nl {
			return fence{}, fmt.Errorf("%w: the file is only an opening --- line", ErrUnterminated)
		}
		open := line
		yamlStart := pos
		for pos < len(text) {
			l, start, _ := next()
			if l == "---" {
				return fence{
					found:     true,
					openLine:  open,
					yamlStart: yamlStart,
					yamlEnd:   start,
					bodyStart: pos,
					bodyLine:  line + 1,
				}, nil
			}
		}
		return fence{}, fmt.Errorf("%w: no closing --- line after the opening --- on line %d", ErrUnterminated, open)
	}
	return fence{bodyLine: 1}, nil
}
