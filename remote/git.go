package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"

	"github.com/emergent-learning/elfsync/committer"
)

// git runs the git command in one directory with the committer's
// environment and rules (no hooks, no signing, no automatic gc, C locale,
// no prompts, literal pathspecs), plus fsck of fetched objects.
type git struct {
	dir string
	env []string
}

func newGit(dir string) *git { return &git{dir: dir, env: committer.Env()} }

// globalArgs precede every subcommand: the committer's, plus
// transfer.fsckObjects, which makes fetch refuse trees with ".git" or ".."
// entries and other malformed objects a hostile remote could send, and no
// interactive credential prompts.
var globalArgs = append(committer.GlobalArgs(false),
	"-c", "transfer.fsckObjects=true",
	"-c", "credential.interactive=false",
)

// gitError is a failed git command with what it printed, credentials
// redacted.
type gitError struct {
	Sub    string
	Code   int
	Stderr string
	Err    error
}

func (e *gitError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if lines := strings.Split(msg, "\n"); len(lines) > 2 {
		msg = strings.Join(lines[:2], "; ")
	} else {
		msg = strings.Join(lines, "; ")
	}
	if msg == "" {
		return fmt.Sprintf("git %s: %v", e.Sub, e.Err)
	}
	return fmt.Sprintf("git %s: exit %d: %s", e.Sub, e.Code, msg)
}

func (e *gitError) Unwrap() error { return e.Err }

type runOpts struct {
	env   []string
	stdin []byte
	// noCancel lets a command that takes a lock run to its end.
	noCancel bool
}

func (g *git) run(ctx context.Context, o runOpts, args ...string) ([]byte, error) {
	if o.noCancel {
		ctx = context.WithoutCancel(ctx)
	}
	cmd := exec.CommandContext(ctx, "git", append(append([]string(nil), globalArgs...), args...)...)
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
		sub := ""
		if len(args) > 0 {
			sub = args[0]
		}
		return stdout.Bytes(), &gitError{Sub: sub, Code: code, Stderr: Redact(stderr.String()), Err: err}
	}
	return stdout.Bytes(), nil
}

func (g *git) out(ctx context.Context, args ...string) (string, error) {
	b, err := g.run(ctx, runOpts{}, args...)
	return strings.TrimSpace(string(b)), err
}

func exitCode(err error) int {
	var ge *gitError
	if errors.As(err, &ge) {
		return ge.Code
	}
	return -1
}

func stderrOf(err error) string {
	var ge *gitError
	if errors.As(err, &ge) {
		return ge.Stderr
	}
	return ""
}

// userinfo matches the user:password@ part of a URL.
var userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s'"]+@`)

// Redact hides credentials in URLs inside s ("https://user:token@host/x" →
// "https://***@host/x"). Every message elfsync prints about a remote goes
// through it.
func Redact(s string) string {
	return userinfo.ReplaceAllString(s, "${1}***@")
}
