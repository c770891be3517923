package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emergent-learning/elfsync/frontmatter"
)

// The record command is the Go twin of scripts/record-*.sh, for machines
// without bash: same flags, same environment variables, same validation,
// and, through frontmatter.Encode, the same file byte for byte (the tests
// in scripts/ check this). scripts/lib-record.sh describes the steps; keep
// the two in step.

// Old framework limits, in characters (Unicode code points), checked after
// surrounding white space is trimmed. Tags are counted as written:
// comma-joined without spaces. The source limit is new: with it, even a
// record whose every character needs a 6-byte escape keeps its frontmatter
// under frontmatter.MaxFrontmatterSize.
const (
	maxTitle       = 200
	maxSummary     = 5000
	maxExplanation = 5000
	maxRule        = 500
	maxDomain      = 100
	maxTags        = 500
	maxSource      = 500
	// maxAttempts bounds the search for a free name (and a free temp name).
	maxAttempts = 10000
)

// recordKind is one type elfsync record writes.
type recordKind struct {
	typ    string // frontmatter type
	folder string // folder under memory/
	env    string // prefix of the environment variables, e.g. FAILURE
}

var recordKinds = []recordKind{
	{frontmatter.TypeFailure, "failures", "FAILURE"},
	{frontmatter.TypeSuccess, "successes", "SUCCESS"},
	{frontmatter.TypeHeuristic, "heuristics", "HEURISTIC"},
	{frontmatter.TypeObservation, "observations", "OBSERVATION"},
	{frontmatter.TypeDecision, "decisions", "DECISION"},
}

// recordField is one flag of elfsync record; its environment variable is
// the kind's prefix, '_', and the upper-cased name.
type recordField struct {
	name  string
	usage string
}

var learningFields = []recordField{
	{"title", fmt.Sprintf("required; at most %d characters", maxTitle)},
	{"domain", fmt.Sprintf("at most %d characters", maxDomain)},
	{"severity", "1-5 or low=2, medium=3, high=4, critical=5 (default 3)"},
	{"tags", fmt.Sprintf("comma-separated; at most %d characters", maxTags)},
	{"summary", fmt.Sprintf("at most %d characters", maxSummary)},
}

var heuristicFields = []recordField{
	{"domain", fmt.Sprintf("required; at most %d characters", maxDomain)},
	{"rule", fmt.Sprintf("required; at most %d characters", maxRule)},
	{"explanation", fmt.Sprintf("at most %d characters", maxExplanation)},
	{"confidence", "low=0.3, medium=0.6, high=0.9 or a number from 0 to 1 (default 0.5)"},
	{"source", fmt.Sprintf(`where the rule comes from (default "observation"); at most %d characters`, maxSource)},
	{"tags", fmt.Sprintf("comma-separated; at most %d characters", maxTags)},
}

func recordTypes() string {
	names := make([]string, len(recordKinds))
	for i, k := range recordKinds {
		names[i] = k.typ
	}
	return strings.Join(names, "|")
}

func cmdRecord(_ context.Context, e *cmdEnv, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fmt.Fprintf(e.stdout, "Usage: elfsync record %s [flags]\n\nRun 'elfsync record <type> --help' for the flags of each.\n", recordTypes())
			return nil
		}
		return usagef("record: name a type first: elfsync record %s [flags]", recordTypes())
	}
	var kind recordKind
	for _, k := range recordKinds {
		if k.typ == args[0] {
			kind = k
		}
	}
	if kind.typ == "" {
		return usagef("record: unknown type %q (want %s)", args[0], recordTypes())
	}

	fields := learningFields
	synopsis := "--title TITLE [--domain D] [--severity S] [--tags a,b] [--summary TEXT] [--root ROOT]"
	if kind.typ == frontmatter.TypeHeuristic {
		fields = heuristicFields
		synopsis = "--domain D --rule RULE [--explanation TEXT] [--confidence C] [--source S] [--tags a,b] [--root ROOT]"
	}
	set, rootFlag := e.newFlagSet("record "+kind.typ, synopsis, fmt.Sprintf(`
Write a new %s to ROOT/memory/%s/YYYYMMDD_slug.md, atomically and under a
name no other file has (-2, -3, ... on a clash), and print its path. The
file is the one scripts/record-*.sh would write, byte for byte. elfsync
watch or scan indexes and commits it.

Each flag not given is read from %s_<FLAG> (e.g. %s_%s); flags win.
Surrounding white space is trimmed. $ELF_NOW (RFC 3339) fixes the created
time, for tests.`, kind.typ, kind.folder, kind.env, kind.env, strings.ToUpper(fields[0].name)))
	vals := make(map[string]*string, len(fields))
	for _, f := range fields {
		vals[f.name] = set.String(f.name, "", f.usage+" ($"+kind.env+"_"+strings.ToUpper(f.name)+")")
	}
	if err := e.parseFlags(set, args[1:]); err != nil {
		return err
	}
	if set.NArg() > 0 {
		return usagef("record %s: unexpected argument %q", kind.typ, set.Arg(0))
	}
	given := make(map[string]bool)
	set.Visit(func(f *flag.Flag) { given[f.Name] = true })
	in := make(map[string]string, len(fields))
	for _, f := range fields {
		if given[f.name] {
			in[f.name] = *vals[f.name]
		} else {
			in[f.name] = e.getenv(kind.env + "_" + strings.ToUpper(f.name))
		}
	}

	created, err := recordNow(e)
	if err != nil {
		return err
	}
	r, err := buildRecord(kind, in, created)
	if err != nil {
		return err
	}
	data, err := frontmatter.Encode(r)
	if err != nil {
		return err
	}
	root, err := e.resolveRoot(*rootFlag)
	if err != nil {
		return err
	}
	title := r.Title
	if kind.typ == frontmatter.TypeHeuristic {
		title = r.Rule
	}
	path, err := writeRecord(filepath.Join(root, "memory", kind.folder), r.Created, frontmatter.Slug(title), data)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, path)
	return nil
}

// recordNow returns the created time: $ELF_NOW when set, else the clock.
func recordNow(e *cmdEnv) (time.Time, error) {
	if v := e.getenv("ELF_NOW"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return time.Time{}, fmt.Errorf("ELF_NOW %q is not an RFC 3339 time", v)
		}
		return t.UTC().Truncate(time.Second), nil
	}
	return e.now().UTC().Truncate(time.Second), nil
}

// buildRecord validates the raw field values (flags or environment) the way
// the scripts do and returns the record to encode.
func buildRecord(kind recordKind, in map[string]string, created time.Time) (frontmatter.Record, error) {
	for _, name := range sortedKeys(in) {
		if !utf8.ValidString(in[name]) {
			return frontmatter.Record{}, fmt.Errorf("%s is not valid UTF-8", name)
		}
		in[name] = strings.TrimSpace(in[name])
	}
	tags := splitTags(in["tags"])
	if err := checkLength("domain", in["domain"], maxDomain); err != nil {
		return frontmatter.Record{}, err
	}
	if err := checkLength("tags", strings.Join(tags, ","), maxTags); err != nil {
		return frontmatter.Record{}, err
	}
	r := frontmatter.Record{
		Type:    kind.typ,
		Domain:  in["domain"],
		Tags:    tags,
		Created: created,
	}

	if kind.typ == frontmatter.TypeHeuristic {
		if r.Domain == "" {
			return r, errors.New("domain is required (--domain or HEURISTIC_DOMAIN)")
		}
		if in["rule"] == "" {
			return r, errors.New("rule is required (--rule or HEURISTIC_RULE)")
		}
		if err := checkLength("rule", in["rule"], maxRule); err != nil {
			return r, err
		}
		if err := checkLength("explanation", in["explanation"], maxExplanation); err != nil {
			return r, err
		}
		if err := checkLength("source", in["source"], maxSource); err != nil {
			return r, err
		}
		c := 0.5
		if in["confidence"] != "" {
			var err error
			if c, err = parseConfidence(in["confidence"]); err != nil {
				return r, err
			}
		}
		r.Title, r.Rule, r.Explanation, r.Confidence = in["rule"], in["rule"], in["explanation"], &c
		r.SourceType = in["source"]
		if r.SourceType == "" {
			r.SourceType = "observation"
		}
		return r, nil
	}

	if in["title"] == "" {
		return r, fmt.Errorf("title is required (--title or %s_TITLE)", kind.env)
	}
	if err := checkLength("title", in["title"], maxTitle); err != nil {
		return r, err
	}
	if err := checkLength("summary", in["summary"], maxSummary); err != nil {
		return r, err
	}
	r.Severity = 3
	if in["severity"] != "" {
		var err error
		if r.Severity, err = parseSeverity(in["severity"]); err != nil {
			return r, err
		}
	}
	r.Title, r.Summary = in["title"], in["summary"]
	return r, nil
}

func checkLength(name, value string, limit int) error {
	if n := utf8.RuneCountInString(value); n > limit {
		return fmt.Errorf("%s is %d characters long; the limit is %d", name, n, limit)
	}
	return nil
}

// splitTags splits a comma string, trims each tag and drops empty ones.
func splitTags(s string) []string {
	var tags []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

// asciiLower lower-cases ASCII letters only, as the scripts' tr does in the
// C locale (strings.ToLower would also accept, say, "CRİTICAL").
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// parseSeverity accepts 1-5 or low/medium/high/critical (any ASCII case).
func parseSeverity(s string) (int, error) {
	switch v := asciiLower(s); v {
	case "1", "2", "3", "4", "5":
		return int(v[0] - '0'), nil
	case "low":
		return 2, nil
	case "medium":
		return 3, nil
	case "high":
		return 4, nil
	case "critical":
		return 5, nil
	}
	return 0, fmt.Errorf("severity %q: want 1-5 or low, medium, high, critical", s)
}

// confidenceRE is the number syntax the scripts accept: 0 or 1, optionally
// with up to 15 decimals, or the decimals alone (".5"). Fifteen decimals is
// what a float64 gives back exactly, so Encode writes the number the way the
// scripts do (trailing zeros dropped).
var confidenceRE = regexp.MustCompile(`^(?:[01](?:\.[0-9]{0,15})?|\.[0-9]{1,15})$`)

// parseConfidence accepts low/medium/high (0.3/0.6/0.9, as frontmatter
// reads them) or a number from 0 to 1.
func parseConfidence(s string) (float64, error) {
	switch asciiLower(s) {
	case "low":
		return 0.3, nil
	case "medium":
		return 0.6, nil
	case "high":
		return 0.9, nil
	}
	bad := fmt.Errorf("confidence %q: want a number from 0 to 1 (at most 15 decimals) or low, medium, high", s)
	if !confidenceRE.MatchString(s) {
		return 0, bad
	}
	c, err := strconv.ParseFloat(s, 64)
	if err != nil || c > 1 {
		return 0, bad
	}
	return c, nil
}

// writeRecord puts data into dir under the first free name of
// frontmatter.FileName(created, slug, 1, 2, ...) and returns its path. The
// file appears whole or not at all: data goes to a dot-file ending in .tmp
// in the same directory (which elfsync ignores), is fsynced, and is then
// hard-linked to the final name. A link, unlike a rename, fails when the
// name exists, so two writers racing for one name never replace each
// other's file: the loser tries the next name. The temp file is always
// removed.
func writeRecord(dir string, created time.Time, slug string, data []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	stem := strings.TrimSuffix(frontmatter.FileName(created, slug, 1), ".md")
	tmp, err := writeTemp(dir, stem, data)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	for n := 1; n <= maxAttempts; n++ {
		target := filepath.Join(dir, frontmatter.FileName(created, slug, n))
		err := os.Link(tmp, target)
		if err == nil {
			syncDir(dir)
			return target, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("link %s: %w", target, err)
		}
	}
	return "", fmt.Errorf("no free name for %s.md in %s after %d tries", stem, dir, maxAttempts)
}

// writeTemp writes data to a new ".stem.PID.N.tmp" in dir (the scripts'
// temp name), created exclusively with the usual 0644 less umask, and
// fsyncs it.
func writeTemp(dir, stem string, data []byte) (path string, err error) {
	var f *os.File
	for n := 0; ; n++ {
		path = filepath.Join(dir, fmt.Sprintf(".%s.%d.%d.tmp", stem, os.Getpid(), n))
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || n >= maxAttempts {
			return "", fmt.Errorf("create temp file in %s: %w", dir, err)
		}
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close %s: %w", path, cerr)
		}
		if err != nil {
			os.Remove(path)
			path = ""
		}
	}()
	if _, err := f.Write(data); err != nil {
		return path, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return path, fmt.Errorf("sync %s: %w", path, err)
	}
	return path, nil
}

// syncDir flushes dir's entries (the new link) to disk. Best effort: not
// every system can open a directory for syncing (Windows cannot), and the
// file itself is already safe.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
