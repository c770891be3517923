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

func cmdImport(ctx context.Context, e *cmdEnv, args []string) error {
	fs, rootFlag := e.newFlagSet("import", "--from OLD_ROOT [--rewrite] [--dry-run] [--json] [--root ROOT]")
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
