package committer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// gitRunner runs the git command in one directory with a fixed environment.
type gitRunner struct {
	dir string   // working directory: the work tree's top level (or memory/ before discovery)
	env []string // full environment for every command
}

// GlobalArgs precede every git subcommand elfsync runs (package remote
// uses them too). Hooks would run a person's
// pre-commit checks (or the reference-transaction hook) on elfsync's
// commits, signing would prompt for a passphrase, and an automatic gc started
// after a few hundred commits stalls a commit for seconds: all three are off,
// and maintenance runs on elfsync's own schedule (see maintain). A failed
// safecrlf check would stop every commit for good, so it is off too.
func GlobalArgs(keepGC bool) []string {
	var args []string
	if !keepGC {
		args = append(args, "-c", "gc.auto=0", "-c", "maintenance.auto=false")
	}
	return append(args,
		"-c", "core.hooksPath="+os.DevNull,
		"-c", "commit.gpgsign=false",
		"-c", "core.safecrlf=false",
	)
}

// Env returns the environment for every git command elfsync runs: the process's own, less the
// variables that would point git at another repository or index (elfsync may
// be started from a hook), plus a fixed locale (so error messages can be
// matched), no terminal prompts, and literal pathspecs (a note named
// "*.md" or ":x" must mean itself).
func Env() []string {
	drop := map[string]bool{
		"GIT_DIR": true, "GIT_WORK_TREE": true, "GIT_INDEX_FILE": true,
		"GIT_PREFIX": true, "GIT_COMMON_DIR": true, "GIT_NAMESPACE": true,
		"GIT_OBJECT_DIRECTORY": true, "GIT_LITERAL_PATHSPECS": true,
		"GIT_GLOB_PATHSPECS": true, "GIT_NOGLOB_PATHSPECS": true,
		"GIT_ICASE_PATHSPECS": true, "GIT_TERMINAL_PROMPT": true,
		"GIT_OPTIONAL_LOCKS": true, "LC_ALL": true, "LANG": true,
		"LANGUAGE": true, "GIT_EDITOR": true,
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if drop[strings.ToUpper(k)] {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"LC_ALL=C",
		"LANGUAGE=C",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_LITERAL_PATHSPECS=1",
		"GIT_EDITOR=:",
	)
}

// gitError is a git command that failed, with what it printed.
type gitError struct {
	Args   []string // subcommand and arguments, without the global -c flags
	Code   int      // exit code, -1 if git did not run or was killed
	Stderr string
	Err    error
}

func (e *gitError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	name := "git"
	if len(e.Args) > 0 {
		name += " " + e.Args[0]
	}
	if msg == "" {
		return fmt.Sprintf("%s: %v", name, e.Err)
	}
	return fmt.Sprintf("%s: exit %d: %s", name, e.Code, msg)
}

func (e *gitError) Unwrap() error { return e.Err }

// isLockError reports whether a git failure came from a lock file that
// another process holds ("Unable to create '.../index.lock': File exists").
func isLockError(err error) bool {
	var ge *gitError
	if !errors.As(err, &ge) {
		return false
	}
	s := ge.Stderr
	return strings.Contains(s, ".lock': File exists") ||
		(strings.Contains(s, "Unable to create") && strings.Contains(s, ".lock"))
}

// isHeadMoved reports whether update-ref refused because HEAD no longer
// holds the value the commit was built on.
func isHeadMoved(err error) bool {
	var ge *gitError
	if !errors.As(err, &ge) {
		return false
	}
	return strings.Contains(ge.Stderr, "but expected") ||
		strings.Contains(ge.Stderr, "reference already exists")
}

// runOpts are per-call additions to a git command.
type runOpts struct {
	env   []string // extra variables, e.g. GIT_INDEX_FILE
	stdin []byte
	// noCancel runs the command to completion even when ctx is cancelled.
	// Commands that take a shared lock (the real index, a ref) must not be
	// killed half-way: git would leave the lock behind.
	noCancel bool
	// keepGC leaves the user's gc settings in force (for maintenance).
	keepGC bool
}

// run runs git with args and returns its standard output.
func (g *gitRunner) run(ctx context.Context, o runOpts, args ...string) ([]byte, error) {
	if o.noCancel {
		ctx = context.WithoutCancel(ctx)
	}
	full := append(GlobalArgs(o.keepGC), args...)
	cmd := exec.CommandContext(ctx, "git", full...)
	cmd.Dir = g.dir
	cmd.Env = g.env
	if len(o.env) > 0 {
		cmd.Env = append(append([]string(nil), g.env...), o.env...)
	}
	if o.stdin != nil {
		cmd.Stdin = bytes.NewReader(o.stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		code := -1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return stdout.Bytes(), &gitError{Args: args, Code: code, Stderr: stderr.String(), Err: err}
	}
	return stdout.Bytes(), nil
}

// out runs git and returns its output with surrounding space trimmed.
func (g *gitRunner) out(ctx context.Context, args ...string) (string, error) {
	b, err := g.run(ctx, runOpts{}, args...)
	return strings.TrimSpace(string(b)), err
}

// exitCode returns the exit code of a failed git command, or -1.
func exitCode(err error) int {
	var ge *gitError
	if errors.As(err, &ge) {
		return ge.Code
	}
	return -1
}
