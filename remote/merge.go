package remote

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/emergent-learning/elfsync/committer"
	"github.com/emergent-learning/elfsync/frontmatter"
)

// Version is one side of a three-way merge of a file. A Version that is
// not Present is a file that does not exist on that side (deleted, or
// never added).
type Version struct {
	Present bool
	Data    []byte
}

// Merged is the outcome of merging one file.
type Merged struct {
	// Present is false when the merged result is the file's deletion.
	Present bool
	// Data is the merged file. Where something could not be merged, it
	// holds our side of it; it never holds a conflict marker.
	Data []byte
	// Conflict is set when their version could not be merged in whole:
	// the caller keeps it as a conflict copy beside the file.
	Conflict bool
	// Why lists what conflicted: frontmatter keys, "body", "content".
	Why []string
}

// TextMerger merges text the way `git merge-file` does.
type TextMerger interface {
	// MergeText returns the merged text and whether it merged cleanly. On
	// a conflict the returned text is not used.
	MergeText(ctx context.Context, base, ours, theirs []byte) ([]byte, bool, error)
}

// MergeFile merges ours and theirs, two descendants of base, the way
// elfsync merges a memory file (see the package documentation):
//
//   - a side that did not change takes the other side's version; an edit
//     beats a deletion;
//   - frontmatter is merged key by key: a key takes the side that changed
//     it from base, and when both changed it differently ours stays and the
//     file is a conflict;
//   - the counters times_validated/times_violated are recomputed from
//     the per-host tallies validated_by/violated_by merged by per-host
//     maximum (increments under "base", which has no host, are added);
//   - bodies are merged with m (git merge-file); a body conflict keeps
//     ours and marks the file a conflict;
//   - files that are not UTF-8 text or exceed maxSize are merged whole.
func MergeFile(ctx context.Context, m TextMerger, base, ours, theirs Version, maxSize int64) (Merged, error) {
	switch {
	case !ours.Present && !theirs.Present:
		return Merged{}, nil
	case !theirs.Present:
		if base.Present && bytes.Equal(base.Data, ours.Data) {
			return Merged{}, nil // theirs deleted what we left alone
		}
		return Merged{Present: true, Data: ours.Data}, nil // our edit beats their deletion
	case !ours.Present:
		if base.Present && bytes.Equal(base.Data, theirs.Data) {
			return Merged{}, nil
		}
		return Merged{Present: true, Data: theirs.Data}, nil
	}
	o, t := ours.Data, theirs.Data
	switch {
	case bytes.Equal(o, t):
		return Merged{Present: true, Data: o}, nil
	case base.Present && bytes.Equal(base.Data, o):
		return Merged{Present: true, Data: t}, nil
	case base.Present && bytes.Equal(base.Data, t):
		return Merged{Present: true, Data: o}, nil
	}
	b := base.Data
	if !mergeableText(b, maxSize) || !mergeableText(o, maxSize) || !mergeableText(t, maxSize) {
		return Merged{Present: true, Data: o, Conflict: true, Why: []string{"content"}}, nil
	}
	db, do, dt := splitDoc(b), splitDoc(o), splitDoc(t)
	if do.hasFM && dt.hasFM && !db.hasFM {
		// Both sides gave the file frontmatter (an older elfsync bumping a
		// bold-field file added a block in front): the base had an empty
		// one, so the counters still merge key by key.
		db.hasFM = true
	}
	if !do.hasFM || !dt.hasFM {
		// No frontmatter to merge key by key on some side: the whole text.
		// In a domain file, each section's counters are merged first and
		// written into both sides alike, so the text merge sees the same
		// change on both and two hosts' validations of one heuristic add up
		// instead of conflicting.
		nb, no, nt := normalize(b), normalize(o), normalize(t)
		no, nt = mergeSectionCounters(nb, no, nt, base.Present)
		// A one-file record in the framework's bold-field style: its
		// counter lines are taken out of all three versions, the rest is
		// merged as text, and the merged counters go back in, in the
		// file's style.
		counters, nb, no, nt := takeBoldCounters(nb, no, nt, base.Present, maxSize)
		out, clean, err := m.MergeText(ctx, nb, no, nt)
		if err != nil {
			return Merged{}, err
		}
		if clean && counters != nil {
			out, clean = counters.put(out)
		}
		if !clean {
			return Merged{Present: true, Data: o, Conflict: true, Why: []string{"content"}}, nil
		}
		return Merged{Present: true, Data: do.restore(out)}, nil
	}
	res := Merged{Present: true}
	block, why := mergeFields(db, do, dt, base.Present)
	res.Why = append(res.Why, why...)

	body := do.body
	switch {
	case do.body == dt.body || db.body == dt.body:
	case db.body == do.body:
		body = dt.body
	default:
		out, clean, err := m.MergeText(ctx, []byte(db.body), []byte(do.body), []byte(dt.body))
		if err != nil {
			return Merged{}, err
		}
		if clean {
			body = string(out)
		} else {
			res.Why = append(res.Why, "body")
		}
	}
	text := do.open + block + do.close + body
	var changes []frontmatter.Change
	if counters, ok := mergeCounters(db, do, dt, b, o, t, base.Present); ok {
		changes = counters
	} else {
		res.Why = append(res.Why, "counters")
	}
	out, err := applyChanges(text, changes)
	if err != nil {
		// The key-by-key result does not hold together: fall back to ours
		// with the merged counters, and keep theirs as a conflict copy.
		res.Why = append(res.Why, "frontmatter")
		out, err = applyChanges(do.open+do.block+do.close+do.body, changes)
		if err != nil {
			out = []byte(do.open + do.block + do.close + do.body)
		}
	}
	res.Data = do.restore(out)
	res.Conflict = len(res.Why) > 0
	return res, nil
}

// applyChanges sets the counter fields in text and checks that its
// frontmatter is a YAML mapping.
func applyChanges(text string, changes []frontmatter.Change) ([]byte, error) {
	if len(changes) > 0 {
		return frontmatter.SetFields([]byte(text), changes)
	}
	d := splitDoc([]byte(text))
	var mp map[string]any
	if err := yaml.Unmarshal([]byte(d.block), &mp); err != nil {
		return nil, err
	}
	return []byte(text), nil
}

// mergeableText reports whether b can be merged as text.
func mergeableText(b []byte, maxSize int64) bool {
	if maxSize <= 0 {
		maxSize = frontmatter.DefaultMaxSize
	}
	return int64(len(b)) <= maxSize && bytes.IndexByte(b, 0) < 0 && utf8.Valid(b)
}

var bom = []byte("\xef\xbb\xbf")

// normalize drops a byte order mark and CRLF line endings.
func normalize(b []byte) []byte {
	b = bytes.TrimPrefix(b, bom)
	return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
}

// doc is a file split into its frontmatter block and body, in LF form.
type doc struct {
	bom, crlf bool
	hasFM     bool
	open      string  // the opening "---" line
	block     string  // the YAML between the fences
	close     string  // the closing "---" line
	body      string  // everything after the closing line (the whole text without frontmatter)
	chunks    []chunk // block split by top-level key; a first chunk with key "" holds leading comments
}

// chunk is one top-level key of a frontmatter block with its value lines.
type chunk struct {
	key  string // lower-case; "" for the lines before the first key
	text string
}

func splitDoc(data []byte) doc {
	d := doc{bom: bytes.HasPrefix(data, bom), crlf: bytes.Contains(data, []byte("\r\n"))}
	text := string(normalize(data))
	d.body = text
	first, rest, ok := strings.Cut(text, "\n")
	if !ok || strings.TrimRight(first, " \t") != "---" {
		return d
	}
	off := len(first) + 1
	for rest != "" {
		line, next, _ := strings.Cut(rest, "\n")
		if strings.TrimRight(line, " \t") == "---" {
			d.hasFM = true
			d.open = first + "\n"
			d.block = text[len(first)+1 : off]
			end := off + len(line)
			if end < len(text) {
				end++ // the newline
			}
			d.close = text[off:end]
			d.body = text[end:]
			d.chunks = splitChunks(d.block)
			return d
		}
		off += len(line) + 1
		rest = next
	}
	return d // unterminated: no frontmatter
}

// restore puts back the byte order mark and CRLF line endings of d's file.
func (d doc) restore(b []byte) []byte {
	if d.crlf {
		b = bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
	}
	if d.bom && !bytes.HasPrefix(b, bom) {
		b = append(append([]byte(nil), bom...), b...)
	}
	return b
}

func splitChunks(block string) []chunk {
	var out []chunk
	cur := chunk{}
	for block != "" {
		line, rest, found := strings.Cut(block, "\n")
		if found {
			line += "\n"
		}
		block = rest
		if k := frontmatter.TopKey(line); k != "" {
			if cur.key != "" || cur.text != "" {
				out = append(out, cur)
			}
			cur = chunk{key: strings.ToLower(k)}
		}
		cur.text += line
	}
	if cur.key != "" || cur.text != "" {
		out = append(out, cur)
	}
	return out
}

func chunkMap(cs []chunk) map[string]string {
	m := make(map[string]string, len(cs))
	for _, c := range cs {
		if c.key != "" {
			m[c.key] = strings.TrimRight(c.text, " \t\n")
		}
	}
	return m
}

// counterKeys are merged by mergeCounters, not as plain keys.
var counterKeys = map[string]bool{
	frontmatter.KeyTimesValidated: true, frontmatter.KeyTimesViolated: true,
	frontmatter.KeyValidatedBy: true, frontmatter.KeyViolatedBy: true,
}

// mergeFields merges the frontmatter blocks key by key, leaving the
// counter keys as ours has them (mergeCounters sets them). It returns the
// merged block and the keys that conflicted.
func mergeFields(b, o, t doc, hasBase bool) (string, []string) {
	bm, om, tm := chunkMap(b.chunks), chunkMap(o.chunks), chunkMap(t.chunks)
	var out strings.Builder
	var why []string
	for _, c := range o.chunks {
		if c.key == "" || counterKeys[c.key] {
			out.WriteString(c.text)
			continue
		}
		ov := om[c.key]
		bv, inB := bm[c.key]
		tv, inT := tm[c.key]
		switch {
		case !inT:
			if inB && hasBase && bv == ov {
				continue // they removed it, we left it alone
			}
			out.WriteString(c.text) // we added it, or changed what they removed
		case ov == tv:
			out.WriteString(c.text)
		case inB && bv == ov:
			out.WriteString(chunkText(t.chunks, c.key))
		case inB && bv == tv:
			out.WriteString(c.text)
		default:
			out.WriteString(c.text)
			why = append(why, c.key)
		}
	}
	for _, c := range t.chunks {
		if c.key == "" || counterKeys[c.key] {
			continue
		}
		if _, inO := om[c.key]; inO {
			continue
		}
		if bv, inB := bm[c.key]; inB && bv == tm[c.key] {
			continue // we removed it, they left it alone
		}
		text := c.text
		if !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		// Keep a last line without newline in ours from gluing on.
		if s := out.String(); s != "" && !strings.HasSuffix(s, "\n") {
			out.WriteByte('\n')
		}
		out.WriteString(text)
	}
	return out.String(), why
}

func chunkText(cs []chunk, key string) string {
	for _, c := range cs {
		if c.key == key {
			return c.text
		}
	}
	return ""
}

// mergeCounters returns the frontmatter changes that set both counters to
// their merged values. ok is false when some side's frontmatter does not
// parse, so its counters cannot be read.
func mergeCounters(b, o, t doc, bd, od, td []byte, hasBase bool) ([]frontmatter.Change, bool) {
	parse := func(data []byte) (frontmatter.Record, error) {
		// The path only decides the type when the file has none; the
		// counters do not depend on it.
		return frontmatter.Parse(frontmatter.Input{Path: "observations/merge.md", Data: data, MaxSize: int64(len(data)) + 1})
	}
	ro, err := parse(od)
	if err != nil {
		return nil, false
	}
	rt, err := parse(td)
	if err != nil {
		return nil, false
	}
	var rb frontmatter.Record
	if hasBase {
		if rb, err = parse(bd); err != nil {
			hasBase = false
		}
	}
	has := func(key string) bool {
		for _, d := range []doc{b, o, t} {
			for _, c := range d.chunks {
				if c.key == key {
					return true
				}
			}
		}
		return false
	}
	return counterChanges(rb, ro, rt, hasBase, has), true
}

// counterChanges returns the changes that set both counters of a record
// to the merge of its three versions' (see MergeCounter). stated reports
// whether some version states a key: a counter none states is left out,
// its tally is written when some version has one or the merge counts by
// host.
func counterChanges(rb, ro, rt frontmatter.Record, hasBase bool, stated func(key string) bool) []frontmatter.Change {
	var changes []frontmatter.Change
	for _, c := range []struct {
		plainKey, tallyKey string
		b, o, t            int64
		bt, ot, tt         frontmatter.Tally
	}{
		{frontmatter.KeyTimesValidated, frontmatter.KeyValidatedBy, rb.TimesValidated, ro.TimesValidated, rt.TimesValidated, rb.ValidatedBy, ro.ValidatedBy, rt.ValidatedBy},
		{frontmatter.KeyTimesViolated, frontmatter.KeyViolatedBy, rb.TimesViolated, ro.TimesViolated, rt.TimesViolated, rb.ViolatedBy, ro.ViolatedBy, rt.ViolatedBy},
	} {
		hasPlain, hasTally := stated(c.plainKey), stated(c.tallyKey)
		if !hasPlain && !hasTally {
			continue
		}
		merged := MergeCounter(frontmatter.Normalize(c.bt, c.b), frontmatter.Normalize(c.ot, c.o), frontmatter.Normalize(c.tt, c.t), hasBase)
		changes = append(changes, frontmatter.Change{Key: c.plainKey, Value: merged.Sum()})
		if hasTally || hostCounts(merged) {
			if merged == nil {
				merged = frontmatter.Tally{}
			}
			changes = append(changes, frontmatter.Change{Key: c.tallyKey, Value: merged})
		}
	}
	return changes
}

func hostCounts(t frontmatter.Tally) bool {
	for k := range t {
		if k != frontmatter.TallyBase {
			return true
		}
	}
	return false
}

// MergeCounter merges one counter's tallies (each already normalized to
// its side's plain number): every host's count is the larger of the two
// sides, so an increment that both sides hold is counted once. The "base"
// entry (counts with no host: an adopted number, a hand edit, a reset) is
// merged three-way, adding both sides' changes to it; without a common
// version it takes the larger side too.
func MergeCounter(base, ours, theirs frontmatter.Tally, hasBase bool) frontmatter.Tally {
	m := frontmatter.MergeTally(ours, theirs)
	if hasBase {
		n := ours[frontmatter.TallyBase] + theirs[frontmatter.TallyBase] - base[frontmatter.TallyBase]
		if m == nil {
			m = frontmatter.Tally{}
		}
		m[frontmatter.TallyBase] = n
	}
	if s := m.Sum(); s < 0 {
		m[frontmatter.TallyBase] -= s
	}
	if m[frontmatter.TallyBase] == 0 {
		delete(m, frontmatter.TallyBase)
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// GitMerger merges text with `git merge-file`, through temporary files in
// Dir.
type GitMerger struct {
	Dir string
}

// MergeText implements TextMerger.
func (g GitMerger) MergeText(ctx context.Context, base, ours, theirs []byte) ([]byte, bool, error) {
	dir, err := os.MkdirTemp(g.Dir, ".elfsync-merge-*.tmp")
	if err != nil {
		return nil, false, fmt.Errorf("merge text: %w", err)
	}
	defer os.RemoveAll(dir)
	names := []string{"ours", "base", "theirs"}
	for i, data := range [][]byte{ours, base, theirs} {
		if err := os.WriteFile(filepath.Join(dir, names[i]), data, 0o600); err != nil {
			return nil, false, fmt.Errorf("merge text: %w", err)
		}
	}
	gr := newGit(dir)
	out, err := gr.Run(ctx, committer.RunOpts{}, "merge-file", "-p", "-q", "--", "ours", "base", "theirs")
	if err == nil {
		return out, true, nil
	}
	if c := committer.ExitCode(err); c > 0 && c < 128 {
		return nil, false, nil // that many conflicts
	}
	return nil, false, fmt.Errorf("merge text: %w", err)
}

// mergeSectionCounters merges the counters of every "## H-<id>" section
// that ours and theirs both hold (domain files) by per-host maximum, as
// MergeCounter does for frontmatter, and returns both sides with the
// merged "**Validated**:"/"**Validated by**:" (and violated) lines. A side
// that is not a domain file, or a section it cannot rewrite, is returned
// as it was: the text merge then decides.
func mergeSectionCounters(b, o, t []byte, hasBase bool) ([]byte, []byte) {
	_, ours := frontmatter.ParseSections(o)
	_, theirs := frontmatter.ParseSections(t)
	if len(ours) == 0 || len(theirs) == 0 {
		return o, t
	}
	var bs []frontmatter.Section
	if hasBase {
		_, bs = frontmatter.ParseSections(b)
	}
	byID := func(ss []frontmatter.Section) map[int64]frontmatter.Section {
		m := make(map[int64]frontmatter.Section, len(ss))
		for _, s := range ss {
			if s.HasID && s.ID > 0 {
				m[s.ID] = s
			}
		}
		return m
	}
	bm, tm := byID(bs), byID(theirs)
	for _, so := range ours {
		st, ok := tm[so.ID]
		if !so.HasID || so.ID == 0 || !ok {
			continue
		}
		sb, inBase := bm[so.ID]
		var fields []frontmatter.SectionField
		for _, c := range []struct {
			label      string
			b, o, t    *int64
			bt, ot, tt frontmatter.Tally
		}{
			{"Validated", sb.Validated, so.Validated, st.Validated, sb.ValidatedBy, so.ValidatedBy, st.ValidatedBy},
			{"Violated", sb.Violated, so.Violated, st.Violated, sb.ViolatedBy, so.ViolatedBy, st.ViolatedBy},
		} {
			if c.o == nil && c.t == nil && c.ot == nil && c.tt == nil {
				continue
			}
			_, bt := frontmatter.SectionCounter(c.b, c.bt)
			_, ot := frontmatter.SectionCounter(c.o, c.ot)
			_, tt := frontmatter.SectionCounter(c.t, c.tt)
			merged := MergeCounter(bt, ot, tt, hasBase && inBase)
			if merged == nil {
				merged = frontmatter.Tally{}
			}
			fields = append(fields,
				frontmatter.SectionField{Label: c.label, Value: strconv.FormatInt(merged.Sum(), 10)},
				frontmatter.SectionField{Label: c.label + " by", Value: merged.String()})
		}
		if len(fields) == 0 {
			continue
		}
		no, err1 := frontmatter.SetSectionFields(o, so.ID, fields)
		nt, err2 := frontmatter.SetSectionFields(t, so.ID, fields)
		if err1 != nil || err2 != nil {
			continue
		}
		o, t = no, nt
	}
	return o, t
}

// boldCounters are the merged counters of a bold-field record.
type boldCounters struct {
	changes []frontmatter.Change
	maxSize int64
}

// counterKeyList are the keys a record's counters are written under.
var counterKeyList = []string{frontmatter.KeyTimesValidated, frontmatter.KeyValidatedBy, frontmatter.KeyTimesViolated, frontmatter.KeyViolatedBy}

// takeBoldCounters merges the counters of a record kept in the
// framework's bold-field style ("**Times Validated**: 3" lines, no
// frontmatter, not a domain file) as mergeCounters does for frontmatter,
// and returns the three versions without their counter lines, for the
// text merge: both sides changing a counter line is no conflict, and the
// counters are put back by boldCounters.put. Versions that are not such
// records, or whose counters cannot be taken out in their style, are
// returned as they were, with nil counters: the text merge decides.
func takeBoldCounters(b, o, t []byte, hasBase bool, maxSize int64) (*boldCounters, []byte, []byte, []byte) {
	if maxSize <= 0 {
		maxSize = frontmatter.DefaultMaxSize
	}
	if frontmatter.HasFrontmatter(o) || frontmatter.HasFrontmatter(t) {
		return nil, b, o, t
	}
	if _, s := frontmatter.ParseSections(o); len(s) > 0 {
		return nil, b, o, t
	}
	if _, s := frontmatter.ParseSections(t); len(s) > 0 {
		return nil, b, o, t
	}
	// The path only decides the type, which the counters do not depend
	// on; the same one for all three, so each reads as the others do.
	in := func(data []byte) frontmatter.Input {
		return frontmatter.Input{Path: "heuristics/merge.md", Data: data, MaxSize: maxSize}
	}
	ro, err := frontmatter.Parse(in(o))
	if err != nil {
		return nil, b, o, t
	}
	rt, err := frontmatter.Parse(in(t))
	if err != nil {
		return nil, b, o, t
	}
	var rb frontmatter.Record
	baseOK := hasBase && !frontmatter.HasFrontmatter(b)
	if baseOK {
		if rb, err = frontmatter.Parse(in(b)); err != nil {
			baseOK = false
		}
	}
	stated := func(key string) bool {
		for _, r := range []frontmatter.Record{rb, ro, rt} {
			switch key {
			case frontmatter.KeyTimesValidated:
				if r.TimesValidated != 0 {
					return true
				}
			case frontmatter.KeyTimesViolated:
				if r.TimesViolated != 0 {
					return true
				}
			case frontmatter.KeyValidatedBy:
				if r.ValidatedBy != nil {
					return true
				}
			case frontmatter.KeyViolatedBy:
				if r.ViolatedBy != nil {
					return true
				}
			}
		}
		return false
	}
	changes := counterChanges(rb, ro, rt, baseOK, stated)
	if len(changes) == 0 {
		return nil, b, o, t
	}
	drop := make([]frontmatter.Change, len(counterKeyList))
	for i, k := range counterKeyList {
		drop[i] = frontmatter.Change{Key: k, Delete: true}
	}
	take := func(data []byte) ([]byte, bool) {
		out, _, err := frontmatter.EditRecord(in(data), drop)
		return out, err == nil && !frontmatter.HasFrontmatter(out)
	}
	no, ok1 := take(o)
	nt, ok2 := take(t)
	if !ok1 || !ok2 {
		return nil, b, o, t
	}
	nb := b
	if baseOK {
		// A base that cannot be edited keeps its lines: both sides
		// removing them is the same change.
		if x, ok := take(b); ok {
			nb = x
		}
	}
	return &boldCounters{changes: changes, maxSize: maxSize}, nb, no, nt
}

// put writes the merged counters into the merged text as bold lines.
// ok is false when they cannot be (the text merged into something that
// does not parse, or would need a frontmatter block).
func (c *boldCounters) put(text []byte) ([]byte, bool) {
	out, _, err := frontmatter.EditRecord(frontmatter.Input{Path: "heuristics/merge.md", Data: text, MaxSize: c.maxSize}, c.changes)
	return out, err == nil && !frontmatter.HasFrontmatter(out)
}
