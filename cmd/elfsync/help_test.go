package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestHelpFiles checks that every command has its help/<command>.txt and
// that `elfsync help <command>` prints it (for record and heuristic, whose
// help is per type or verb, `elfsync help <command> <first word>`). Lines
// with a {placeholder} are filled per type and left out of the comparison.
func TestHelpFiles(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			b, err := helpTexts.ReadFile("help/" + c.name + ".txt")
			if err != nil || len(bytes.TrimSpace(b)) == 0 {
				t.Fatalf("help/%s.txt: %v, %d bytes; every command needs a description", c.name, err, len(b))
			}
			args := []string{"help", c.name}
			switch c.name {
			case "record":
				args = []string{"record", "failure", "--help"}
			case "heuristic":
				args = []string{"heuristic", "validate", "--help"}
			}
			var stdout, stderr bytes.Buffer
			if err := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr); err != nil && err != errHelp {
				t.Fatalf("elfsync %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
			}
			if !strings.HasPrefix(stdout.String(), "Usage: elfsync "+c.name) {
				t.Errorf("elfsync %s prints no usage line:\n%s", strings.Join(args, " "), stdout.String())
			}
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				if !strings.Contains(line, "{") && !strings.Contains(stdout.String(), line+"\n") {
					t.Errorf("elfsync %s lacks the line %q of help/%s.txt:\n%s", strings.Join(args, " "), line, c.name, stdout.String())
				}
			}
		})
	}
}
