package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/emergent-learning/elfsync/completion"
	"github.com/emergent-learning/elfsync/layout"
)

// The completion scripts are written by package completion from a model
// built here, not by hand: the commands come from the command table
// (commands) and each command's flags from the flag set it builds, which
// flagsOf captures by running the command with --help against a discarded
// output (newFlagSet reports every flag set it makes through
// cmdEnv.onFlagSet). A new command or flag is completed
// without touching this file; only the few tables below say what no flag
// set knows: which values a flag takes and which commands take files.

// compSubcommands are the words a command's first argument takes; each
// word has flags of its own (record's types, heuristic's verbs).
var compSubcommands = map[string][]string{
	"record":    strings.Split(layout.Types(" "), " "),
	"heuristic": {"validate", "violate"},
}

// compFileArgs are the commands whose arguments are files.
var compFileArgs = map[string]bool{"check": true, "heuristic": true}

// compValues says what a flag's value completes to: completion.Dirs,
// completion.Files or a list of words. A value flag not listed completes
// to nothing.
var compValues = map[string][]string{
	"root":       {completion.Dirs},
	"from":       {completion.Dirs},
	"log-file":   {completion.Files},
	"type":       strings.Split(layout.Types(" "), " "),
	"log-level":  {"debug", "info", "warn", "error"},
	"log-format": {"auto", "console", "json"},
	"depth":      {"minimal", "standard", "deep"},
	"format":     {"markdown", "json"},
	"source":     {"failure", "success", "observation"},
}

func cmdCompletion(_ context.Context, e *cmdEnv, args []string) error {
	fs := flag.NewFlagSet("elfsync completion", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: elfsync completion bash|zsh|fish\n\n%s\n", helpText("completion"))
	}
	if err := e.parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || !slices.Contains(completion.Shells, fs.Arg(0)) {
		return usagef("completion: name a shell: elfsync completion bash|zsh|fish")
	}
	p := completion.Program{Commands: completionModel()}
	for _, name := range slices.Sorted(maps.Keys(globalValueFlags)) {
		p.GlobalFlags = append(p.GlobalFlags, completion.Flag{Name: name, TakesValue: true, Values: compValues[name]})
	}
	return completion.Write(e.stdout, fs.Arg(0), p)
}

// completionModel returns every command with its flags, then help.
func completionModel() []completion.Command {
	var cmds, names []completion.Command
	for _, c := range commands() {
		cc := completion.Command{Name: c.name, Summary: c.summary, FileArgs: compFileArgs[c.name]}
		switch {
		case c.name == "completion":
			for _, sh := range completion.Shells {
				cc.Subcommands = append(cc.Subcommands, completion.Command{Name: sh})
			}
		case compSubcommands[c.name] != nil:
			for _, sub := range compSubcommands[c.name] {
				cc.Subcommands = append(cc.Subcommands, completion.Command{Name: sub, Flags: flagsOf(c, sub, "--help"), FileArgs: cc.FileArgs})
			}
		default:
			cc.Flags = flagsOf(c, "--help")
		}
		cmds = append(cmds, cc)
		names = append(names, completion.Command{Name: c.name, Summary: c.summary})
	}
	return append(cmds, completion.Command{Name: "help", Summary: "show a command's usage and flags", Subcommands: names})
}

// flagsOf runs c with args (ending in --help) with its output discarded
// and returns the flags of the flag set it built.
func flagsOf(c command, args ...string) []completion.Flag {
	var set *flag.FlagSet
	probe := &cmdEnv{
		stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard,
		getenv: func(string) string { return "" }, now: time.Now,
		onFlagSet: func(fs *flag.FlagSet) { set = fs },
	}
	_ = c.run(context.Background(), probe, args)
	if set == nil {
		return nil
	}
	return completion.FlagsOf(set, compValues)
}
