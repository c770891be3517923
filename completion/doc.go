// Package completion writes the bash, zsh and fish completion scripts of
// elfsync from a model of its commands: each command's name, summary and
// flags, which flags take a value and what that value completes to
// (directories, files or a list of words), which commands take files, and
// the words a command's first argument takes.
//
// It owns the scripts' text (Write, for each of Shells) and nothing else:
// it does not know the commands. cmd/elfsync builds the Program from its
// command table and the flag sets its commands make (FlagsOf turns a
// flag.FlagSet into Flags), so a new command or flag is completed without
// touching this package.
package completion
