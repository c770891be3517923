package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/record"
)

// recNow is the clock of these tests; ELF_NOW overrides it where a test
// sets it.
var recNow = time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)

// recRun runs elfsync with args in a fake environment and returns stdout,
// stderr and the exit code main would use.
func recRun(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &cmdEnv{
		stdin:  strings.NewReader(""),
		stdout: &out,
		stderr: &errb,
		getenv: func(k string) string { return env[k] },
		now:    func() time.Time { return recNow.Add(123 * time.Millisecond) },
	}
	err := e.dispatch(context.Background(), args)
	code = exitCode(err, &errb)
	return out.String(), errb.String(), code
}

func recParse(t *testing.T, root, path string) frontmatter.Record {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(filepath.Join(root, "memory"), path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := frontmatter.Parse(frontmatter.Input{Path: filepath.ToSlash(rel), Data: data})
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	return r
}

func TestRecordWritesEachType(t *testing.T) {
	tests := []struct {
		typ, folder string
		args        []string
		env         map[string]string
		check       func(t *testing.T, r frontmatter.Record)
	}{
		{
			typ: "failure", folder: "failures",
			args: []string{"--title", "Heredoc: \"consumed\"\n# twice", "--domain", "bash", "--severity", "critical",
				"--tags", " bash, retry ,", "--summary", "The retry re-ran sqlite3.\n---\nno"},
			check: func(t *testing.T, r frontmatter.Record) {
				if r.Title != "Heredoc: \"consumed\"\n# twice" || r.Domain != "bash" || r.Severity != 5 ||
					r.TagString() != "bash,retry" || r.Summary != "The retry re-ran sqlite3.\n---\nno" {
					t.Errorf("got %+v", r)
				}
			},
		},
		{
			typ: "success", folder: "successes",
			env: map[string]string{"SUCCESS_TITLE": "From env", "SUCCESS_SEVERITY": "low"},
			check: func(t *testing.T, r frontmatter.Record) {
				if r.Title != "From env" || r.Severity != 2 || r.Summary != "" {
					t.Errorf("got %+v", r)
				}
			},
		},
		{
			typ: "heuristic", folder: "heuristics",
			args: []string{"--domain", "git", "--rule", "Never delete a lock you did not create",
				"--explanation", "Another process may be writing.", "--confidence", "high", "--source", "failure"},
			check: func(t *testing.T, r frontmatter.Record) {
				if r.Rule != "Never delete a lock you did not create" || r.Title != r.Rule || r.Domain != "git" ||
					r.Explanation != "Another process may be writing." || r.Confidence == nil || *r.Confidence != 0.9 ||
					r.SourceType != "failure" {
					t.Errorf("got %+v", r)
				}
			},
		},
		{
			typ: "observation", folder: "observations",
			args: []string{"--title", "Saw it"},
			env:  map[string]string{"OBSERVATION_DOMAIN": "ops"},
			check: func(t *testing.T, r frontmatter.Record) {
				if r.Type != "observation" || r.Title != "Saw it" || r.Domain != "ops" || r.Severity != 3 {
					t.Errorf("got %+v", r)
				}
			},
		},
		{
			typ: "experiment", folder: "experiments",
			args: []string{"--title", "Try a private index", "--severity", "2"},
			check: func(t *testing.T, r frontmatter.Record) {
				if r.Type != "experiment" || r.Title != "Try a private index" || r.Severity != 2 {
					t.Errorf("got %+v", r)
				}
			},
		},
		{
			typ: "decision", folder: "decisions",
			args: []string{"--title=Use WAL", "--severity=4"},
			check: func(t *testing.T, r frontmatter.Record) {
				if r.Type != "decision" || r.Title != "Use WAL" || r.Severity != 4 {
					t.Errorf("got %+v", r)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			root := t.TempDir()
			args := append([]string{"record", tt.typ, "--root", root}, tt.args...)
			stdout, stderr, code := recRun(t, tt.env, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			path := strings.TrimSuffix(stdout, "\n")
			if filepath.Dir(path) != filepath.Join(root, "memory", tt.folder) || !strings.HasPrefix(filepath.Base(path), "20261127_") {
				t.Fatalf("printed %q", stdout)
			}
			r := recParse(t, root, path)
			if r.Type != tt.typ || !r.Created.Equal(recNow) {
				t.Errorf("type %q created %v", r.Type, r.Created)
			}
			tt.check(t, r)
			entries, _ := os.ReadDir(filepath.Dir(path))
			if len(entries) != 1 {
				t.Errorf("%d entries in %s, want 1 (no temp file)", len(entries), filepath.Dir(path))
			}
		})
	}
}

// TestRecordRun goes through run, with the real environment, and checks
// the name, the collision suffix and ELF_NOW.
func TestRecordRun(t *testing.T) {
	root := t.TempDir()
	t.Setenv("ELF_NOW", "2026-11-27T23:30:00-02:00") // 2026-11-28 in UTC
	t.Setenv("FAILURE_TITLE", "")
	for i, want := range []string{"20261128_hello-world.md", "20261128_hello-world-2.md", "20261128_hello-world-3.md"} {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), []string{"record", "failure", "--root", root, "--title", "Hello, World!"},
			strings.NewReader(""), &stdout, &stderr); err != nil {
			t.Fatalf("run %d: %v (%s)", i, err, stderr.String())
		}
		if got := strings.TrimSpace(stdout.String()); got != filepath.Join(root, "memory", "failures", want) {
			t.Errorf("run %d printed %q, want %s", i, got, want)
		}
	}
	data, err := os.ReadFile(filepath.Join(root, "memory", "failures", "20261128_hello-world.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("created: \"2026-11-28T01:30:00Z\"\n")) {
		t.Errorf("created not from ELF_NOW:\n%s", data)
	}
}

func TestRecordBadInput(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		code   int
		stderr string
	}{
		{"no type", []string{"record"}, nil, 2, "name a type"},
		{"flag before type", []string{"record", "--title", "x"}, nil, 2, "name a type"},
		{"unknown type", []string{"record", "note", "--title", "x"}, nil, 2, `unknown type "note"`},
		{"unknown flag", []string{"record", "failure", "--title", "x", "--colour", "red"}, nil, 2, "colour"},
		{"flag of another type", []string{"record", "heuristic", "--domain", "d", "--rule", "r", "--severity", "3"}, nil, 2, "severity"},
		{"stray argument", []string{"record", "failure", "--title", "x", "extra"}, nil, 2, "unexpected argument"},
		{"no title", []string{"record", "failure"}, nil, 1, "title is required (--title or FAILURE_TITLE)"},
		{"empty flag beats env", []string{"record", "success", "--title", ""}, map[string]string{"SUCCESS_TITLE": "t"}, 1, "title is required"},
		{"blank title", []string{"record", "decision", "--title", " \u3000\n"}, nil, 1, "title is required (--title or DECISION_TITLE)"},
		{"no rule", []string{"record", "heuristic", "--domain", "d"}, nil, 1, "rule is required"},
		{"no domain", []string{"record", "heuristic", "--rule", "r"}, map[string]string{"HEURISTIC_DOMAIN": " "}, 1, "domain is required"},
		{"title too long", []string{"record", "failure", "--title", strings.Repeat("é", 201)}, nil, 1, "title is 201 characters long; the limit is 200"},
		{"summary too long", []string{"record", "failure", "--title", "t", "--summary", strings.Repeat("x", 5001)}, nil, 1, "summary is 5001"},
		{"domain too long", []string{"record", "failure", "--title", "t", "--domain", strings.Repeat("x", 101)}, nil, 1, "domain is 101"},
		{"tags too long", []string{"record", "failure", "--title", "t", "--tags", strings.Repeat("x", 501)}, nil, 1, "tags is 501"},
		{"rule too long", []string{"record", "heuristic", "--domain", "d", "--rule", strings.Repeat("x", 501)}, nil, 1, "rule is 501"},
		{"explanation too long", []string{"record", "heuristic", "--domain", "d", "--rule", "r", "--explanation", strings.Repeat("😀", 5001)}, nil, 1, "explanation is 5001"},
		{"source too long", []string{"record", "heuristic", "--domain", "d", "--rule", "r", "--source", strings.Repeat("x", 501)}, nil, 1, "source is 501"},
		{"severity 0", []string{"record", "failure", "--title", "t", "--severity", "0"}, nil, 1, "severity"},
		{"severity word", []string{"record", "failure", "--title", "t"}, map[string]string{"FAILURE_SEVERITY": "huge"}, 1, "severity"},
		{"severity dotted I", []string{"record", "failure", "--title", "t", "--severity", "CRİTICAL"}, nil, 1, "severity"},
		{"confidence 1.5", []string{"record", "heuristic", "--domain", "d", "--rule", "r", "--confidence", "1.5"}, nil, 1, "confidence"},
		{"confidence NaN", []string{"record", "heuristic", "--domain", "d", "--rule", "r", "--confidence", "NaN"}, nil, 1, "confidence"},
		{"confidence 16 decimals", []string{"record", "heuristic", "--domain", "d", "--rule", "r", "--confidence", "0.1234567890123456"}, nil, 1, "confidence"},
		{"invalid UTF-8", []string{"record", "failure", "--title", "a\xffb"}, nil, 1, "not valid UTF-8"},
		{"bad ELF_NOW", []string{"record", "failure", "--title", "t"}, map[string]string{"ELF_NOW": "yesterday"}, 1, "ELF_NOW"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			args := tt.args
			if len(args) > 2 {
				args = append(append([]string{}, args[:2]...), append([]string{"--root", root}, args[2:]...)...)
			}
			stdout, stderr, code := recRun(t, tt.env, args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
			if entries, _ := os.ReadDir(filepath.Join(root, "memory")); len(entries) != 0 {
				t.Errorf("wrote something under memory/")
			}
		})
	}
}

func TestRecordHelp(t *testing.T) {
	for _, args := range [][]string{{"record", "--help"}, {"record", "failure", "--help"}, {"record", "heuristic", "-h"}} {
		stdout, _, code := recRun(t, nil, args...)
		if code != 0 || !strings.Contains(stdout, "Usage: elfsync record") {
			t.Errorf("%q: exit %d, stdout %q", args, code, stdout)
		}
	}
	stdout, _, _ := recRun(t, nil, "record", "heuristic", "--help")
	for _, want := range []string{"-rule", "-confidence", "HEURISTIC_SOURCE", "-root"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("heuristic --help lacks %q:\n%s", want, stdout)
		}
	}
}

func TestRecordExitCodes(t *testing.T) {
	_, _, code := recRun(t, nil, "record", "failure", "--root", t.TempDir(), "--title", "ok")
	if code != 0 {
		t.Errorf("exit %d", code)
	}
	if got := exitCode(errors.New("x"), io.Discard); got != 1 {
		t.Errorf("plain error: exit %d", got)
	}
}

// TestRecordWorstCaseSize fills every field to its limit with a character
// that needs a 6-byte escape: the file must still parse (its frontmatter
// under frontmatter.MaxFrontmatterSize).
func TestRecordWorstCaseSize(t *testing.T) {
	fill := func(n int) string { return strings.Repeat("\ufeff", n-1) + "x" }
	tags := strings.TrimSuffix(strings.Repeat(fill(4)+",", record.MaxTags/5), ",")
	for _, args := range [][]string{
		{"failure", "--title", fill(record.MaxTitle), "--domain", fill(record.MaxDomain), "--tags", tags, "--summary", fill(record.MaxSummary)},
		{"heuristic", "--rule", fill(record.MaxRule), "--domain", fill(record.MaxDomain), "--tags", tags,
			"--explanation", fill(record.MaxExplanation), "--source", fill(record.MaxSource)},
	} {
		root := t.TempDir()
		stdout, stderr, code := recRun(t, nil, append([]string{"record", args[0], "--root", root}, args[1:]...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", args[0], code, stderr)
		}
		r := recParse(t, root, strings.TrimSpace(stdout))
		if r.Domain != fill(record.MaxDomain) || r.TagString() != tags {
			t.Errorf("%s: read back %q, %q", args[0], r.Domain, r.TagString())
		}
	}
}
