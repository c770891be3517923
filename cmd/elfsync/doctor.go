package main

import (
	"context"

	"github.com/emergent-learning/elfsync/doctor"
)

func cmdDoctor(ctx context.Context, e *cmdEnv, args []string) error {
	fs, rootFlag := e.newFlagSet("doctor", "[flags]")
	noGit := fs.Bool("no-git", false, "skip the git checks")
	root, err := e.parseAnyRoot(fs, args, rootFlag)
	if err != nil {
		return err
	}
	checks := doctor.Run(ctx, root, doctor.Options{NoGit: *noGit})
	doctor.PendingIsFine(ctx, root, checks, !*noGit)
	if doctor.Write(e.stdout, checks) > 0 {
		return errNotInSync
	}
	return nil
}
