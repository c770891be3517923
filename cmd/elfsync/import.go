package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/legacy"
)

// elfsync import brings an old framework memory folder across; the work
// and the report's printing are package legacy's. This file is the
// command line: flags, help and exit codes.

const importHelp = `
Bring an old Emergent Learning Framework memory folder (OLD_ROOT/memory and
its index.db) into ROOT/memory in elfsync's format. OLD_ROOT is only read,
never changed; it must not be ROOT, and neither memory folder may hold the
other. --from may also name the old memory folder itself.

What is imported:

  - Record files (failures/, successes/, ... in the framework's bold-field
    style: "# Title" then "**Domain**: x" lines) are copied to the same path
    under ROOT/memory, keeping their modification time: elfsync indexes that
    style as it is. Other files are copied too (they are committed, not
    indexed); dot-files and the old index.db are not.
  - With --rewrite, a record file without frontmatter gets YAML frontmatter
    instead: the fields elfsync reads from it (title, summary, domain, tags,
    severity, created, ... and any other bold field) written the way
    'elfsync record' writes them, followed by a blank line and the original
    text unchanged. Each rewrite is parsed again and compared with the
    original; a file whose fields would not come out the same is copied as
    it is (the line says why).
  - heuristics/<domain>.md files with "## H-<n>: <rule>" sections (and
    "**Confidence**:", "**Source**:", "**Created**:" lines and an
    explanation) become one file per heuristic in ROOT/memory/heuristics/,
    named YYYYMMDD_<rule-slug>.md, with type, title, domain, rule,
    explanation, confidence, source_type, created and legacy_id: <n> in
    the frontmatter. The domain comes from the "# Heuristics: <domain>"
    heading, else the file name.
  - Rows of the old index.db without a file (the old hooks wrote such
    rows): a learnings row becomes a file in the folder of its type with
    its title, summary, tags, domain, severity, created and legacy_path:
    <old filepath>; a heuristics row that no "## H-<n>" section holds
    becomes a heuristic file with legacy_id: <id>.
  - Old heuristics rows are matched to sections by id and rule. Their
    confidence and is_golden win over the files' text and go into the new
    frontmatter (is_golden only when true, so later promotions by hooks
    still apply). After writing, import scans ROOT/memory into the index
    and sets times_validated and times_violated from the old rows on new
    rows that have none yet; counters a row already has are kept.

Running import again creates no duplicates: a heuristic or row already
imported is recognised by its legacy_id or legacy_path anywhere under
ROOT/memory, a copied file by identical content at its path. A different
file already at a copy's path is never overwritten: it is reported as a
conflict and left alone.

The report has one line per file: created, copied, rewritten,
skipped-existing, conflict, skipped, counters-set, counters-kept or error,
then a summary. With --dry-run nothing is written (not even ROOT/memory)
and the lines say what would be done. import does not run git: elfsync
watch or scan commits the new files.

Exit status: 0 done (conflicts are reported, not failures); 1 if a file
or row could not be imported, the old index could not be read, or the new
index could not be updated; 2 usage.`

func cmdImport(ctx context.Context, e *cmdEnv, args []string) error {
	fs, rootFlag := e.newFlagSet("import", "--from OLD_ROOT [--rewrite] [--dry-run] [--json] [--root ROOT]", importHelp)
	from := fs.String("from", "", "the old framework's home (holding memory/ and memory/index.db), or its memory folder; required")
	rewrite := fs.Bool("rewrite", false, "give bold-field record files YAML frontmatter instead of copying them as they are")
	dryRun := fs.Bool("dry-run", false, "print what would be done; write nothing")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	maxSize := fs.Int64("max-size", frontmatter.DefaultMaxSize, "largest record file read as a record, in bytes")
	var lf logFlags
	lf.register(fs)
	if err := e.parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("import takes no arguments, got %q (did you mean --from %s?)", fs.Args(), fs.Arg(0))
	}
	if *from == "" {
		return usagef("import: --from OLD_ROOT is required")
	}
	root, err := e.resolveRoot(*rootFlag)
	if err != nil {
		return mark(errUsage, err)
	}
	log, err := lf.logger(e.stderr)
	if err != nil {
		return err
	}
	im, err := legacy.New(legacy.Options{Root: root, From: *from, Rewrite: *rewrite, DryRun: *dryRun,
		MaxSize: *maxSize, Log: log, Now: e.now})
	var ue *legacy.UsageError
	if errors.As(err, &ue) {
		return mark(errUsage, ue.Err)
	}
	if err != nil {
		return err
	}
	rep := im.Run(ctx)
	if *asJSON {
		if err := rep.WriteJSON(e.stdout); err != nil {
			return err
		}
	} else {
		rep.WriteText(e.stdout, e.stderr)
	}
	if n := rep.Summary[legacy.ActError]; n > 0 {
		return fmt.Errorf("import: %d error(s); see the lines marked error", n)
	}
	return nil
}
