package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/emergent-learning/elfsync/edit"
	"github.com/emergent-learning/elfsync/layout"
	"github.com/emergent-learning/elfsync/update"
)

func cmdHeuristic(ctx context.Context, e *cmdEnv, args []string) error {
	if len(args) == 0 || (args[0] != "validate" && args[0] != "violate") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fmt.Fprintln(e.stdout, "Usage: elfsync heuristic validate|violate [--root ROOT] ID|PATH")
			return nil
		}
		return usagef("heuristic: want validate or violate: elfsync heuristic validate|violate ID|PATH")
	}
	verb := args[0]
	fs, rootFlag := e.newFlagSet("heuristic "+verb, "[--root ROOT] ID|PATH")
	words, err := e.parseInterleaved(fs, args[1:])
	if err != nil {
		return err
	}
	if len(words) != 1 {
		return usagef("heuristic %s: want one ID or PATH, got %d arguments", verb, len(words))
	}
	root, err := e.resolveRoot(*rootFlag)
	if err != nil {
		return mark(errUsage, err)
	}
	if err := layout.CheckRoot(root); err != nil {
		return err
	}
	c := edit.Validated
	if verb == "violate" {
		c = edit.Violated
	}
	b, err := update.Bump(ctx, root, words[0], c)
	if errors.Is(err, edit.ErrUnsafePath) || errors.Is(err, update.ErrNotHeuristic) || errors.Is(err, update.ErrSection) {
		return mark(errUsage, err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: times_validated %d, times_violated %d\n%s\n", b.Path, b.Validated, b.Violated, b.Note())
	return nil
}
