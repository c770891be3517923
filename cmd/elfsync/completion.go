package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/emergent-learning/elfsync/layout"
)

// The completion scripts are generated, not written by hand: the commands
// come from the command table (commands) and each command's flags from the
// flag set it builds, which the generator captures by running the command
// with --help against a discarded output (newFlagSet reports every flag set
// it makes through cmdEnv.onFlagSet). A new command or flag is completed
// without touching this file; only the few tables below say what no flag
// set knows: which values a flag takes and which commands take files.

var completionShells = []string{"bash", "zsh", "fish"}

// compSubcommands are the words a command's first argument takes; each
// word has flags of its own (record's types, heuristic's verbs).
var compSubcommands = map[string][]string{
	"record":    strings.Split(layout.Types(" "), " "),
	"heuristic": {"validate", "violate"},
}

// compFileArgs are the commands whose arguments are files.
var compFileArgs = map[string]bool{"check": true, "heuristic": true}

// compValues says what a flag's value completes to: compDirs, compFiles or
// a list of words. A value flag not listed completes to nothing.
var compValues = map[string][]string{
	"root":       {compDirs},
	"from":       {compDirs},
	"log-file":   {compFiles},
	"type":       strings.Split(layout.Types(" "), " "),
	"log-level":  {"debug", "info", "warn", "error"},
	"log-format": {"auto", "console", "json"},
	"depth":      {"minimal", "standard", "deep"},
	"format":     {"markdown", "json"},
	"source":     {"failure", "success", "observation"},
}

const (
	compDirs  = "<dirs>"
	compFiles = "<files>"
)

// compCmd is one command (or one subcommand word) as the scripts see it.
type compCmd struct {
	name, summary string
	flags         []compFlag
	files         bool      // takes file arguments
	subs          []compCmd // words for its first argument, each with its flags
}

// compFlag is one flag of a command.
type compFlag struct {
	name, usage string
	value       bool // takes a value (not a boolean flag)
}

func cmdCompletion(_ context.Context, e *cmdEnv, args []string) error {
	fs := flag.NewFlagSet("elfsync completion", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: elfsync completion bash|zsh|fish

Print a completion script for the shell: commands, subcommands, every
command's flags, and values where they are known (directories for --root,
record types for --type, ...). Enable it with one line:

  bash: echo 'source <(elfsync completion bash)' >> ~/.bashrc
  zsh:  echo 'source <(elfsync completion zsh)' >> ~/.zshrc   (after compinit)
  fish: elfsync completion fish > ~/.config/fish/completions/elfsync.fish
`)
	}
	if err := e.parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || !slices.Contains(completionShells, fs.Arg(0)) {
		return usagef("completion: name a shell: elfsync completion bash|zsh|fish")
	}
	cmds := completionModel()
	switch fs.Arg(0) {
	case "bash":
		writeBashCompletion(e.stdout, cmds)
	case "zsh":
		writeZshCompletion(e.stdout, cmds)
	case "fish":
		writeFishCompletion(e.stdout, cmds)
	}
	return nil
}

// completionModel returns every command with its flags, then help.
func completionModel() []compCmd {
	var cmds, names []compCmd
	for _, c := range commands() {
		cc := compCmd{name: c.name, summary: c.summary, files: compFileArgs[c.name]}
		switch {
		case c.name == "completion":
			for _, sh := range completionShells {
				cc.subs = append(cc.subs, compCmd{name: sh})
			}
		case compSubcommands[c.name] != nil:
			for _, sub := range compSubcommands[c.name] {
				cc.subs = append(cc.subs, compCmd{name: sub, flags: flagsOf(c, sub, "--help"), files: cc.files})
			}
		default:
			cc.flags = flagsOf(c, "--help")
		}
		cmds = append(cmds, cc)
		names = append(names, compCmd{name: c.name, summary: c.summary})
	}
	return append(cmds, compCmd{name: "help", summary: "show a command's usage and flags", subs: names})
}

// flagsOf runs c with args (ending in --help) with its output discarded
// and returns the flags of the flag set it built.
func flagsOf(c command, args ...string) []compFlag {
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
	var flags []compFlag
	set.VisitAll(func(f *flag.Flag) {
		b, ok := f.Value.(interface{ IsBoolFlag() bool })
		usage, _, _ := strings.Cut(f.Usage, "\n")
		flags = append(flags, compFlag{name: f.Name, usage: usage, value: !ok || !b.IsBoolFlag()})
	})
	return flags
}

// compValueFlags returns every flag of any command that takes a value, and
// the global ones, sorted: the scripts skip the word after each.
func compValueFlags(cmds []compCmd) []string {
	seen := make(map[string]bool)
	for name := range globalValueFlags {
		seen[name] = true
	}
	var walk func([]compCmd)
	walk = func(cs []compCmd) {
		for _, c := range cs {
			for _, f := range c.flags {
				if f.value {
					seen[f.name] = true
				}
			}
			walk(c.subs)
		}
	}
	walk(cmds)
	return sortedKeys(seen)
}

// compPlainValueFlags are the value flags whose values complete to nothing.
func compPlainValueFlags(cmds []compCmd) []string {
	var out []string
	for _, name := range compValueFlags(cmds) {
		if compValues[name] == nil {
			out = append(out, name)
		}
	}
	return out
}

// compGlobalFlags are offered before a command name.
func compGlobalFlags() []string {
	return append(dashed(sortedKeys(globalValueFlags)), "--version", "--help")
}

// dashed returns the flag names with -- before each.
func dashed(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "--" + n
	}
	return out
}

// dashedBoth returns -name and --name of each flag.
func dashedBoth(names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, "--"+n, "-"+n)
	}
	return out
}

// flagPattern returns a shell case pattern matching -name and --name of
// each flag.
func flagPattern(names []string) string {
	return strings.Join(dashedBoth(names), "|")
}

// flagNames returns the --names of flags.
func flagNames(flags []compFlag) []string {
	var out []string
	for _, f := range flags {
		out = append(out, "--"+f.name)
	}
	return out
}

// cmdNames returns the names of cs.
func cmdNames(cs []compCmd) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.name)
	}
	return out
}

// valueCases calls emit for each flag whose value has completions, with
// its case pattern and what it completes to, in a stable order.
func valueCases(emit func(pattern string, values []string)) {
	for _, name := range sortedKeys(compValues) {
		emit(flagPattern([]string{name}), compValues[name])
	}
}

func writeBashCompletion(w io.Writer, cmds []compCmd) {
	var b strings.Builder
	b.WriteString(`# bash completion for elfsync, generated by 'elfsync completion bash'.
# Enable it with: source <(elfsync completion bash)   (e.g. in ~/.bashrc)

_elfsync_words() {
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur")
}

_elfsync() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local cmd="" sub="" flags="" files="" i w
	# --flag=value is three words for bash: --flag, = and value.
	if [[ $cur == = ]]; then
		cur=""
	elif [[ $prev == = ]]; then
		prev=${COMP_WORDS[COMP_CWORD-2]}
	fi
	# The command and its first argument, skipping flags and their values.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		`)
	fmt.Fprintf(&b, "%s) [[ ${COMP_WORDS[i+1]} == = ]] || ((i++)) ;;\n", flagPattern(compValueFlags(cmds)))
	b.WriteString(`		=) ((i++)) ;;
		-*) ;;
		*) if [[ -z $cmd ]]; then cmd=$w; elif [[ -z $sub ]]; then sub=$w; fi ;;
		esac
	done
	case $prev in
`)
	valueCases(func(pattern string, values []string) {
		switch values[0] {
		case compDirs:
			fmt.Fprintf(&b, "\t%s)\n\t\tcompopt -o filenames 2>/dev/null\n\t\tmapfile -t COMPREPLY < <(compgen -d -- \"$cur\")\n\t\treturn ;;\n", pattern)
		case compFiles:
			fmt.Fprintf(&b, "\t%s)\n\t\tcompopt -o filenames 2>/dev/null\n\t\tmapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n\t\treturn ;;\n", pattern)
		default:
			fmt.Fprintf(&b, "\t%s) _elfsync_words %q; return ;;\n", pattern, strings.Join(values, " "))
		}
	})
	fmt.Fprintf(&b, "\t%s) return ;;\n\tesac\n", flagPattern(compPlainValueFlags(cmds)))
	fmt.Fprintf(&b, "\tcase $cmd in\n\t\"\")\n\t\tif [[ $cur == -* ]]; then _elfsync_words %q; else _elfsync_words %q; fi\n\t\treturn ;;\n",
		strings.Join(compGlobalFlags(), " "), strings.Join(cmdNames(cmds), " "))
	for _, c := range cmds {
		fmt.Fprintf(&b, "\t%s)\n", c.name)
		if c.subs != nil {
			fmt.Fprintf(&b, "\t\tif [[ -z $sub ]]; then _elfsync_words %q; return; fi\n", strings.Join(cmdNames(c.subs), " "))
			if c.subs[0].flags != nil {
				b.WriteString("\t\tcase $sub in\n")
				for _, s := range c.subs {
					fmt.Fprintf(&b, "\t\t%s) flags=%q ;;\n", s.name, strings.Join(flagNames(s.flags), " "))
				}
				b.WriteString("\t\tesac\n")
			}
		}
		if c.flags != nil {
			fmt.Fprintf(&b, "\t\tflags=%q\n", strings.Join(flagNames(c.flags), " "))
		}
		if c.files {
			b.WriteString("\t\tfiles=1\n")
		}
		b.WriteString("\t\t;;\n")
	}
	b.WriteString(`	esac
	if [[ $cur == -* ]]; then
		_elfsync_words "$flags"
	elif [[ -n $files ]]; then
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	fi
}

complete -F _elfsync elfsync
`)
	io.WriteString(w, b.String())
}

// zshQuote returns s in single quotes for zsh (and fish, which escapes
// the same two characters).
func zshQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func writeZshCompletion(w io.Writer, cmds []compCmd) {
	var b strings.Builder
	b.WriteString(`#compdef elfsync
# zsh completion for elfsync, generated by 'elfsync completion zsh'.
# Enable it with: source <(elfsync completion zsh)   (in ~/.zshrc, after compinit)

_elfsync() {
	local prev=${words[CURRENT-1]} cmd= sub= files= i w
	local -a flags descr
	# The command and its first argument, skipping flags and their values.
	for (( i = 2; i < CURRENT; i++ )); do
		w=${words[i]}
		case $w in
		`)
	fmt.Fprintf(&b, "(%s) (( i++ )) ;;\n", flagPattern(compValueFlags(cmds)))
	b.WriteString(`		(-*) ;;
		(*) if [[ -z $cmd ]]; then cmd=$w; elif [[ -z $sub ]]; then sub=$w; fi ;;
		esac
	done
	case $prev in
`)
	valueCases(func(pattern string, values []string) {
		switch values[0] {
		case compDirs:
			fmt.Fprintf(&b, "\t(%s) _directories; return ;;\n", pattern)
		case compFiles:
			fmt.Fprintf(&b, "\t(%s) _files; return ;;\n", pattern)
		default:
			fmt.Fprintf(&b, "\t(%s) compadd -- %s; return ;;\n", pattern, strings.Join(values, " "))
		}
	})
	fmt.Fprintf(&b, "\t(%s) return 1 ;;\n\tesac\n", flagPattern(compPlainValueFlags(cmds)))
	describe := func(indent string, cs []compCmd) {
		b.WriteString(indent + "descr=(")
		for _, c := range cs {
			fmt.Fprintf(&b, " %s", zshQuote(c.name+":"+strings.ReplaceAll(c.summary, ":", `\:`)))
		}
		b.WriteString(" )\n")
		fmt.Fprintf(&b, "%s_describe -t commands 'elfsync command' descr; return\n", indent)
	}
	b.WriteString("\tcase $cmd in\n\t('')\n")
	fmt.Fprintf(&b, "\t\tif [[ $PREFIX == -* ]]; then compadd -- %s; return; fi\n", strings.Join(compGlobalFlags(), " "))
	describe("\t\t", cmds)
	b.WriteString("\t\t;;\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "\t(%s)\n", c.name)
		if c.subs != nil {
			if c.subs[0].summary != "" {
				b.WriteString("\t\tif [[ -z $sub ]]; then\n")
				describe("\t\t\t", c.subs)
				b.WriteString("\t\tfi\n")
			} else {
				fmt.Fprintf(&b, "\t\tif [[ -z $sub ]]; then compadd -- %s; return; fi\n", strings.Join(cmdNames(c.subs), " "))
			}
			if c.subs[0].flags != nil {
				b.WriteString("\t\tcase $sub in\n")
				for _, s := range c.subs {
					fmt.Fprintf(&b, "\t\t(%s) flags=(%s) ;;\n", s.name, strings.Join(flagNames(s.flags), " "))
				}
				b.WriteString("\t\tesac\n")
			}
		}
		if c.flags != nil {
			fmt.Fprintf(&b, "\t\tflags=(%s)\n", strings.Join(flagNames(c.flags), " "))
		}
		if c.files {
			b.WriteString("\t\tfiles=1\n")
		}
		b.WriteString("\t\t;;\n")
	}
	b.WriteString(`	esac
	if [[ $PREFIX == -* ]]; then
		compadd -- $flags
	elif [[ -n $files ]]; then
		_files
	else
		return 1
	fi
}

if (( $+functions[compdef] )); then
	compdef _elfsync elfsync
fi
`)
	io.WriteString(w, b.String())
}

func writeFishCompletion(w io.Writer, cmds []compCmd) {
	var b strings.Builder
	b.WriteString(`# fish completion for elfsync, generated by 'elfsync completion fish'.
# Enable it with: elfsync completion fish > ~/.config/fish/completions/elfsync.fish

complete -c elfsync -f

# True while no command name was given (global flags and their values aside).
function __elfsync_needs_command
	set -l words (commandline -opc)
	set -e words[1]
	while set -q words[1]
		switch $words[1]
`)
	fmt.Fprintf(&b, "\t\tcase %s\n\t\t\tset -e words[1]\n", strings.Join(dashedBoth(sortedKeys(globalValueFlags)), " "))
	b.WriteString(`		case '-*'
		case '*'
			return 1
		end
		set -e words[1]
	end
	return 0
end

`)
	// fishFlag writes one flag under condition cond.
	fishFlag := func(cond string, f compFlag) {
		fmt.Fprintf(&b, "complete -c elfsync -n %s -l %s", zshQuote(cond), f.name)
		if f.value { // -x: a value, and no file names
			if v := compValues[f.name]; v != nil && v[0] == compFiles {
				b.WriteString(" -r")
			} else {
				b.WriteString(" -x")
			}
			if v, ok := compValues[f.name]; ok {
				switch v[0] {
				case compDirs:
					b.WriteString(" -a '(__fish_complete_directories)'")
				case compFiles:
					b.WriteString(" -F") // not with -x
				default:
					fmt.Fprintf(&b, " -a %s", zshQuote(strings.Join(v, " ")))
				}
			}
		}
		if f.usage != "" {
			fmt.Fprintf(&b, " -d %s", zshQuote(f.usage))
		}
		b.WriteString("\n")
	}
	for _, name := range sortedKeys(globalValueFlags) {
		fishFlag("__elfsync_needs_command", compFlag{name: name, value: true})
	}
	b.WriteString("complete -c elfsync -n __elfsync_needs_command -l version -d 'print the version and commit'\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "complete -c elfsync -n __elfsync_needs_command -a %s -d %s\n", c.name, zshQuote(c.summary))
	}
	for _, c := range cmds {
		seen := "__fish_seen_subcommand_from " + c.name
		for _, f := range c.flags {
			fishFlag(seen, f)
		}
		if c.files {
			fmt.Fprintf(&b, "complete -c elfsync -n %s -F\n", zshQuote(seen))
		}
		if c.subs == nil {
			continue
		}
		subNames := strings.Join(cmdNames(c.subs), " ")
		for _, s := range c.subs {
			fmt.Fprintf(&b, "complete -c elfsync -n %s -a %s", zshQuote(seen+"; and not __fish_seen_subcommand_from "+subNames), s.name)
			if s.summary != "" {
				fmt.Fprintf(&b, " -d %s", zshQuote(s.summary))
			}
			b.WriteString("\n")
			for _, f := range s.flags {
				fishFlag(seen+"; and __fish_seen_subcommand_from "+s.name, f)
			}
		}
	}
	io.WriteString(w, b.String())
}
