package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/emergent-learning/elfsync/doctor"
	"github.com/emergent-learning/elfsync/layout"
	"github.com/emergent-learning/elfsync/remote"
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
	if !*noGit {
		checks = append(checks, remoteChecks(ctx, root)...)
	}
	if doctor.Write(e.stdout, checks) > 0 {
		return errNotInSync
	}
	return nil
}

// remoteChecks reports the sync state with a git remote and the conflict
// copies merges kept (a conflict copy is a warning, not a problem: both
// versions are kept and indexed, waiting for a person).
func remoteChecks(ctx context.Context, root string) []doctor.Check {
	var cs []doctor.Check
	if rs, err := remote.ReadStatus(ctx, root); err == nil && rs != nil {
		info := fmt.Sprintf("%s (%s, branch %s): %d ahead, %d behind", rs.Name, rs.URL, rs.Branch, rs.Ahead, rs.Behind)
		if rs.LastError != "" {
			cs = append(cs, doctor.Check{Name: "remote", Info: info + "; last error: " + rs.LastError,
				Fix: "check the network and your credentials (`git -C " + layout.ShellQuote(filepath.Join(root, "memory")) + " fetch " + rs.Name + "`); elfsync keeps committing locally and retries"})
		} else {
			cs = append(cs, doctor.Check{Name: "remote", OK: true, Info: info})
		}
	}
	for _, c := range conflictCopies(root) {
		cs = append(cs, doctor.Check{Name: "conflict copy", OK: true, Warn: true,
			Info: c.Path + ": keep what you want of it in the file it names (conflict_of), then: " + c.Resolve})
	}
	return cs
}
