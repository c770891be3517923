package completion

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// Shells are the shells Write writes a script for.
var Shells = []string{"bash", "zsh", "fish"}

// Write writes p's completion script for shell, one of Shells.
func Write(w io.Writer, shell string, p Program) error {
	switch shell {
	case "bash":
		Bash(w, p)
	case "zsh":
		Zsh(w, p)
	case "fish":
		Fish(w, p)
	default:
		return fmt.Errorf("no completion script for %q (want %s)", shell, strings.Join(Shells, ", "))
	}
	return nil
}

// FlagsOf returns the flags of fs as the scripts see them: the first line
// of each usage, whether it takes a value (every flag but a boolean one),
// and what a value flag's value completes to, values[its name] (nil:
// nothing).
func FlagsOf(fs *flag.FlagSet, values map[string][]string) []Flag {
	var flags []Flag
	fs.VisitAll(func(f *flag.Flag) {
		b, ok := f.Value.(interface{ IsBoolFlag() bool })
		usage, _, _ := strings.Cut(f.Usage, "\n")
		cf := Flag{Name: f.Name, Usage: usage, TakesValue: !ok || !b.IsBoolFlag()}
		if cf.TakesValue {
			cf.Values = values[f.Name]
		}
		flags = append(flags, cf)
	})
	return flags
}
