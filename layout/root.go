package layout

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNoRoot is a root that does not exist, is not a folder, or has no
// memory folder yet. The errors that wrap it say so and name the command
// that creates one (elfsync init).
var ErrNoRoot = errors.New("no such root")

// rootError is an ErrNoRoot with its own message (and the cause, if any).
type rootError struct {
	msg string
	err error
}

func (e *rootError) Error() string   { return e.msg }
func (e *rootError) Unwrap() []error { return []error{ErrNoRoot, e.err} }

// ResolveRoot returns the absolute ROOT: flag (the --root value), else
// $ELF_HOME, else the framework's own $ELF_BASE_PATH, else
// ~/.claude/emergent-learning. getenv is os.Getenv outside tests.
func ResolveRoot(flag string, getenv func(string) string) (string, error) {
	root := flag
	if root == "" {
		root = getenv("ELF_HOME")
	}
	if root == "" {
		root = getenv("ELF_BASE_PATH")
	}
	if root == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no --root, no $ELF_HOME and no home directory: %w", err)
		}
		root = filepath.Join(home, ".claude", "emergent-learning")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("root %s: %w", root, err)
	}
	return abs, nil
}

// CheckRoot refuses a root that does not exist (ErrNoRoot), naming the
// command that creates it: a mistyped --root or $ELF_HOME must not become
// a new, empty memory that a service then watches forever.
func CheckRoot(root string) error {
	info, err := os.Stat(root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &rootError{msg: fmt.Sprintf("root %s does not exist; to create it, run: elfsync init --root %s", root, ShellQuote(root))}
	case err != nil:
		return &rootError{msg: fmt.Sprintf("root %s: %v", root, err), err: err}
	case !info.IsDir():
		return &rootError{msg: fmt.Sprintf("root %s is a file, not a folder", root)}
	}
	return nil
}

// NoMemoryError is the ErrNoRoot for a root that exists without a memory
// folder, for the commands that only read one.
func NoMemoryError(root string) error {
	return &rootError{msg: fmt.Sprintf("root %s has no memory folder yet; to create it, run: elfsync init --root %s", root, ShellQuote(root))}
}

// ShellQuote returns s (a path) as one sh word, quoted only when it needs
// to be, for the commands elfsync prints for a person to run.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+,:@%=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
