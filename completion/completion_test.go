package completion

import (
	"bytes"
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
)

// testProgram is a two-command program: run with a value flag completing
// to words and a boolean flag, and open taking files with a subcommand.
var testProgram = Program{
	GlobalFlags: []Flag{{Name: "root", TakesValue: true, Values: []string{Dirs}}},
	Commands: []Command{
		{Name: "run", Summary: "run it: now", Flags: []Flag{
			{Name: "level", Usage: "how loud", TakesValue: true, Values: []string{"low", "high"}},
			{Name: "count", TakesValue: true},
			{Name: "quiet", Usage: "say nothing"},
		}},
		{Name: "open", Summary: "open files", FileArgs: true, Subcommands: []Command{
			{Name: "fast", Flags: []Flag{{Name: "depth", TakesValue: true}}, FileArgs: true},
		}},
	},
}

// TestScripts checks each script names what the program defines: value
// flags skipped, word values offered, plain value flags completing to
// nothing, boolean flags not taking the next word.
func TestScripts(t *testing.T) {
	tests := []struct {
		name  string
		write func(io.Writer, Program)
		want  []string
		not   []string
	}{
		{"bash", Bash, []string{
			"--count|-count|--depth|-depth|--level|-level|--root|-root) [[",
			`--level|-level) _elfsync_words "low high"; return ;;`,
			"\t--count|-count|--depth|-depth) return ;;\n",
			`_elfsync_words "--root --version --help"`,
			`flags="--level --count --quiet"`,
			"\t\tfast) flags=\"--depth\" ;;\n",
			"\t\tfiles=1\n",
		}, []string{"--quiet|-quiet"}},
		{"zsh", Zsh, []string{
			"(--level|-level) compadd -- low high; return ;;",
			"(--root|-root) _directories; return ;;",
			`'run:run it\: now'`,
		}, []string{"--quiet|-quiet"}},
		{"fish", Fish, []string{
			"complete -c elfsync -n '__elfsync_needs_command' -l root -x -a '(__fish_complete_directories)'",
			"complete -c elfsync -n '__fish_seen_subcommand_from run' -l level -x -a 'low high' -d 'how loud'",
			"complete -c elfsync -n '__fish_seen_subcommand_from run' -l quiet -d 'say nothing'",
			"complete -c elfsync -n '__fish_seen_subcommand_from open' -F",
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			tt.write(&b, testProgram)
			got := b.String()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%s script lacks %q:\n%s", tt.name, w, got)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("%s script has %q", tt.name, n)
				}
			}
		})
	}
}

func TestFlagsOf(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.String("root", "", "the root\nsecond line")
	fs.Bool("json", false, "print JSON")
	fs.Int("limit", 5, "at most")
	got := FlagsOf(fs, map[string][]string{"root": {Dirs}, "json": {"never"}})
	want := []Flag{
		{Name: "json", Usage: "print JSON"},
		{Name: "limit", Usage: "at most", TakesValue: true},
		{Name: "root", Usage: "the root", TakesValue: true, Values: []string{Dirs}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FlagsOf = %+v, want %+v", got, want)
	}
}

func TestWrite(t *testing.T) {
	for _, sh := range Shells {
		var b bytes.Buffer
		if err := Write(&b, sh, testProgram); err != nil || !strings.Contains(b.String(), "level") {
			t.Errorf("Write(%s) = %v, script without the flag level:\n%s", sh, err, b.String())
		}
	}
	if err := Write(io.Discard, "tcsh", testProgram); err == nil {
		t.Error("Write(tcsh) = nil, want an error")
	}
}
