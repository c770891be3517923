package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/emergent-learning/elfsync/committer"
	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/indexer"
	"github.com/emergent-learning/elfsync/instance"
	"github.com/emergent-learning/elfsync/layout"
)

// Check is one finding.
type Check struct {
	Name string
	OK   bool   // nothing to do
	Warn bool   // worth a look, but not a problem (an invalid file)
	Info string // what was found
	Fix  string // what to do, when not OK
}

// Problem reports whether c needs fixing.
func (c Check) Problem() bool { return !c.OK && !c.Warn }

// Write prints the checks for people, one line each with the fix under a
// problem, then a summary line, and returns the number of problems.
func Write(w io.Writer, checks []Check) (problems int) {
	for _, c := range checks {
		mark := "ok  "
		switch {
		case c.Warn:
			mark = "warn"
		case !c.OK:
			mark = "FAIL"
			problems++
		}
		fmt.Fprintf(w, "%s %-16s %s\n", mark, c.Name, c.Info)
		if !c.OK && c.Fix != "" {
			fmt.Fprintf(w, "     %-16s → %s\n", "", c.Fix)
		}
	}
	if problems > 0 {
		fmt.Fprintf(w, "%d problem(s) found\n", problems)
	} else {
		fmt.Fprintln(w, "no problems found")
	}
	return problems
}

// Options tune Run.
type Options struct {
	NoGit bool // skip the git checks
}

// Run checks root and returns the findings in the order to print them. It
// stops early when there is no memory folder to check.
func Run(ctx context.Context, root string, opts Options) []Check {
	memDir := filepath.Join(root, layout.MemoryDir)
	if c, ok := checkFolders(root, memDir); !ok {
		return []Check{c}
	}
	cs := []Check{writable(memDir)}
	inst := instance.Read(root)
	cs = append(cs, indexChecks(ctx, root)...)
	cs = append(cs, driftChecks(ctx, root, inst)...)
	if !opts.NoGit {
		cs = append(cs, gitChecks(ctx, root)...)
	}
	cs = append(cs, watchLimitChecks(memDir)...)
	if inst.Running {
		cs = append(cs, Check{Name: "watcher", OK: true, Info: fmt.Sprintf("running (pid %d)", inst.PID)})
	} else {
		cs = append(cs, Check{Name: "watcher", OK: true, Info: "not running (start `elfsync watch`, or install the service: see README)"})
	}
	if !opts.NoGit {
		cs = append(cs, remoteChecks(ctx, root)...)
	}
	return cs
}

// checkFolders tells a missing root, a root that is a file and a missing
// memory folder apart.
func checkFolders(root, memDir string) (Check, bool) {
	init := "run `elfsync init --root " + root + "` to create it, or point --root / $ELF_HOME at the framework's home"
	info, err := os.Stat(root)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return Check{Name: "root", Info: root + " does not exist", Fix: init}, false
	case err != nil:
		return Check{Name: "root", Info: err.Error(), Fix: "fix the permissions of " + root}, false
	case !info.IsDir():
		return Check{Name: "root", Info: root + " is a file, not a folder", Fix: "point --root / $ELF_HOME at the framework's home folder"}, false
	}
	info, err = os.Stat(memDir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return Check{Name: "memory folder", Info: memDir + " does not exist", Fix: init}, false
	case err != nil:
		return Check{Name: "memory folder", Info: err.Error(), Fix: "fix the permissions of " + memDir}, false
	case !info.IsDir():
		return Check{Name: "memory folder", Info: memDir + " is a file, not a folder", Fix: "move it away, then run `elfsync init --root " + root + "`"}, false
	}
	return Check{}, true
}

// Writable probes whether elfsync can create files in dir (a dot-file it
// ignores, created and removed): the index, its journal and the instance
// lock all live in the memory folder, and permission bits alone cannot
// tell (ACLs, read-only mounts, another owner).
func Writable(dir string) error {
	f, err := os.CreateTemp(dir, ".elfsync-doctor-*.tmp")
	if err != nil {
		return fmt.Errorf("%s is not writable: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

func writable(memDir string) Check {
	if err := Writable(memDir); err != nil {
		return Check{Name: "memory folder", Info: err.Error(),
			Fix: "give the user that runs elfsync write permission on it (the index and its journal live there), e.g. chmod u+w " + memDir}
	}
	return Check{Name: "memory folder", OK: true, Info: memDir}
}

func indexChecks(ctx context.Context, root string) []Check {
	h, err := indexer.CheckHealth(ctx, root)
	switch {
	case err != nil:
		return []Check{{Name: "index", Info: err.Error(),
			Fix: "run `elfsync scan`: an unreadable index is set aside and rebuilt from the files"}}
	case !h.Exists:
		return []Check{{Name: "index", Info: "no index yet", Fix: "run `elfsync scan` or start `elfsync watch`"}}
	}
	return []Check{
		{Name: "index integrity", OK: h.Integrity == "ok", Info: "integrity_check: " + h.Integrity,
			Fix: "stop the watcher, move " + h.Path + " away and run `elfsync scan` to rebuild it from the files"},
		{Name: "index journal", OK: h.JournalMode == "wal", Info: "journal_mode=" + h.JournalMode,
			Fix: "run `elfsync scan`; it opens the index in WAL mode"},
		{Name: "index schema", OK: h.SchemaVersion == indexer.SchemaVersion,
			Info: fmt.Sprintf("schema version %d (this elfsync: %d)", h.SchemaVersion, indexer.SchemaVersion),
			Fix:  "run `elfsync scan`: it migrates an older index and sets a newer one aside"},
		{Name: "busy timeout", OK: indexer.BusyTimeout >= 5*time.Second,
			Info: fmt.Sprintf("elfsync waits %v for another process's lock", indexer.BusyTimeout)},
	}
}

func driftChecks(ctx context.Context, root string, inst instance.Info) []Check {
	d, err := indexer.Check(ctx, root, frontmatter.DefaultMaxSize)
	if err != nil {
		return []Check{{Name: "drift", Info: err.Error(), Fix: "run `elfsync scan`"}}
	}
	fix := "start `elfsync watch` or run `elfsync scan`"
	if inst.Running {
		fix = fmt.Sprintf("the running watcher (pid %d) catches up within seconds: run doctor again; if it stays, read the watcher's log", inst.PID)
	}
	cs := []Check{{Name: "drift", OK: d.InSync(),
		Info: fmt.Sprintf("%d files, %d rows; %d without a row, %d rows without a file, %d rows behind their file",
			d.Files, d.Rows, len(d.MissingRows), len(d.OrphanRows), len(d.StaleRows)),
		Fix: fix}}
	for _, fe := range d.Invalid {
		cs = append(cs, Check{Name: "invalid file", Warn: true, Info: fe.Path + ": " + fe.Error,
			Fix: "fix the file; it is committed but not indexed until it parses (`elfsync check " + fe.Path + "` shows why)"})
	}
	return cs
}

func gitChecks(ctx context.Context, root string) []Check {
	gs, err := committer.ReadStatus(ctx, root)
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return []Check{{Name: "git", Info: "git is not installed", Fix: "install git, or run with --no-git"}}
	case errors.Is(err, committer.ErrNoRepository):
		return []Check{{Name: "git", Info: "no git repository yet", Fix: "run `elfsync scan` or start `elfsync watch`: either creates one"}}
	case err != nil:
		return []Check{{Name: "git", Info: err.Error(), Fix: "fix the repository (see the error), then run `elfsync scan`"}}
	}
	fix := "start `elfsync watch` or run `elfsync scan`"
	if gs.LockHeld {
		fix = "git's index.lock is held (see git lock): elfsync commits once it is released"
	}
	cs := []Check{
		{Name: "git repository", OK: true, Info: gs.Repo},
		{Name: "git uncommitted", OK: len(gs.Uncommitted) == 0,
			Info: uncommittedInfo(len(gs.Uncommitted)), Fix: fix},
	}
	if gs.LockHeld {
		lock := filepath.Join(gs.GitDir, "index.lock")
		age := ""
		if !gs.LockSince.IsZero() {
			age = fmt.Sprintf(", %s old", time.Since(gs.LockSince).Round(time.Second))
		}
		cs = append(cs, Check{Name: "git lock", Info: lock + " exists" + age,
			Fix: "if no git command is running (check `ps aux | grep git`), the lock is stale: remove it with `rm " + lock + "`; elfsync never removes a lock it did not create"})
	} else {
		cs = append(cs, Check{Name: "git lock", OK: true, Info: "no index.lock"})
	}
	if gs.Operation != "" {
		cs = append(cs, Check{Name: "git operation", Info: gs.Operation + " in progress; elfsync waits",
			Fix: "finish or abort it (`git " + gs.Operation + " --continue` or `--abort`)"})
	}
	if gs.LastError != "" {
		cs = append(cs, Check{Name: "git last error", Info: gs.LastError + " at " + gs.LastErrorTime.Local().Format(time.DateTime),
			Fix: "see the error; elfsync retries on its own"})
	}
	identity := "commits as " + gs.Email
	if gs.Email == "" {
		identity = "no user.email: elfsync commits as 'elfsync <elfsync@localhost>' (set `git config --global user.email` to use yours)"
	}
	return append(cs, Check{Name: "git identity", OK: true, Info: identity})
}

// uncommittedInfo says how many paths differ from HEAD, in good English.
func uncommittedInfo(n int) string {
	if n == 1 {
		return "1 path under memory/ differs from HEAD"
	}
	return fmt.Sprintf("%d paths under memory/ differ from HEAD", n)
}

// Explain adds to err, an error of opening root's index, the cause when
// the memory folder cannot be written (SQLite needs to write beside the
// index even to read it, and says only "attempt to write a readonly
// database" or "unable to open database file").
func Explain(root string, err error) error {
	if werr := Writable(filepath.Join(root, layout.MemoryDir)); werr != nil && !errors.Is(werr, fs.ErrNotExist) {
		return fmt.Errorf("%w (%v: give the user that runs elfsync write permission on it)", err, werr)
	}
	return err
}
