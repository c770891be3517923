package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/emergent-learning/elfsync/layout"
	"github.com/emergent-learning/elfsync/version"
)

// cmdEnv is what a command may use of the outside world. Tests build one
// with buffers and a fake environment.
type cmdEnv struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	now    func() time.Time
	// onFlagSet, if set, is told of every flag set newFlagSet makes (the
	// completion generator reads the flags from it).
	onFlagSet func(*flag.FlagSet)
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
		{"init", "create a root (memory/, the index, a git repository); other commands refuse a missing root", cmdInit},
		{"watch", "run the background service: scan, then watch, index and commit until stopped", cmdWatch},
		{"scan", "reconcile once: index every change, drop rows of vanished files, commit", cmdScan},
		{"status", "show drift between files, index and git (exit 0 in sync or only pending, 1 drift, 2 error)", cmdStatus},
		{"record", "write a new memory file atomically (" + layout.Types("|") + ")", cmdRecord},
		{"import", "bring an old framework memory folder into the new format", cmdImport},
		{"list", "list records (path, type, domain, title) by --type and --domain", cmdList},
		{"check", "parse files as elfsync would: what each one says, or why it is invalid", cmdCheck},
		{"doctor", "check index, git, drift and inotify limits; print what to do", cmdDoctor},
		{"reload", "ask the root's running watcher for a full rescan (SIGHUP to its pid)", cmdReload},
		{"stop", "stop the root's running watcher, waiting for its final flush", cmdStop},
		{"sync", "fetch, merge and push memory/ through a git remote once (exit 0 in step, 1 not)", cmdSync},
		{"search", "full-text search of the memory, ranked (BM25), with snippets", cmdSearch},
		{"context", "the session briefing: golden rules, best heuristics, relevant failures", cmdContext},
		{"heuristic", "validate|violate ID|PATH: add one to a heuristic's counter, in its file", cmdHeuristic},
		{"mcp", "serve the memory to agents over the Model Context Protocol (stdio)", cmdMCP},
		{"completion", "print a shell completion script: bash, zsh or fish", cmdCompletion},
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &cmdEnv{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv, now: time.Now}
	return e.dispatch(ctx, args)
}

func (e *cmdEnv) dispatch(ctx context.Context, args []string) error {
	args = globalFlagsLast(args)
	if len(args) == 0 {
		e.usage(e.stderr)
		return errFlags
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		e.usage(e.stdout)
		return nil
	case "help":
		if len(args) > 1 && args[1] != "help" {
			return e.dispatch(ctx, []string{args[1], "--help"})
		}
		e.usage(e.stdout)
		return nil
	case "-version", "--version", "version":
		fmt.Fprintln(e.stdout, version.String())
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
	return usagef("unknown command %q", name)
}

// globalValueFlags are the flags every command (or every long-running one)
// takes that have a value; they may come before the command name.
var globalValueFlags = map[string]bool{"root": true, "log-level": true, "log-format": true, "log-file": true}

// globalFlagsLast moves flags given before the command name to the end,
// where the command's own flag set parses them: `elfsync --root X status`
// is `elfsync status --root X`.
func globalFlagsLast(args []string) []string {
	i := 0
	for i < len(args) && len(args[i]) > 1 && args[i][0] == '-' && args[i] != "--" {
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if name == "h" || name == "help" || name == "version" {
			break
		}
		i++
		if globalValueFlags[name] && !hasValue && i < len(args) {
			i++
		}
	}
	if i == 0 || i == len(args) {
		return args
	}
	return slices.Concat(args[i:], args[:i])
}

func (e *cmdEnv) usage(w io.Writer) {
	fmt.Fprintln(w, "elfsync keeps a folder of markdown memories in sync with a SQLite index and git.")
	fmt.Fprintln(w, "\nUsage: elfsync <command> [flags]\n\nCommands:")
	width := 0
	for _, c := range commands() {
		width = max(width, len(c.name))
	}
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-*s %s\n", width, c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery command takes --root (default $ELF_HOME, else $ELF_BASE_PATH, else")
	fmt.Fprintln(w, "~/.claude/emergent-learning), before or after the command name.")
	fmt.Fprintln(w, "Run 'elfsync help <command>' or 'elfsync <command> --help' for its flags;")
	fmt.Fprintln(w, "'elfsync --version' for the version and the commit it was built from.")
}

// The description of each command, printed by --help between the synopsis
// and the flags, is help/<command>.txt (help_test.go checks that every
// command has one).
//
//go:embed help/*.txt
var helpTexts embed.FS

// helpText returns help/<command>.txt with each {key} in fill (key, value,
// ...) replaced.
func helpText(command string, fill ...string) string {
	b, _ := helpTexts.ReadFile("help/" + command + ".txt")
	return strings.TrimSpace(strings.NewReplacer(fill...).Replace(string(b)))
}

// newFlagSet returns a flag set whose --help prints the command's synopsis,
// description (helpText of its first word, filled with fill) and flags to
// stdout. It registers --root and returns a pointer to its value.
func (e *cmdEnv) newFlagSet(name, synopsis string, fill ...string) (*flag.FlagSet, *string) {
	command, _, _ := strings.Cut(name, " ")
	description := helpText(command, fill...)
	fs := flag.NewFlagSet("elfsync "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	root := fs.String("root", "", "the framework's home; memory/ lives under it (default $ELF_HOME, else ~/.claude/emergent-learning)")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: elfsync %s %s\n\n%s\n\nFlags:\n", name, synopsis, description)
		printFlags(w, fs)
	}
	if e.onFlagSet != nil {
		e.onFlagSet(fs)
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
			return errHelp
		}
		fs.Usage()
		return errFlags
	}
	return nil
}

// parseRoot parses the flags of a command that takes no arguments and
// returns its ROOT, which must exist (layout.CheckRoot).
func (e *cmdEnv) parseRoot(fs *flag.FlagSet, args []string, rootFlag *string) (string, error) {
	root, err := e.parseAnyRoot(fs, args, rootFlag)
	if err != nil {
		return "", err
	}
	return root, layout.CheckRoot(root)
}

// parseAnyRoot is parseRoot for the commands that accept a root that does
// not exist yet (init creates it, doctor reports it).
func (e *cmdEnv) parseAnyRoot(fs *flag.FlagSet, args []string, rootFlag *string) (string, error) {
	if err := e.parseFlags(fs, args); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		return "", usagef("%s takes no arguments, got %q", strings.TrimPrefix(fs.Name(), "elfsync "), fs.Args())
	}
	root, err := e.resolveRoot(*rootFlag)
	if err != nil {
		return "", mark(errUsage, err)
	}
	return root, nil
}

// resolveRoot is layout.ResolveRoot with this command's environment.
func (e *cmdEnv) resolveRoot(flagValue string) (string, error) {
	return layout.ResolveRoot(flagValue, e.getenv)
}

// report is an outcome a command prints for people or, with --json, as
// JSON.
type report interface {
	WriteText(io.Writer)
	WriteJSON(io.Writer) error
}

// print writes r to stdout, as JSON if asJSON.
func (e *cmdEnv) print(asJSON bool, r report) error {
	if asJSON {
		return r.WriteJSON(e.stdout)
	}
	r.WriteText(e.stdout)
	return nil
}

// count returns "1 file" or "n files".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// printFlags lists fs's flags the way the help texts write them: --name.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		typ, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if typ != "" {
			line += " " + typ
		}
		if def := f.DefValue; def != "" && def != "false" && def != "0" && def != "0s" {
			usage += fmt.Sprintf(" (default %s)", def)
		}
		fmt.Fprintf(w, "%s\n    \t%s\n", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
	})
}
