package main

import (
	"flag"
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"
	"gopkg.in/natefinch/lumberjack.v2"
)

// logFlags are the logging flags every long-running command takes.
type logFlags struct {
	format string
	level  string
	file   string
}

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.format, "log-format", "auto", "log format: auto (readable on a terminal, JSON otherwise), console or json")
	fs.StringVar(&l.level, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&l.file, "log-file", "", "append the log to this file instead of stderr, rotated at 10 MB (3 old files kept, compressed), for runs outside systemd or launchd")
}

// parseService parses the flags of a command that logs and takes no
// arguments (scan, watch, sync, mcp), with the logging flags: its ROOT,
// which must exist, and its logger.
func (e *cmdEnv) parseService(fs *flag.FlagSet, args []string, rootFlag *string) (string, zerolog.Logger, error) {
	var lf logFlags
	lf.register(fs)
	root, err := e.parseRoot(fs, args, rootFlag)
	if err != nil {
		return "", zerolog.Nop(), err
	}
	log, err := lf.logger(e.stderr)
	return root, log, err
}

// logger builds the zerolog logger the flags ask for, writing to w, or to
// the --log-file (which stays open until the process exits).
func (l *logFlags) logger(w io.Writer) (zerolog.Logger, error) {
	if l.file != "" {
		// lumberjack rotates by size, keeps a bounded number of old files
		// and compresses them, safely beside the writes; rotation done by
		// hand gets the rename-while-writing cases wrong.
		w = &lumberjack.Logger{Filename: l.file, MaxSize: 10, MaxBackups: 3, Compress: true}
	}
	level, err := zerolog.ParseLevel(l.level)
	if err != nil || l.level == "" {
		return zerolog.Nop(), usagef("--log-level %q: want debug, info, warn or error", l.level)
	}
	var out io.Writer
	switch l.format {
	case "json":
		out = w
	case "console":
		out = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	case "auto", "":
		if isTerminal(w) {
			out = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
		} else {
			out = w
		}
	default:
		return zerolog.Nop(), usagef("--log-format %q: want auto, console or json", l.format)
	}
	return zerolog.New(out).Level(level).With().Timestamp().Logger(), nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
