package main

import (
	"os"
	"strings"
	"testing"
)

// TestREADMECommands runs every elfsync command line of the README's sh
// blocks with --help added: the command exists and each flag it shows is
// one the binary takes (an unknown flag fails before --help is reached).
func TestREADMECommands(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	env := gitEnv(t)
	n := 0
	for _, line := range shLines(string(b)) {
		for _, args := range elfsyncCalls(line) {
			n++
			if args[0] == "check" || args[0] == "record" && len(args) > 1 {
				// A positional argument ends flag parsing: ask for help
				// before it (check) or after the type (record).
				i := 1
				if args[0] == "record" {
					i = 2
				}
				args = append(append(append([]string{}, args[:i]...), "--help"), args[i:]...)
			} else {
				args = append(args, "--help")
			}
			r := elfsync(t, env, args...)
			if r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: elfsync "+args[0]) {
				t.Errorf("README: elfsync %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
			}
		}
	}
	if n < 20 {
		t.Errorf("found %d elfsync command lines in the README, want the 20 or more it has", n)
	}
}

// shLines returns the lines of the README's ```sh blocks, with
// backslash-continued lines joined.
func shLines(md string) []string {
	var out []string
	in, cont := false, ""
	for _, l := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(l, "```sh"):
			in = true
		case strings.HasPrefix(l, "```"):
			in = false
		case in:
			if s, ok := strings.CutSuffix(l, "\\"); ok {
				cont += s + " "
				continue
			}
			out = append(out, cont+l)
			cont = ""
		}
	}
	return out
}

// elfsyncCalls splits a shell line into words (quotes honoured, a comment,
// a pipe or && ends a command) and returns the arguments of each elfsync
// command in it; [optional] words lose their brackets.
func elfsyncCalls(line string) [][]string {
	var calls [][]string
	var words []string
	var w strings.Builder
	quote, have := rune(0), false
	flush := func() {
		if have {
			words = append(words, strings.Trim(w.String(), "[]"))
		}
		w.Reset()
		have = false
	}
	end := func() {
		flush()
		if len(words) > 1 && words[0] == "elfsync" {
			calls = append(calls, words[1:])
		}
		words = nil
	}
	rs := []rune(line)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(c)
		case c == '"' || c == '\'':
			quote, have = c, true
		case c == ' ' || c == '\t':
			flush()
		case c == '#' && !have:
			end()
			return calls
		case c == '|' || c == '&' || c == ';':
			end()
			for i+1 < len(rs) && (rs[i+1] == '&' || rs[i+1] == '|') {
				i++
			}
		default:
			w.WriteRune(c)
			have = true
		}
	}
	end()
	return calls
}
