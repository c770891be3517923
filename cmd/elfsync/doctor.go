package main

import (
	"context"
	"fmt"

	"github.com/emergent-learning/elfsync/doctor"
)

func cmdDoctor(ctx context.Context, e *cmdEnv, args []string) error {
	fs, rootFlag := e.newFlagSet("doctor", "[flags]", `
Check everything elfsync depends on and print what to do about each
problem: the root and memory folder, the index file (integrity_check, WAL,
schema version), drift between files and index, git (uncommitted paths, a
lock left by a crashed git, a merge in progress, identity), the inotify
limits against the number of directories to watch, and whether a watcher
runs. Invalid files are listed as warnings.

Exit status: 0 no problem; 1 a problem was found; 2 doctor itself failed.`)
	noGit := fs.Bool("no-git", false, "skip the git checks")
	root, err := e.parseAnyRoot(fs, args, rootFlag)
	if err != nil {
		return err
	}
	problems := 0
	for _, c := range doctor.Run(ctx, root, doctor.Options{NoGit: *noGit}) {
		mark := "ok  "
		switch {
		case c.Warn:
			mark = "warn"
		case !c.OK:
			mark = "FAIL"
			problems++
		}
		fmt.Fprintf(e.stdout, "%s %-16s %s\n", mark, c.Name, c.Info)
		if !c.OK && c.Fix != "" {
			fmt.Fprintf(e.stdout, "     %-16s → %s\n", "", c.Fix)
		}
	}
	if problems > 0 {
		fmt.Fprintf(e.stdout, "%d problem(s) found\n", problems)
		return errNotInSync
	}
	fmt.Fprintln(e.stdout, "no problems found")
	return nil
}
