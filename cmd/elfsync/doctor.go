package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/indexer"
	"github.com/emergent-learning/elfsync/remote"
)

// check is one doctor finding.
type check struct {
	name string
	ok   bool
	info string // what was found
	fix  string // what to do, when not ok
}

func cmdDoctor(ctx context.Context, e *cmdEnv, args []string) error {
	fs, rootFlag := e.newFlagSet("doctor", "[flags]", `
Check everything elfsync depends on and print what to do about each
problem: the index file (integrity_check, WAL, schema version), drift
between files and index, git (uncommitted paths, a lock left by a crashed
git, a merge in progress, identity), the inotify limits against the number
of directories to watch, and whether a watcher runs.

Exit status: 0 no problem; 1 a problem was found; 2 doctor itself failed.`)
	noGit := fs.Bool("no-git", false, "skip the git checks")
	root, err := e.parseRoot(fs, args, rootFlag)
	if err != nil {
		return err
	}
	memDir := filepath.Join(root, indexer.MemoryDir)
	var checks []check
	add := func(c check) { checks = append(checks, c) }

	if info, err := os.Stat(memDir); err != nil || !info.IsDir() {
		add(check{name: "memory folder", info: memDir + " is missing",
			fix: "create it, or point --root / $ELF_HOME at the framework's home"})
		return e.report(checks)
	}
	add(check{name: "memory folder", ok: true, info: memDir})

	h, err := indexer.CheckHealth(ctx, root)
	switch {
	case err != nil:
		add(check{name: "index", info: err.Error(),
			fix: "run `elfsync scan`: an unreadable index is set aside and rebuilt from the files"})
	case !h.Exists:
		add(check{name: "index", info: "no index yet", fix: "run `elfsync scan` or start `elfsync watch`"})
	default:
		add(check{name: "index integrity", ok: h.Integrity == "ok", info: "integrity_check: " + h.Integrity,
			fix: "stop the watcher, move " + h.Path + " away and run `elfsync scan` to rebuild it from the files"})
		add(check{name: "index journal", ok: h.JournalMode == "wal", info: "journal_mode=" + h.JournalMode,
			fix: "run `elfsync scan`; it opens the index in WAL mode"})
		add(check{name: "index schema", ok: h.SchemaVersion == indexer.SchemaVersion,
			info: fmt.Sprintf("schema version %d (this elfsync: %d)", h.SchemaVersion, indexer.SchemaVersion),
			fix:  "run `elfsync scan`: it migrates an older index and sets a newer one aside"})
		add(check{name: "busy timeout", ok: indexer.BusyTimeout >= 5*time.Second,
			info: fmt.Sprintf("elfsync waits %v for another process's lock", indexer.BusyTimeout)})
	}
	if d, err := indexer.Check(ctx, root, frontmatter.DefaultMaxSize); err != nil {
		add(check{name: "drift", info: err.Error(), fix: "run `elfsync scan`"})
	} else {
		add(check{name: "drift", ok: d.InSync(),
			info: fmt.Sprintf("%d files, %d rows; %d without a row, %d rows without a file, %d rows behind their file",
				d.Files, d.Rows, len(d.MissingRows), len(d.OrphanRows), len(d.StaleRows)),
			fix: "start `elfsync watch` or run `elfsync scan`"})
		for _, fe := range d.Invalid {
			add(check{name: "invalid file", ok: true, info: fe.Path + ": " + fe.Error})
		}
	}
	if !*noGit {
		checks = append(checks, gitChecks(ctx, root)...)
		checks = append(checks, remoteChecks(ctx, root)...)
	}
	checks = append(checks, watchLimitChecks(memDir)...)
	inst := readInstance(root)
	if inst.Running {
		add(check{name: "watcher", ok: true, info: fmt.Sprintf("running (pid %d)", inst.PID)})
	} else {
		add(check{name: "watcher", ok: true, info: "not running (start `elfsync watch`, or install the service: see README)"})
	}
	return e.report(checks)
}

func gitChecks(ctx context.Context, root string) []check {
	if _, err := exec.LookPath("git"); err != nil {
		return []check{{name: "git", info: "git is not installed", fix: "install git, or run with --no-git"}}
	}
	gs, err := gitStatus(ctx, root)
	if err != nil {
		return []check{{name: "git", info: err.Error(), fix: "fix the repository (see the error), then run `elfsync scan`"}}
	}
	var cs []check
	if gs.Repo == "" {
		return []check{{name: "git", info: gs.LastError, fix: "run `elfsync scan`"}}
	}
	cs = append(cs, check{name: "git repository", ok: true, info: gs.Repo})
	cs = append(cs, check{name: "git uncommitted", ok: len(gs.Uncommitted) == 0,
		info: fmt.Sprintf("%d paths under memory/ differ from HEAD", len(gs.Uncommitted)),
		fix:  "start `elfsync watch` or run `elfsync scan`"})
	if gs.LockHeld {
		lock := filepath.Join(gitDir(ctx, gs.Repo), "index.lock")
		age := ""
		if info, err := os.Stat(lock); err == nil {
			age = fmt.Sprintf(", %s old", time.Since(info.ModTime()).Round(time.Second))
		}
		cs = append(cs, check{name: "git lock", info: lock + " exists" + age,
			fix: "if no git command is running (check `ps aux | grep git`), the lock is stale: remove it with `rm " + lock + "`; elfsync never removes a lock it did not create"})
	} else {
		cs = append(cs, check{name: "git lock", ok: true, info: "no index.lock"})
	}
	if gs.Operation != "" {
		cs = append(cs, check{name: "git operation", info: gs.Operation + " in progress; elfsync waits",
			fix: "finish or abort it (`git " + gs.Operation + " --continue` or `--abort`)"})
	}
	if gs.LastError != "" {
		cs = append(cs, check{name: "git last error", info: gs.LastError + " at " + gs.LastErrorTime.Local().Format(time.DateTime),
			fix: "see the error; elfsync retries on its own"})
	}
	email, _ := exec.CommandContext(ctx, "git", "-C", gs.Repo, "config", "user.email").Output()
	cs = append(cs, check{name: "git identity", ok: true, info: identityInfo(strings.TrimSpace(string(email)))})
	return cs
}

func identityInfo(email string) string {
	if email == "" {
		return "no user.email: elfsync commits as 'elfsync <elfsync@localhost>' (set `git config --global user.email` to use yours)"
	}
	return "commits as " + email
}

func gitDir(ctx context.Context, top string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", top, "rev-parse", "--absolute-git-dir").Output()
	if err != nil {
		return filepath.Join(top, ".git")
	}
	return strings.TrimSpace(string(out))
}

// report prints the checks and maps them to the exit status.
func (e *cmdEnv) report(checks []check) error {
	problems := 0
	for _, c := range checks {
		mark := "ok  "
		if !c.ok {
			mark = "FAIL"
			problems++
		}
		fmt.Fprintf(e.stdout, "%s %-16s %s\n", mark, c.name, c.info)
		if !c.ok && c.fix != "" {
			fmt.Fprintf(e.stdout, "     %-16s → %s\n", "", c.fix)
		}
	}
	if problems > 0 {
		fmt.Fprintf(e.stdout, "%d problem(s) found\n", problems)
		return &exitError{Code: 1}
	}
	fmt.Fprintln(e.stdout, "no problems found")
	return nil
}

// remoteChecks reports the sync state with a git remote and the conflict
// copies merges kept (a conflict copy is not a problem: both versions are
// kept and indexed, waiting for a person).
func remoteChecks(ctx context.Context, root string) []check {
	var cs []check
	if rs, err := remote.ReadStatus(ctx, root); err == nil && rs != nil {
		info := fmt.Sprintf("%s (%s, branch %s): %d ahead, %d behind", rs.Name, rs.URL, rs.Branch, rs.Ahead, rs.Behind)
		if rs.LastError != "" {
			cs = append(cs, check{name: "remote", info: info + "; last error: " + rs.LastError,
				fix: "check the network and your credentials (`git -C " + filepath.Join(root, "memory") + " fetch " + rs.Name + "`); elfsync keeps committing locally and retries"})
		} else {
			cs = append(cs, check{name: "remote", ok: true, info: info})
		}
	}
	for _, c := range conflictCopies(root) {
		cs = append(cs, check{name: "conflict copy", ok: true,
			info: c.Path + ": keep what you want of it in the file it names (conflict_of), then: " + c.Resolve})
	}
	return cs
}
