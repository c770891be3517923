package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// cmdEnv is what a command may use of the outside world. Tests build one
// with buffers and a fake environment.
type cmdEnv struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	now    func() time.Time
}

// command is one elfsync subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *cmdEnv, args []string) error
}

// commands lists every subcommand in the order --help shows them.
func commands() []command {
	return []command{
		{"watch", "run the background service: scan, then watch, index and commit until stopped", cmdWatch},
		{"scan", "reconcile once: index every change, drop rows of vanished files, commit", cmdScan},
		{"status", "show drift between files, index and git (exit 0 in sync, 1 drift, 2 error)", cmdStatus},
		{"record", "write a new memory file atomically (failure|success|heuristic|observation|decision)", cmdRecord},
		{"import", "bring an old framework memory folder into the new format", cmdImport},
		{"doctor", "check index, git, drift and inotify limits; print what to do", cmdDoctor},
		{"sync", "fetch, merge and push memory/ through a git remote once (exit 0 in step, 1 not)", cmdSync},
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &cmdEnv{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv, now: time.Now}
	return e.dispatch(ctx, args)
}

func (e *cmdEnv) dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 {
		e.usage(e.stderr)
		return &exitError{Code: 2}
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		e.usage(e.stdout)
		return nil
	case "-version", "--version", "version":
		fmt.Fprintln(e.stdout, "elfsync", version)
		return nil
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, e, args[1:])
		}
	}
	if name == "merge-driver" { // hidden: git runs it
		return cmdMergeDriver(ctx, e, args[1:])
	}
	e.usage(e.stderr)
	return &exitError{Code: 2, Err: fmt.Errorf("unknown command %q", name)}
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func (e *cmdEnv) usage(w io.Writer) {
	fmt.Fprintln(w, "elfsync keeps a folder of markdown memories in sync with a SQLite index and git.")
	fmt.Fprintln(w, "\nUsage: elfsync <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery command takes --root (default $ELF_HOME, else ~/.claude/emergent-learning).")
	fmt.Fprintln(w, "Run 'elfsync <command> --help' for its flags.")
}

// newFlagSet returns a flag set whose --help prints the command's synopsis,
// description and flags to stdout. It registers --root and returns a
// pointer to its value.
func (e *cmdEnv) newFlagSet(name, synopsis, description string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("elfsync "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	root := fs.String("root", "", "the framework's home; memory/ lives under it (default $ELF_HOME, else ~/.claude/emergent-learning)")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: elfsync %s %s\n\n%s\n\nFlags:\n", name, synopsis, strings.TrimSpace(description))
		fs.PrintDefaults()
	}
	return fs, root
}

// parseFlags parses args and turns --help into a clean exit 0 with the usage
// on stdout, and a flag error into exit 2.
func (e *cmdEnv) parseFlags(fs *flag.FlagSet, args []string) error {
	// The flag package prints the usage itself on every error; print it
	// once, here: to stdout for --help, to stderr after a flag error.
	usage := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = usage
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(e.stdout)
			fs.Usage()
			return errHelpShown
		}
		fs.Usage()
		return &exitError{Code: 2}
	}
	return nil
}

// errHelpShown ends a command successfully after --help.
var errHelpShown = &exitError{Code: 0}

// parseRoot parses the flags of a command that takes no arguments and
// returns its ROOT.
func (e *cmdEnv) parseRoot(fs *flag.FlagSet, args []string, rootFlag *string) (string, error) {
	if err := e.parseFlags(fs, args); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		return "", &exitError{Code: 2, Err: fmt.Errorf("%s takes no arguments, got %q", fs.Name(), fs.Args())}
	}
	root, err := e.resolveRoot(*rootFlag)
	if err != nil {
		return "", &exitError{Code: 2, Err: err}
	}
	return root, nil
}

// resolveRoot returns the absolute ROOT: the flag, else $ELF_HOME, else
// ~/.claude/emergent-learning.
func (e *cmdEnv) resolveRoot(flagValue string) (string, error) {
	root := flagValue
	if root == "" {
		root = e.getenv("ELF_HOME")
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

// sortedKeys returns m's keys in order, for stable output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
