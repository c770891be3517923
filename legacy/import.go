package legacy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/indexer"
	"github.com/emergent-learning/elfsync/layout"
	"github.com/emergent-learning/elfsync/record"
)

// elfsync import brings an old framework memory folder across. It plans
// every file first (reading OLD_ROOT only), then writes what is missing in
// ROOT/memory, then scans the new index and carries the old counters over.
// Every decision is one line of the report, so a dry run prints exactly
// what a real run would do.

// Report actions.
const (
	ActCreated      = "created"
	ActCopied       = "copied"
	ActRewritten    = "rewritten"
	ActExisting     = "skipped-existing"
	ActConflict     = "conflict"
	ActSkipped      = "skipped"
	ActCountersSet  = "counters-set"
	ActCountersKept = "counters-kept"
	ActError        = "error"
)

var ActionOrder = []string{ActCreated, ActCopied, ActRewritten, ActExisting, ActConflict,
	ActSkipped, ActCountersSet, ActCountersKept, ActError}

// Action is one line of the report.
type Action struct {
	Action string `json:"action"`
	Path   string `json:"path,omitempty"`   // root-relative, in ROOT
	Source string `json:"source,omitempty"` // what of OLD_ROOT it comes from
	Detail string `json:"detail,omitempty"`
}

// Report is what import prints; --json prints it as it is.
type Report struct {
	DryRun   bool           `json:"dry_run"`
	Root     string         `json:"root"`
	From     string         `json:"from"`
	Actions  []Action       `json:"actions"`
	Warnings []string       `json:"warnings"`
	Summary  map[string]int `json:"summary"`
}

func (r *Report) add(a Action) { r.Actions = append(r.Actions, a) }

func (r *Report) warn(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

// Importer holds one run's settings and state.
type Importer struct {
	root, from     string // absolute
	oldMem, newMem string // the two memory folders
	rewrite        bool
	dryRun         bool
	maxSize        int64
	log            zerolog.Logger
	now            func() time.Time
	rep            *Report
	wantIDs        map[string]int64 // root-relative path → old row id
}

// Options configure an import.
type Options struct {
	Root    string // ROOT: the new memory folder is Root/memory
	From    string // OLD_ROOT, or its memory folder
	Rewrite bool   // give bold-field record files YAML frontmatter
	DryRun  bool   // write nothing; report what would be done
	MaxSize int64  // largest record file read as a record; 0: the default
	Log     zerolog.Logger
	Now     func() time.Time // nil: time.Now
}

// UsageError is a mistake in the options (a missing or nested folder):
// the command line reports it as a usage error.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usage(err error) error { return &UsageError{Err: err} }

// New checks the options and returns an importer. It writes nothing.
func New(o Options) (*Importer, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	return newImporter(o.Root, o.From, o.Rewrite, o.DryRun, o.MaxSize, o.Log, o.Now)
}

// Run imports and returns the report: one line per decision, then a
// summary. Errors are lines of the report (ActError), never a stop.
func (im *Importer) Run(ctx context.Context) *Report { return im.run(ctx) }

func newImporter(root, from string, rewrite, dryRun bool, maxSize int64, log zerolog.Logger, now func() time.Time) (*Importer, error) {
	if maxSize <= 0 {
		maxSize = frontmatter.DefaultMaxSize
	}
	absFrom, err := filepath.Abs(from)
	if err != nil {
		return nil, usage(fmt.Errorf("--from %s: %w", from, err))
	}
	im := &Importer{
		root: root, from: absFrom, newMem: filepath.Join(root, indexer.MemoryDir),
		rewrite: rewrite, dryRun: dryRun, maxSize: maxSize, log: log, now: now,
	}
	info, err := os.Stat(absFrom)
	if err != nil {
		return nil, fmt.Errorf("--from %s: %w", from, err)
	}
	if !info.IsDir() {
		return nil, usage(fmt.Errorf("--from %s is not a folder", from))
	}
	// OLD_ROOT/memory, or --from is the memory folder itself.
	switch {
	case isDir(filepath.Join(absFrom, indexer.MemoryDir)):
		im.oldMem = filepath.Join(absFrom, indexer.MemoryDir)
	case looksLikeMemory(absFrom):
		im.oldMem = absFrom
	default:
		return nil, fmt.Errorf("--from %s: no memory/ folder (nor index.db, failures/, heuristics/, ...) there: is it the old framework's home?", from)
	}
	a, b := realPath(im.oldMem), realPath(im.newMem)
	if isWithin(a, b) || isWithin(b, a) {
		return nil, usage(fmt.Errorf("the old memory folder %s and the new one %s are the same or nested: import into a different --root", im.oldMem, im.newMem))
	}
	return im, nil
}

func isDir(p string) bool {
	info, err := os.Stat(p)
	return err == nil && info.IsDir()
}

// looksLikeMemory reports whether dir is a memory folder: it holds an
// index.db or one of the type folders.
func looksLikeMemory(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, indexer.DBName)); err == nil {
		return true
	}
	for _, k := range layout.Kinds {
		if isDir(filepath.Join(dir, k.Folder)) {
			return true
		}
	}
	return false
}

// realPath resolves symlinks in the longest existing prefix of p, so that
// two spellings of one folder compare equal even before it exists.
func realPath(p string) string {
	p = filepath.Clean(p)
	var rest []string
	for {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(append([]string{r}, rest...)...)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return filepath.Join(append([]string{p}, rest...)...)
		}
		rest = append([]string{filepath.Base(p)}, rest...)
		p = parent
	}
}

// isWithin reports whether p is dir or inside it.
func isWithin(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// importItem is one file import would put into ROOT/memory.
type importItem struct {
	source string // for the report
	// A copy keeps its memory-relative path; a generated file gets a
	// fresh name in folder.
	copyRel   string
	data      []byte // the old file (copy) or the new file (generated)
	rewritten []byte // the copy with frontmatter (nil when it cannot have it)
	keptWhy   string // why rewritten is nil, or why data is nil
	modTime   time.Time

	folder  string // generated: folder under memory/
	created time.Time
	slug    string

	// Recognising a generated file imported before.
	legacyID    int64
	hasLegacyID bool
	idUnique    bool   // legacyID names one old row: the id alone recognises it
	rule        string // normalised rule, for ids that are not unique
	legacyPath  string

	counters *[2]int // the old row's times_validated, times_violated
	note     string  // added to the created line

	target string // root-relative path in ROOT, once decided
}

func (im *Importer) run(ctx context.Context) *Report {
	im.rep = &Report{DryRun: im.dryRun, Root: im.root, From: im.from, Actions: []Action{}, Warnings: []string{}}
	defer func() {
		im.rep.Summary = map[string]int{}
		for _, act := range ActionOrder {
			im.rep.Summary[act] = 0
		}
		for _, a := range im.rep.Actions {
			im.rep.Summary[a.Action]++
		}
	}()

	old := im.readOldDB(ctx)
	// Copied files keep the ids their old rows had (when free).
	im.wantIDs = map[string]int64{}
	for _, row := range old.Learnings {
		if rel := im.legacyMemRel(row.Filepath); rel != "" && row.ID > 0 {
			im.wantIDs[rootRel(rel)] = row.ID
		}
	}
	copies, heurFiles := im.walkOld()
	items := copies
	items = append(items, im.heuristicItems(heurFiles, old)...)
	items = append(items, im.learningItems(old, copies)...)

	known := im.existing()
	planned := map[string]bool{}
	for _, it := range items {
		if it.copyRel != "" {
			im.placeCopy(it)
		} else {
			im.placeGenerated(it, known, planned)
		}
	}
	im.carryCounters(ctx, items)
	return im.rep
}

// readOldDB reads the old index.db, if there is one; without it the
// files are imported all the same.
func (im *Importer) readOldDB(ctx context.Context) DB {
	p := filepath.Join(im.oldMem, indexer.DBName)
	old, err := ReadDB(ctx, p)
	switch {
	case errors.Is(err, ErrMissing):
		im.rep.warn("no old index at %s: no counters to carry over, no file-less rows to import", p)
		return DB{}
	case err != nil:
		im.rep.add(Action{Action: ActError, Source: im.oldRel(p), Detail: err.Error()})
		return DB{}
	}
	for _, w := range old.Warnings {
		im.rep.warn("old index: %s", w)
	}
	return old
}

// oldRel names a path of OLD_ROOT for the report.
func (im *Importer) oldRel(p string) string {
	if rel, err := filepath.Rel(im.from, p); err == nil && isWithin(im.from, p) {
		return filepath.ToSlash(rel)
	}
	return p
}

// heurFile is an old multi-entry heuristics file.
type heurFile struct {
	rel     string // memory-relative
	domain  string
	secs    []legacySection
	modTime time.Time
}

// walkOld reads OLD_ROOT/memory: multi-entry heuristic files are returned
// apart, every other file becomes a copy item.
func (im *Importer) walkOld() ([]*importItem, []heurFile) {
	var copies []*importItem
	var heurs []heurFile
	err := filepath.WalkDir(im.oldMem, func(p string, d fs.DirEntry, err error) error {
		rel := "."
		if r, rerr := filepath.Rel(im.oldMem, p); rerr == nil {
			rel = filepath.ToSlash(r)
		}
		if err != nil {
			im.rep.add(Action{Action: ActError, Source: im.oldRel(p), Detail: err.Error()})
			if d != nil && d.IsDir() && rel != "." {
				return fs.SkipDir
			}
			return nil
		}
		if rel == "." {
			return nil
		}
		if frontmatter.Ignored(rel) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		src := im.oldRel(p)
		if d.Type()&fs.ModeSymlink != 0 {
			im.rep.add(Action{Action: ActSkipped, Path: rootRel(rel), Source: src, Detail: "a symlink; symlinks are not followed"})
			return nil
		}
		if !d.Type().IsRegular() {
			im.rep.add(Action{Action: ActSkipped, Path: rootRel(rel), Source: src, Detail: "not a regular file"})
			return nil
		}
		info, err := d.Info()
		if err != nil {
			im.rep.add(Action{Action: ActError, Source: src, Detail: err.Error()})
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			im.rep.add(Action{Action: ActError, Source: src, Detail: err.Error()})
			return nil
		}
		if frontmatter.IsRecord(rel) && topFolder(rel) == "heuristics" && !frontmatter.HasFrontmatter(data) && int64(len(data)) <= im.maxSize {
			if domain, secs := parseHeuristicFile(string(data)); len(secs) > 0 {
				if domain == "" {
					domain = strings.TrimSuffix(path.Base(rel), path.Ext(rel))
				}
				heurs = append(heurs, heurFile{rel: rel, domain: domain, secs: secs, modTime: info.ModTime()})
				return nil
			}
		}
		it := &importItem{source: src, copyRel: rel, data: data, modTime: info.ModTime()}
		if frontmatter.IsRecord(rel) {
			// Even without --rewrite: a file an earlier --rewrite run
			// wrote is recognised by it.
			it.rewritten, it.keptWhy = rewriteLegacyFile(rel, data, info.ModTime(), im.maxSize)
		}
		copies = append(copies, it)
		return nil
	})
	if err != nil {
		im.rep.add(Action{Action: ActError, Source: im.oldRel(im.oldMem), Detail: err.Error()})
	}
	return copies, heurs
}

func topFolder(rel string) string {
	if i := strings.IndexByte(rel, '/'); i > 0 {
		return rel[:i]
	}
	return ""
}

func rootRel(memRel string) string { return indexer.MemoryDir + "/" + memRel }

// ---- --rewrite ------------------------------------------------------------

// rewriteLegacyFile returns a record file without frontmatter with frontmatter
// added, or nil and the reason it is copied as it is. The frontmatter is
// frontmatter.Encode's (the layout of elfsync record and the scripts),
// plus lines for the fields Encode does not write for the type and for
// any other bold field; the original text follows after a blank line. The
// result is parsed again and must give the original's fields.
func rewriteLegacyFile(rel string, data []byte, modTime time.Time, maxSize int64) ([]byte, string) {
	if frontmatter.HasFrontmatter(data) {
		return nil, "it has frontmatter already"
	}
	in := frontmatter.Input{Path: rel, Data: data, ModTime: modTime, MaxSize: maxSize}
	rec, err := frontmatter.Parse(in)
	if err != nil {
		return nil, "kept as it is: " + err.Error()
	}
	rec.Created = rec.Created.Truncate(time.Second)
	var extra []string
	line := func(key, value string) { extra = append(extra, key+": "+frontmatter.Quote(value)) }
	if rec.Type == frontmatter.TypeHeuristic {
		if rec.Summary != "" {
			line("summary", rec.Summary)
		}
		if rec.Severity != 0 {
			extra = append(extra, "severity: "+strconv.Itoa(rec.Severity))
		}
	} else {
		if rec.Rule != rec.Title {
			line("rule", rec.Rule)
		}
		if rec.Explanation != rec.Summary {
			line("explanation", rec.Explanation)
		}
		if rec.SourceType != "" {
			line("source_type", rec.SourceType)
		}
		if rec.Confidence != nil {
			c, err := frontmatter.FormatConfidence(*rec.Confidence)
			if err != nil {
				return nil, "kept as it is: " + err.Error()
			}
			extra = append(extra, "confidence: "+c)
		}
	}
	if rec.IsGolden != nil {
		extra = append(extra, "is_golden: "+strconv.FormatBool(*rec.IsGolden))
	}
	if rec.Extra != "" {
		var m map[string]any
		if err := json.Unmarshal([]byte(rec.Extra), &m); err != nil {
			return nil, "kept as it is: " + err.Error()
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			s, ok := m[k].(string)
			if !ok {
				return nil, fmt.Sprintf("kept as it is: field %s is not text", k)
			}
			extra = append(extra, yAMLKey(k)+": "+frontmatter.Quote(s))
		}
	}
	out, err := encodeWithExtra(rec, extra)
	if err != nil {
		return nil, "kept as it is: " + err.Error()
	}
	body := bytes.TrimPrefix(data, []byte("\uFEFF"))
	out = append(out[:frontmatterEnd(out)], '\n')
	out = append(out, body...)

	got, err := frontmatter.Parse(frontmatter.Input{Path: rel, Data: out, ModTime: modTime, MaxSize: maxSize + int64(len(out)-len(body))})
	if err != nil {
		return nil, "kept as it is: the rewrite would not parse: " + err.Error()
	}
	got.Body = strings.TrimPrefix(got.Body, "\n")
	if diff := RecordDiff(rec, got); diff != "" {
		return nil, "kept as it is: the rewrite would change " + diff
	}
	return out, ""
}

var impPlainKeyRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// yAMLKey writes a key plainly when it is a lower-case word, else quoted.
func yAMLKey(k string) string {
	if impPlainKeyRE.MatchString(k) {
		return k
	}
	return frontmatter.Quote(k)
}

// RecordDiff names the first field in which two records differ, or "".
func RecordDiff(a, b frontmatter.Record) string {
	fl := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatFloat(*p, 'g', -1, 64)
	}
	bl := func(p *bool) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatBool(*p)
	}
	for _, f := range []struct{ name, a, b string }{
		{"type", a.Type, b.Type}, {"title", a.Title, b.Title}, {"summary", a.Summary, b.Summary},
		{"domain", a.Domain, b.Domain}, {"tags", a.TagString(), b.TagString()},
		{"severity", strconv.Itoa(a.Severity), strconv.Itoa(b.Severity)},
		{"created", a.Created.UTC().Truncate(time.Second).String(), b.Created.UTC().Truncate(time.Second).String()},
		{"rule", a.Rule, b.Rule}, {"explanation", a.Explanation, b.Explanation},
		{"source_type", a.SourceType, b.SourceType}, {"confidence", fl(a.Confidence), fl(b.Confidence)},
		{"is_golden", bl(a.IsGolden), bl(b.IsGolden)}, {"extra fields", a.Extra, b.Extra}, {"body", a.Body, b.Body},
	} {
		if f.a != f.b {
			return f.name
		}
	}
	return ""
}

// encodeWithExtra returns frontmatter.Encode(r) with extra "key: value" lines
// added at the end of its frontmatter. Encode quotes every value on one
// line, so its frontmatter ends at the first "---" line after the first.
func encodeWithExtra(r frontmatter.Record, extra []string) ([]byte, error) {
	out, err := frontmatter.Encode(r)
	if err != nil {
		return nil, err
	}
	if len(extra) == 0 {
		return out, nil
	}
	i := frontmatterEnd(out) - len("---\n")
	var b bytes.Buffer
	b.Write(out[:i])
	for _, l := range extra {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	b.Write(out[i:])
	return b.Bytes(), nil
}

// frontmatterEnd returns the offset just after the closing "---\n" of an
// encoded record.
func frontmatterEnd(enc []byte) int {
	i := bytes.Index(enc[len("---\n"):], []byte("\n---\n"))
	if i < 0 {
		return len(enc) // cannot happen with Encode's output
	}
	return len("---\n") + i + len("\n---\n")
}

// ---- old heuristics files -------------------------------------------------

// legacySection is one "## H-<n>: rule" section of an old heuristics file.
type legacySection struct {
	id          int64
	hasID       bool
	rule        string
	confidence  *float64
	source      string
	created     time.Time
	explanation string
}

// parseHeuristicFile reads an old memory/heuristics/<domain>.md with
// frontmatter.ParseSections: its domain and its "## H-<n>: <rule>"
// sections.
func parseHeuristicFile(text string) (string, []legacySection) {
	domain, secs := frontmatter.ParseSections([]byte(text))
	out := make([]legacySection, len(secs))
	for i, s := range secs {
		out[i] = legacySection{id: s.ID, hasID: s.HasID, rule: s.Rule, confidence: s.Confidence,
			source: s.Source, created: s.Created, explanation: s.Explanation}
	}
	return domain, out
}

func normRule(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

// heuristicItems turns the sections of the old heuristics files, and the
// old heuristics rows that no section holds, into one new file each.
func (im *Importer) heuristicItems(files []heurFile, old DB) []*importItem {
	type sec struct {
		f   *heurFile
		s   *legacySection
		row *Heuristic
		how string
	}
	var secs []*sec
	for i := range files {
		for j := range files[i].secs {
			secs = append(secs, &sec{f: &files[i], s: &files[i].secs[j]})
		}
	}
	byID := map[int64]*Heuristic{}
	for i := range old.Heuristics {
		byID[old.Heuristics[i].ID] = &old.Heuristics[i]
	}
	used := map[int64]bool{}
	claim := func(s *sec, row *Heuristic, how string) {
		s.row, s.how = row, how
		used[row.ID] = true
	}
	// Match sections to rows: the id and the rule agree; else the rule
	// alone (the old scripts wrote "H-0" when last_insert_rowid failed),
	// preferring the same domain; else the id within the same domain (the
	// rule was edited in the file).
	for _, s := range secs {
		if row := byID[s.s.id]; s.s.hasID && row != nil && !used[row.ID] && normRule(row.Rule) == normRule(s.s.rule) {
			claim(s, row, "")
		}
	}
	for _, s := range secs {
		if s.row != nil {
			continue
		}
		var best *Heuristic
		for i := range old.Heuristics {
			row := &old.Heuristics[i]
			if used[row.ID] || normRule(row.Rule) != normRule(s.s.rule) {
				continue
			}
			if best == nil || (!strings.EqualFold(best.Domain, s.f.domain) && strings.EqualFold(row.Domain, s.f.domain)) {
				best = row
			}
		}
		if best != nil {
			claim(s, best, fmt.Sprintf("matched old row %d by its rule", best.ID))
		}
	}
	for _, s := range secs {
		if row := byID[s.s.id]; s.row == nil && s.s.hasID && row != nil && !used[row.ID] && strings.EqualFold(row.Domain, s.f.domain) {
			claim(s, row, fmt.Sprintf("matched old row %d by id; its rule differs from the file's", row.ID))
		}
	}

	var items []*importItem
	for _, s := range secs {
		created := s.s.created
		if created.IsZero() && s.row != nil {
			created = s.row.Created
		}
		if created.IsZero() {
			created = s.f.modTime
		}
		rec := frontmatter.Record{
			Type: frontmatter.TypeHeuristic, Title: s.s.rule, Rule: s.s.rule, Domain: s.f.domain,
			Explanation: s.s.explanation, SourceType: s.s.source, Confidence: s.s.confidence,
			Created: created.UTC().Truncate(time.Second),
		}
		source := fmt.Sprintf("%s H-%d", im.oldRel(filepath.Join(im.oldMem, filepath.FromSlash(s.f.rel))), s.s.id)
		if !s.s.hasID {
			source = im.oldRel(filepath.Join(im.oldMem, filepath.FromSlash(s.f.rel)))
		}
		it := &importItem{source: source, note: s.how}
		switch {
		case s.row != nil:
			if rec.SourceType == "" {
				rec.SourceType = s.row.SourceType
			}
			if rec.Domain == "" {
				rec.Domain = s.row.Domain
			}
			if rec.Explanation == "" {
				rec.Explanation = s.row.Explanation
			}
			it.legacyID, it.hasLegacyID = s.row.ID, true
		case s.s.hasID:
			it.legacyID, it.hasLegacyID = s.s.id, true
		}
		im.finishHeuristic(it, rec, s.row)
		items = append(items, it)
	}
	for i := range old.Heuristics {
		row := &old.Heuristics[i]
		if used[row.ID] {
			continue
		}
		if strings.TrimSpace(row.Rule) == "" {
			im.rep.add(Action{Action: ActError, Source: fmt.Sprintf("index.db heuristics row %d", row.ID), Detail: "the row has no rule"})
			continue
		}
		created := row.Created
		if created.IsZero() {
			created = im.now()
		}
		rec := frontmatter.Record{
			Type: frontmatter.TypeHeuristic, Title: strings.TrimSpace(row.Rule), Rule: strings.TrimSpace(row.Rule),
			Domain: row.Domain, Explanation: row.Explanation, SourceType: row.SourceType,
			Created: created.UTC().Truncate(time.Second),
		}
		it := &importItem{source: fmt.Sprintf("index.db heuristics row %d", row.ID), legacyID: row.ID, hasLegacyID: true,
			note: "no file held it"}
		im.finishHeuristic(it, rec, row)
		items = append(items, it)
	}
	// A legacy id recognises a file imported before on its own only when
	// no other heuristic of this import has it (two "H-0" sections do).
	idCount := map[int64]int{}
	for _, it := range items {
		if it.hasLegacyID {
			idCount[it.legacyID]++
		}
	}
	for _, it := range items {
		it.idUnique = it.hasLegacyID && idCount[it.legacyID] == 1
	}
	return items
}

// finishHeuristic applies the old row's confidence, is_golden and counters
// (the database wins over the file) and encodes the new file.
func (im *Importer) finishHeuristic(it *importItem, rec frontmatter.Record, row *Heuristic) {
	var extra []string
	if row != nil {
		if c := row.Confidence; c != nil && *c >= 0 && *c <= 1 {
			v := *c
			rec.Confidence = &v
		}
		if row.IsGolden {
			extra = append(extra, "is_golden: true")
		}
		if row.TimesValidated != 0 || row.TimesViolated != 0 {
			it.counters = &[2]int{row.TimesValidated, row.TimesViolated}
		}
	}
	if it.hasLegacyID {
		extra = append(extra, "legacy_id: "+strconv.FormatInt(it.legacyID, 10))
	}
	it.folder, it.created, it.slug, it.rule = "heuristics", rec.Created, frontmatter.Slug(rec.Rule), normRule(rec.Rule)
	it.data, it.keptWhy = im.encodeChecked(rec, extra, "heuristics/x.md")
}

// encodeChecked encodes a generated file and parses it back, so a file
// elfsync would not index is never written. On failure data is nil and
// the reason is returned.
func (im *Importer) encodeChecked(rec frontmatter.Record, extra []string, rel string) ([]byte, string) {
	data, err := encodeWithExtra(rec, extra)
	if err != nil {
		return nil, err.Error()
	}
	if _, err := frontmatter.Parse(frontmatter.Input{Path: rel, Data: data}); err != nil {
		return nil, err.Error()
	}
	return data, ""
}

// learningItems turns old learnings rows whose file is in neither memory
// folder into new files.
func (im *Importer) learningItems(old DB, copies []*importItem) []*importItem {
	have := map[string]bool{}
	for _, c := range copies {
		have[c.copyRel] = true
	}
	var items []*importItem
	for _, row := range old.Learnings {
		source := fmt.Sprintf("index.db learnings row %d", row.ID)
		rel := im.legacyMemRel(row.Filepath)
		if rel != "" && (have[rel] || pathExists(filepath.Join(im.oldMem, filepath.FromSlash(rel))) ||
			pathExists(filepath.Join(im.newMem, filepath.FromSlash(rel)))) {
			continue // the file is the truth; it is copied (or already there)
		}
		typ := layout.TypeWord(row.Type)
		folder := layout.Folder(typ)
		if folder == "" || typ == frontmatter.TypeHeuristic {
			im.rep.add(Action{Action: ActError, Source: source, Detail: fmt.Sprintf("unknown type %q; the row was not imported", row.Type)})
			continue
		}
		title := strings.TrimSpace(row.Title)
		if title == "" {
			title = strings.TrimSuffix(path.Base(filepath.ToSlash(row.Filepath)), ".md")
		}
		if title == "" || title == "." {
			title = fmt.Sprintf("%s %d", typ, row.ID)
		}
		created := row.Created
		if created.IsZero() {
			created = im.now()
		}
		sev := row.Severity
		if sev < 1 || sev > 5 {
			sev = 0
		}
		rec := frontmatter.Record{
			Type: typ, Title: title, Summary: strings.TrimSpace(row.Summary), Domain: strings.TrimSpace(row.Domain),
			Tags: record.SplitTags(row.Tags), Severity: sev, Created: created.UTC().Truncate(time.Second),
		}
		lp := row.Filepath
		if lp == "" {
			lp = fmt.Sprintf("index.db:learnings:%d", row.ID)
		}
		it := &importItem{source: source, folder: folder, created: rec.Created, slug: frontmatter.Slug(title), legacyPath: lp,
			note: "its file " + strconv.Quote(row.Filepath) + " is missing"}
		it.data, it.keptWhy = im.encodeChecked(rec, []string{"legacy_path: " + frontmatter.Quote(lp)}, folder+"/x.md")
		items = append(items, it)
	}
	return items
}

// legacyMemRel turns an old filepath column into a memory-relative path:
// "memory/failures/x.md", "failures/x.md", an absolute path into some
// memory folder, or Windows separators.
func (im *Importer) legacyMemRel(fp string) string {
	fp = strings.TrimSpace(fp)
	if fp == "" {
		return ""
	}
	if filepath.IsAbs(fp) && isWithin(im.oldMem, fp) {
		rel, _ := filepath.Rel(im.oldMem, fp)
		return filepath.ToSlash(rel)
	}
	fp = path.Clean(strings.ReplaceAll(fp, `\`, "/"))
	switch i := strings.LastIndex(fp, "/"+indexer.MemoryDir+"/"); {
	case i >= 0: // an absolute path from this or another machine
		fp = fp[i+len("/memory/"):]
	case strings.HasPrefix(fp, indexer.MemoryDir+"/"):
		fp = fp[len("memory/"):]
	case strings.HasPrefix(fp, "/") || impDriveRE.MatchString(fp):
		return ""
	}
	if fp == ".." || strings.HasPrefix(fp, "../") {
		return ""
	}
	return fp
}

var impDriveRE = regexp.MustCompile(`^[A-Za-z]:/`)

func pathExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// ---- what ROOT already has ------------------------------------------------

// impKnownFiles are the files under ROOT/memory that an earlier import wrote.
type impKnownFiles struct {
	byID   map[int64][]impKnownHeur
	byPath map[string]string // legacy_path -> root-relative path
}

type impKnownHeur struct {
	path string // root-relative
	rule string // normalised
}

// existing reads every record under ROOT/memory for legacy_id and
// legacy_path.
func (im *Importer) existing() impKnownFiles {
	k := impKnownFiles{byID: map[int64][]impKnownHeur{}, byPath: map[string]string{}}
	if !isDir(im.newMem) {
		return k
	}
	err := filepath.WalkDir(im.newMem, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable parts cannot hold what we look for
		}
		rel, rerr := filepath.Rel(im.newMem, p)
		if rerr != nil || rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if frontmatter.Ignored(rel) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !frontmatter.IsRecord(rel) {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.Size() > im.maxSize {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(data, []byte("legacy_")) {
			return nil // only files import wrote are of interest
		}
		rec, err := frontmatter.Parse(frontmatter.Input{Path: rel, Data: data, ModTime: info.ModTime(), MaxSize: im.maxSize})
		if err != nil || rec.Extra == "" {
			return nil
		}
		dec := json.NewDecoder(strings.NewReader(rec.Extra))
		dec.UseNumber()
		var m map[string]any
		if dec.Decode(&m) != nil {
			return nil
		}
		if id, ok := parseLegacyID(m["legacy_id"]); ok && rec.Type == frontmatter.TypeHeuristic {
			k.byID[id] = append(k.byID[id], impKnownHeur{path: rootRel(rel), rule: normRule(rec.Rule)})
		}
		if lp, ok := m["legacy_path"].(string); ok && lp != "" {
			if _, dup := k.byPath[lp]; !dup {
				k.byPath[lp] = rootRel(rel)
			}
		}
		return nil
	})
	if err != nil {
		im.rep.warn("reading %s: %v", im.newMem, err)
	}
	return k
}

func parseLegacyID(v any) (int64, bool) {
	switch v := v.(type) {
	case json.Number:
		n, err := strconv.ParseInt(v.String(), 10, 64)
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// ---- writing --------------------------------------------------------------

// placeCopy copies (or rewrites) an old file to the same path in ROOT,
// unless that path holds it already or holds something else.
func (im *Importer) placeCopy(it *importItem) {
	it.target = rootRel(it.copyRel)
	dst := filepath.Join(im.newMem, filepath.FromSlash(it.copyRel))
	data, act, detail := it.data, ActCopied, ""
	switch {
	case im.rewrite && it.rewritten != nil:
		data, act = it.rewritten, ActRewritten
	case im.rewrite:
		detail = it.keptWhy
	}
	if cur, err := os.ReadFile(dst); err == nil {
		if bytes.Equal(cur, it.data) || (it.rewritten != nil && bytes.Equal(cur, it.rewritten)) {
			im.rep.add(Action{Action: ActExisting, Path: it.target, Source: it.source, Detail: "identical file already there"})
		} else {
			im.rep.add(Action{Action: ActConflict, Path: it.target, Source: it.source, Detail: "a different file is already there; left alone"})
		}
		return
	} else if !errors.Is(err, fs.ErrNotExist) {
		im.rep.add(Action{Action: ActError, Path: it.target, Source: it.source, Detail: err.Error()})
		return
	}
	if !im.dryRun {
		if err := placeFile(dst, data, it.modTime); err != nil {
			if errors.Is(err, fs.ErrExist) {
				im.rep.add(Action{Action: ActConflict, Path: it.target, Source: it.source, Detail: "a file appeared there while importing; left alone"})
				return
			}
			im.rep.add(Action{Action: ActError, Path: it.target, Source: it.source, Detail: err.Error()})
			return
		}
	}
	im.rep.add(Action{Action: act, Path: it.target, Source: it.source, Detail: detail})
}

// placeFile writes data to dst atomically, never replacing a file there:
// a temp file in the same folder (fsynced, given the old file's mtime) is
// hard-linked to dst, which fails if dst exists.
func placeFile(dst string, data []byte, mtime time.Time) error {
	return record.Place(dst, data, mtime)
}

// placeGenerated writes a new heuristic or row file under a fresh name,
// unless an earlier import wrote it already.
func (im *Importer) placeGenerated(it *importItem, known impKnownFiles, planned map[string]bool) {
	if it.data == nil {
		im.rep.add(Action{Action: ActError, Source: it.source, Detail: "cannot encode it: " + it.keptWhy})
		return
	}
	if p := known.find(it); p != "" {
		it.target = p
		detail := "already imported"
		if it.legacyPath != "" {
			detail += " (legacy_path " + it.legacyPath + ")"
		} else if it.hasLegacyID {
			detail += fmt.Sprintf(" (legacy_id %d)", it.legacyID)
		}
		im.rep.add(Action{Action: ActExisting, Path: p, Source: it.source, Detail: detail})
		return
	}
	dir := filepath.Join(im.newMem, it.folder)
	if im.dryRun {
		for n := 1; ; n++ {
			name := frontmatter.FileName(it.created, it.slug, n)
			rel := it.folder + "/" + name
			if !planned[rel] && !pathExists(filepath.Join(dir, name)) {
				planned[rel] = true
				it.target = rootRel(rel)
				break
			}
		}
	} else {
		p, err := record.WriteUnique(dir, it.created, it.slug, it.data)
		if err != nil {
			im.rep.add(Action{Action: ActError, Source: it.source, Detail: err.Error()})
			return
		}
		it.target = rootRel(it.folder + "/" + filepath.Base(p))
	}
	im.rep.add(Action{Action: ActCreated, Path: it.target, Source: it.source, Detail: it.note})
}

// find returns the root-relative path of the file an earlier import wrote
// for it, or "".
func (k impKnownFiles) find(it *importItem) string {
	if it.legacyPath != "" {
		return k.byPath[it.legacyPath]
	}
	if !it.hasLegacyID {
		return ""
	}
	for _, h := range k.byID[it.legacyID] {
		if it.idUnique || h.rule == it.rule {
			return h.path
		}
	}
	return ""
}

// ---- counters -------------------------------------------------------------

// carryCounters indexes ROOT/memory (so the imported files have their rows
// when import returns) and sets the old rows' counters on the new
// heuristics rows that have none yet. A dry run only reads the current
// index, if any, to say what it would do.
func (im *Importer) carryCounters(ctx context.Context, items []*importItem) {
	var want []*importItem
	for _, it := range items {
		if it.counters != nil && it.target != "" {
			want = append(want, it)
		}
	}
	dbPath := filepath.Join(im.newMem, indexer.DBName)
	var ix *indexer.Index
	if !im.dryRun {
		var ok bool
		if ix, ok = im.scan(ctx); !ok {
			return
		}
		defer ix.Close()
		dbPath = ix.DBPath()
	}
	if len(want) == 0 {
		return
	}
	cur, err := HeuristicCounters(ctx, dbPath)
	if err != nil {
		if !im.dryRun {
			im.rep.add(Action{Action: ActError, Detail: err.Error()})
			return
		}
		cur = map[string][2]int{} // a dry run against an index it cannot read
	}
	sort.SliceStable(want, func(i, j int) bool { return want[i].target < want[j].target })
	for _, it := range want {
		old := *it.counters
		c, hasRow := cur[it.target]
		figures := fmt.Sprintf("times_validated=%d times_violated=%d", old[0], old[1])
		switch {
		case !hasRow && !im.dryRun:
			im.rep.add(Action{Action: ActError, Path: it.target, Source: it.source,
				Detail: "no index row after the scan (see elfsync status); counters not set: " + figures})
		case c == old:
			// Carried over by an earlier run.
		case c != [2]int{}:
			im.rep.add(Action{Action: ActCountersKept, Path: it.target, Source: it.source,
				Detail: fmt.Sprintf("the index already counts times_validated=%d times_violated=%d; old figures %s not applied", c[0], c[1], figures)})
		default:
			if !im.dryRun {
				if err := ix.SetHeuristicCounters(ctx, it.target, old[0], old[1]); err != nil {
					im.rep.add(Action{Action: ActError, Path: it.target, Source: it.source, Detail: err.Error()})
					continue
				}
			}
			im.rep.add(Action{Action: ActCountersSet, Path: it.target, Source: it.source, Detail: figures})
		}
	}
}

func (im *Importer) scan(ctx context.Context) (*indexer.Index, bool) {
	if !isDir(im.newMem) {
		return nil, false // nothing was imported
	}
	ix, err := indexer.Open(ctx, indexer.Options{Root: im.root, MaxSize: im.maxSize, Logger: im.log, Now: im.now, WantIDs: im.wantIDs})
	if err != nil {
		im.rep.add(Action{Action: ActError, Detail: "open the new index: " + err.Error()})
		return nil, false
	}
	res, err := ix.Scan(ctx, nil)
	if err != nil {
		ix.Close()
		im.rep.add(Action{Action: ActError, Detail: "scan " + im.newMem + ": " + err.Error()})
		return nil, false
	}
	for _, fe := range res.Errors {
		im.rep.warn("%s does not parse and has no row: %s", fe.Path, fe.Error)
	}
	return ix, true
}
