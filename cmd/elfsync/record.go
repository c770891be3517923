package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/emergent-learning/elfsync/layout"
	"github.com/emergent-learning/elfsync/record"
)

// The record command is the Go twin of scripts/record-*.sh, for machines
// without bash: same flags, same environment variables, same validation,
// and, through package record, the same file byte for byte (the tests in
// scripts/ check this). scripts/lib-record.sh describes the steps; keep
// the two in step.

func cmdRecord(_ context.Context, e *cmdEnv, args []string) error {
	types := layout.Types("|")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fmt.Fprintf(e.stdout, "Usage: elfsync record %s [flags]\n\nRun 'elfsync record <type> --help' for the flags of each.\n", types)
			return nil
		}
		return usagef("record: name a type first: elfsync record %s [flags]", types)
	}
	typ := args[0]
	fields, err := record.Fields(typ)
	if err != nil {
		return usagef("record: unknown type %q (want %s)", typ, types)
	}
	synopsis := "--title TITLE [--domain D] [--severity S] [--tags a,b] [--summary TEXT] [--root ROOT]"
	if typ == layout.TypeHeuristic {
		synopsis = "--domain D --rule RULE [--explanation TEXT] [--confidence C] [--source S] [--tags a,b] [--root ROOT]"
	}
	set, rootFlag := e.newFlagSet("record "+typ, synopsis,
		"{type}", typ, "{folder}", layout.Folder(typ), "{env}", record.Env(typ), "{FLAG}", strings.ToUpper(fields[0].Name))
	for _, f := range fields {
		set.String(f.Name, "", f.Usage+" ($"+record.EnvVar(typ, f.Name)+")")
	}
	if err := e.parseFlags(set, args[1:]); err != nil {
		return err
	}
	if set.NArg() > 0 {
		return usagef("record %s: unexpected argument %q", typ, set.Arg(0))
	}
	given := make(map[string]string)
	set.Visit(func(f *flag.Flag) { given[f.Name] = f.Value.String() })
	in, err := record.Values(typ, given, e.getenv)
	if err != nil {
		return err
	}
	now, err := record.Now(e.getenv, e.now())
	if err != nil {
		return err
	}
	// The values are checked before the root, as the scripts do.
	if _, err := record.Build(typ, in, now); err != nil {
		return err
	}
	root, err := e.resolveRoot(*rootFlag)
	if err != nil {
		return err
	}
	if err := layout.CheckRoot(root); err != nil {
		return err
	}
	path, err := record.Write(filepath.Join(root, layout.MemoryDir), typ, in, now)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, path)
	return nil
}
