package remote

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/emergent-learning/elfsync/frontmatter"
)

// boldHeur is a one-file heuristic in the framework's bold-field style:
// no frontmatter, not a domain file.
const boldHeur = "# Rebase before pushing\n\n**Domain**: git\n**Confidence**: 0.7\n**Times Validated**: 3\n\n## Explanation\n\nA merge commit hides who changed what.\n"

func checkBold(t *testing.T, where, data string, validated int64, hosts ...string) {
	t.Helper()
	if frontmatter.HasFrontmatter([]byte(data)) {
		t.Errorf("%s: the bold-field file got frontmatter:\n%s", where, data)
	}
	if strings.Contains(data, "<<<<<<<") {
		t.Errorf("%s: conflict marker:\n%s", where, data)
	}
	r, err := frontmatter.Parse(frontmatter.Input{Path: "heuristics/rebase-before-pushing.md", Data: []byte(data)})
	if err != nil {
		t.Fatalf("%s: %v\n%s", where, err, data)
	}
	if r.TimesValidated != validated || r.ValidatedBy.Sum() != validated {
		t.Errorf("%s: times_validated %d (tally %v), want %d\n%s", where, r.TimesValidated, r.ValidatedBy, validated, data)
	}
	for _, h := range hosts {
		if r.ValidatedBy[h] == 0 {
			t.Errorf("%s: the tally %v lost host %s", where, r.ValidatedBy, h)
		}
	}
	if r.Domain != "git" || r.Confidence == nil || *r.Confidence != 0.7 || r.Title != "Rebase before pushing" {
		t.Errorf("%s: fields changed: domain %q confidence %v title %q\n%s", where, r.Domain, r.Confidence, r.Title, data)
	}
	if n := strings.Count(data, "**Times Validated**"); n != 1 {
		t.Errorf("%s: %d times_validated lines\n%s", where, n, data)
	}
}

// TestTwoHostsBumpBoldHeuristic: two clones validate a bold-field
// heuristic (the framework's style), sync: the file stays bold-field,
// with the counts of both hosts added up, and no conflict.
func TestTwoHostsBumpBoldHeuristic(t *testing.T) {
	testEnv(t)
	bare := filepath.Join(t.TempDir(), "remote.git")
	run(t, filepath.Dir(bare), "init", "-q", "--bare", bare)
	a, b := newHost(t, bare), newHost(t, bare)
	const rel = "heuristics/rebase-before-pushing.md"
	a.write(rel, boldHeur)
	a.commit()
	a.sync()
	b.sync()
	if b.read(rel) != boldHeur {
		t.Fatalf("b lacks the heuristic: %q", b.read(rel))
	}
	a.bump(rel)
	a.bump(rel)
	b.bump(rel)
	checkBold(t, "a bumped", a.read(rel), 5)
	a.commit()
	b.commit()
	a.sync()
	res := b.sync()
	a.sync()
	if len(res.Conflicts) != 0 {
		t.Errorf("conflicts: %v", res.Conflicts)
	}
	for _, h := range []*host{a, b} {
		checkBold(t, h.root, h.read(rel), 6)
	}
	if ha, hb := run(t, a.mem, "rev-parse", "HEAD^{tree}"), run(t, b.mem, "rev-parse", "HEAD^{tree}"); ha != hb {
		t.Errorf("trees differ: %s %s", ha, hb)
	}
	// Both sides changed the same counter differently and the text
	// elsewhere: still one bold file, counters added.
	a.bump(rel)
	b.bump(rel)
	b.write(rel, strings.Replace(b.read(rel), "who changed what.", "who changed what, and when.", 1))
	a.commit()
	b.commit()
	a.sync()
	b.sync()
	a.sync()
	for _, h := range []*host{a, b} {
		checkBold(t, h.root, h.read(rel), 8)
		if !strings.Contains(h.read(rel), "and when.") {
			t.Errorf("%s lost b's edit:\n%s", h.root, h.read(rel))
		}
	}
}

// TestConflictCopyOfBoldRecord: their version of a bold-field record that
// could not be merged is kept in its style, its fields reading as they
// did, with the conflict fields as bold lines; no frontmatter block.
func TestConflictCopyOfBoldRecord(t *testing.T) {
	const rel = "failures/20261129_push-rejected.md"
	theirs := "# Push rejected\n\n**Domain**: git\n**Severity**: 3\n**Tags**: git, remote\n**Date**: 2026-11-29\n\n## Summary\n\nThe remote moved.\n"
	out := conflictCopy(rel, []byte(theirs), "0123456789abcdef", "20261206T120000Z")
	if frontmatter.HasFrontmatter(out) {
		t.Fatalf("the copy got frontmatter:\n%s", out)
	}
	in := func(data []byte) frontmatter.Input {
		return frontmatter.Input{Path: "failures/20261129_push-rejected.conflict-01234567-20261206T120000Z.md", Data: data}
	}
	was, err := frontmatter.Parse(in([]byte(theirs)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := frontmatter.Parse(in(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.Domain != was.Domain || got.Severity != was.Severity || got.TagString() != was.TagString() ||
		got.Title != was.Title || got.Summary != was.Summary || !got.Created.Equal(was.Created) {
		t.Errorf("the copy reads differently:\n%+v\nwas\n%+v\n%s", got, was, out)
	}
	if !strings.Contains(got.Extra, `"conflict_of":"memory/`+rel+`"`) {
		t.Errorf("extra %s lacks conflict_of", got.Extra)
	}
	// A domain file's copy is one note (frontmatter), not a second set of
	// its heuristics.
	const domain = "# Heuristics: git\n\n## H-1: Never delete a lock\n\n**Confidence**: 0.9\n\nWhy.\n\n---\n"
	if out := conflictCopy("heuristics/git.md", []byte(domain), "0123456789abcdef", "20261206T120000Z"); frontmatter.IsDomainFile("heuristics/git.conflict-01234567-20261206T120000Z.md", out) {
		t.Errorf("the domain file's copy is still a domain file:\n%s", out)
	}
}

// TestMergeBoldCounters: ours validates, theirs records a violation and
// edits the explanation: one bold file with both counters and the edit;
// without a common version the counters take each host's larger count.
func TestMergeBoldCounters(t *testing.T) {
	ctx := t.Context()
	m := GitMerger{Dir: t.TempDir()}
	const rel = "heuristics/rebase-before-pushing.md"
	bumpBold := func(data, key, host string) string {
		t.Helper()
		r, err := frontmatter.Parse(frontmatter.Input{Path: rel, Data: []byte(data)})
		if err != nil {
			t.Fatal(err)
		}
		plain, tally, tk := r.TimesValidated, r.ValidatedBy, frontmatter.KeyValidatedBy
		if key == frontmatter.KeyTimesViolated {
			plain, tally, tk = r.TimesViolated, r.ViolatedBy, frontmatter.KeyViolatedBy
		}
		tl, err := frontmatter.Bump(tally, plain, host, 1)
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := frontmatter.EditRecord(frontmatter.Input{Path: rel, Data: []byte(data)},
			[]frontmatter.Change{{Key: key, Value: tl.Sum()}, {Key: tk, Value: tl}})
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	ours := bumpBold(boldHeur, frontmatter.KeyTimesValidated, "h-aaaaaaaa")
	bumped := bumpBold(boldHeur, frontmatter.KeyTimesViolated, "h-bbbbbbbb")
	edited := strings.Replace(bumped, "what.", "what, and when.", 1)
	for _, base := range []Version{v(boldHeur), none} {
		theirs := edited
		if !base.Present {
			theirs = bumped // two added files: a text edit would conflict
		}
		got, err := MergeFile(ctx, m, base, v(ours), v(theirs), 0)
		if err != nil {
			t.Fatal(err)
		}
		if got.Conflict {
			t.Fatalf("base %v: conflict %v:\n%s", base.Present, got.Why, got.Data)
		}
		checkBold(t, "merged", string(got.Data), 4, "h-aaaaaaaa")
		r, _ := frontmatter.Parse(frontmatter.Input{Path: rel, Data: got.Data})
		if r.TimesViolated != 1 || r.ViolatedBy["h-bbbbbbbb"] != 1 || base.Present && !strings.Contains(string(got.Data), "and when.") {
			t.Errorf("base %v: violated %d %v:\n%s", base.Present, r.TimesViolated, r.ViolatedBy, got.Data)
		}
	}
}
