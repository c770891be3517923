package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/emergent-learning/elfsync/layout"
)

// Error kinds choose a command's exit status. A command returns an error
// marked with a kind (usagef, or mark(kind, err)); exitCode maps it, in one
// table, and prints it unless the command has already said everything.
var (
	// errHelp ends a command successfully after --help printed its usage.
	errHelp = errors.New("help shown")
	// errFlags is a flag mistake the flag package has already reported,
	// with the usage.
	errFlags = errors.New("bad flags")
	// errUsage is a command-line mistake: an unknown command, a missing
	// argument, a bad value.
	errUsage = errors.New("usage")
	// errNotInSync means a report was printed that found drift or
	// problems (status, doctor).
	errNotInSync = errors.New("not in sync")
	// errCannotCheck means status could not compare files, index and git.
	errCannotCheck = errors.New("cannot check")
)

// exitCodes is the one table from error kinds to exit statuses; the first
// kind an error matches wins. Any other error exits 1.
var exitCodes = []struct {
	kind  error
	code  int
	quiet bool // nothing to print: the command already did
}{
	{errHelp, 0, true},
	{errFlags, 2, true},
	{errUsage, 2, false},
	{layout.ErrNoRoot, 2, false}, // elfsync init creates one
	{errNotInSync, 1, true},
	{errCannotCheck, 2, false},
}

// kindError is an error marked with a kind. Its text is the error's own.
type kindError struct {
	kind, err error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

// mark returns err marked with kind (a nil err stands for the kind alone).
func mark(kind, err error) error {
	if err == nil {
		return kind
	}
	return &kindError{kind: kind, err: err}
}

// usagef returns a command-line mistake.
func usagef(format string, args ...any) error {
	return mark(errUsage, fmt.Errorf(format, args...))
}

// exitCode maps a command's error to the process exit status and prints it
// on stderr, once, prefixed with "elfsync: ".
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	code, quiet := 1, false
	for _, k := range exitCodes {
		if errors.Is(err, k.kind) {
			code, quiet = k.code, k.quiet
			break
		}
	}
	if !quiet {
		fmt.Fprintf(stderr, "elfsync: %v\n", err)
	}
	return code
}
