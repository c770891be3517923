package remote

import (
	"regexp"

	"github.com/emergent-learning/elfsync/committer"
)

// newGit returns the runner for git commands in dir: package committer's
// (its environment and global flags) plus transfer.fsckObjects, which makes
// fetch refuse trees with ".git" or ".." entries and other malformed
// objects a hostile remote could send, and no interactive credential
// prompts. What git prints has credentials redacted. env adds variables.
func newGit(dir string, env ...string) *committer.Git {
	return committer.NewGit(dir, committer.GitOptions{
		Env: env,
		Flags: []string{
			"-c", "transfer.fsckObjects=true",
			"-c", "credential.interactive=false",
		},
		Redact:     Redact,
		ErrorLines: 2,
	})
}

// userinfo matches the user:password@ part of a URL.
var userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s'"]+@`)

// Redact hides credentials in URLs inside s ("https://user:token@host/x" →
// "https://***@host/x"). Every message elfsync prints about a remote goes
// through it.
func Redact(s string) string {
	return userinfo.ReplaceAllString(s, "${1}***@")
}
