package scripts_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emergent-learning/elfsync/frontmatter"
)

// The tests run the real scripts with bash, and the real elfsync binary,
// built once in TestMain (or taken from $ELFSYNC_BIN), for the byte-for-byte
// comparison with `elfsync record`.

const now = "2026-11-27T17:00:00Z"

var (
	elfsyncBin string // the binary under test
	buildErr   error  // why there is none
)

func TestMain(m *testing.M) {
	os.Exit(func() int {
		if bin := os.Getenv("ELFSYNC_BIN"); bin != "" {
			elfsyncBin = bin
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "elfsync-scripts-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		elfsyncBin = filepath.Join(dir, "elfsync")
		out, err := exec.Command("go", "build", "-o", elfsyncBin, "../cmd/elfsync").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ../cmd/elfsync: %v\n%s", err, out)
		}
		return m.Run()
	}())
}

// kind describes one script.
type kind struct {
	typ    string // frontmatter type and elfsync record argument
	script string
	folder string
	env    string
}

var kinds = []kind{
	{frontmatter.TypeFailure, "record-failure.sh", "failures", "FAILURE"},
	{frontmatter.TypeSuccess, "record-success.sh", "successes", "SUCCESS"},
	{frontmatter.TypeHeuristic, "record-heuristic.sh", "heuristics", "HEURISTIC"},
}

// hostile are values meant to break a writer: YAML, markdown and shell
// syntax, control characters, line breaks, unicode. None holds a NUL, which
// no argument or environment variable can.
var hostile = []string{
	`plain title`,
	`"double" and 'single' quotes`,
	`key: value # comment`,
	`---`,
	`- leading dash`,
	`--help`,
	`# leading hash`,
	`? question: {flow: map} [list] &anchor *alias !tag %dir @at`,
	`yes`, `no`, `null`, `~`, `1.50`, `2026-11-27`,
	"line one\nline two\n---\n# not a heading\n## Summary\nfake",
	"tab\there\tand\tthere",
	"cr\rlf\r\nend",
	`back\slash \\ \n \x41 \u0041 "\" \`,
	"$(touch MARKER) `touch MARKER` ${HOME} $HOME $((1+1)) !! *",
	"control \x01\x02\x07\x08\x0b\x0c\x0e\x1b\x1f\x7f end",
	"c1 \u0080\u0085\u009f end",
	"separators \u2028 and \u2029 end",
	"bom \ufeff and non-characters \ufffe\uffff end",
	"emoji 😀🎉👩‍👩‍👧 flag 🇫🇷",
	"RTL שלום עליכם مرحبا \u202eevil\u202c",
	"combining e\u0301, zero width \u200b\u200d, nbsp\u00a0, ideographic\u3000space",
	"  \u3000padded with white space\u00a0\t\n ",
	"**Domain**: fake",
	"%s %d %n %%",
	"&amp; <script>alert(1)</script>",
	"\x01",
	"-",
	"a,b,,c, d ,",
}

// long returns a string of exactly n characters, most of them multi-byte,
// so a byte-counting limit would refuse it.
func long(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		switch i % 4 {
		case 0:
			b.WriteString("é")
		case 1:
			b.WriteString("😀")
		case 2:
			b.WriteString("\"")
		default:
			b.WriteString("ש")
		}
	}
	return b.String()
}

// prefix returns the first n characters of s.
func prefix(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		r = r[:n]
	}
	return string(r)
}

// input is one script run: field name → value, given as flags or as
// environment variables.
type input struct {
	fields map[string]string
	useEnv bool
}

func (in input) args(root string) []string {
	args := []string{"--root", root}
	for _, k := range sortedKeys(in.fields) {
		if !in.useEnv {
			args = append(args, "--"+k, in.fields[k])
		}
	}
	return args
}

func (in input) environ(k kind) []string {
	var env []string
	for _, f := range sortedKeys(in.fields) {
		if in.useEnv {
			env = append(env, k.env+"_"+strings.ToUpper(f)+"="+in.fields[f])
		}
	}
	return env
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// hostileInput returns the i-th input for kind k, replacing MARKER with
// marker (a file that must never be created).
func hostileInput(k kind, i int, marker string) input {
	h := func(j int) string { return strings.ReplaceAll(hostile[j%len(hostile)], "MARKER", marker) }
	sev := []string{"1", "2", "3", "4", "5", "low", "medium", "HIGH", "Critical", " 4 ", ""}
	conf := []string{"0", "1", "0.5", ".25", "0.850", "1.000", "low", "Medium", "high", "0.123456789012345", ""}
	in := input{fields: map[string]string{}, useEnv: i%3 == 1}
	if k.typ == frontmatter.TypeHeuristic {
		in.fields["rule"] = h(i)
		in.fields["domain"] = prefix(h(i+5), 100)
		in.fields["explanation"] = h(i + 7)
		in.fields["confidence"] = conf[i%len(conf)]
		in.fields["source"] = h(i + 11)
		in.fields["tags"] = h(i+13) + "," + h(i+17)
		switch i {
		case 98:
			in.fields["rule"] = long(500)
			in.fields["explanation"] = long(5000)
		case 99:
			in.fields["domain"] = long(100)
			in.fields["tags"] = long(500)
		}
	} else {
		in.fields["title"] = h(i)
		in.fields["domain"] = prefix(h(i+5), 100)
		in.fields["summary"] = h(i + 7)
		in.fields["severity"] = sev[i%len(sev)]
		in.fields["tags"] = h(i+13) + "," + h(i+17)
		switch i {
		case 98:
			in.fields["title"] = long(200)
			in.fields["summary"] = long(5000)
		case 99:
			in.fields["domain"] = long(100)
			in.fields["tags"] = long(500)
		}
	}
	for f, v := range in.fields {
		if strings.TrimSpace(v) == "" && (f == "title" || f == "rule" || f == "domain" && k.typ == frontmatter.TypeHeuristic) {
			in.fields[f] = "x" // required
		}
	}
	return in
}

// expected returns the record the scripts should write for in: the spec of
// their normalisation, written out independently of the code under test.
func expected(t *testing.T, k kind, in input) frontmatter.Record {
	t.Helper()
	f := func(name string) string { return strings.TrimSpace(in.fields[name]) }
	r := frontmatter.Record{Type: k.typ, Domain: f("domain")}
	created, _ := time.Parse(time.RFC3339, now)
	r.Created = created
	for _, tag := range strings.Split(in.fields["tags"], ",") {
		if tag = strings.TrimSpace(tag); tag != "" {
			r.Tags = append(r.Tags, tag)
		}
	}
	if k.typ == frontmatter.TypeHeuristic {
		r.Title, r.Rule, r.Explanation, r.SourceType = f("rule"), f("rule"), f("explanation"), f("source")
		if r.SourceType == "" {
			r.SourceType = "observation"
		}
		c := 0.5
		switch strings.ToLower(f("confidence")) {
		case "":
		case "low":
			c = 0.3
		case "medium":
			c = 0.6
		case "high":
			c = 0.9
		default:
			var err error
			if c, err = strconv.ParseFloat(f("confidence"), 64); err != nil {
				t.Fatalf("test input: confidence %q: %v", f("confidence"), err)
			}
		}
		r.Confidence = &c
		return r
	}
	r.Title, r.Summary = f("title"), f("summary")
	r.Severity = map[string]int{"": 3, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5,
		"low": 2, "medium": 3, "high": 4, "critical": 5}[strings.ToLower(f("severity"))]
	if r.Severity == 0 {
		t.Fatalf("test input: severity %q", f("severity"))
	}
	return r
}

// result is what one run did.
type result struct {
	stdout, stderr string
	code           int
}

// baseEnv is the environment of every run: the test's own without any
// variable the scripts read, with HOME pointing at home so that nothing
// lands in the real home directory.
func baseEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "ELF_HOME", name == "ELF_BASE_PATH", name == "ELF_NOW", name == "HOME",
			strings.HasPrefix(name, "FAILURE_"), strings.HasPrefix(name, "SUCCESS_"),
			strings.HasPrefix(name, "HEURISTIC_"):
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home, "ELF_NOW="+now)
}

func run(t *testing.T, env []string, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		t.Errorf("run %s: %v", name, err)
		res.code = -1
	}
	return res
}

func script(name string) string {
	p, _ := filepath.Abs(name)
	return p
}

// listDir returns the names in dir, dot-files included ("" when dir does
// not exist).
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// checkFile parses path and compares it, and its bytes, with want.
func checkFile(t *testing.T, root, path string, want frontmatter.Record) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := frontmatter.Encode(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, enc) {
		t.Errorf("%s differs from frontmatter.Encode:\ngot:\n%q\nwant:\n%q", path, data, enc)
	}
	rel, err := filepath.Rel(filepath.Join(root, "memory"), path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := frontmatter.Parse(frontmatter.Input{Path: filepath.ToSlash(rel), Data: data})
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	same := func(field string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %s = %q, want %q", path, field, got, want)
		}
	}
	same("type", got.Type, want.Type)
	same("title", got.Title, want.Title)
	same("domain", got.Domain, want.Domain)
	same("tags", got.TagString(), strings.Join(want.Tags, ","))
	same("created", got.Created.Format(time.RFC3339), want.Created.Format(time.RFC3339))
	if want.Type == frontmatter.TypeHeuristic {
		same("rule", got.Rule, want.Rule)
		same("explanation", got.Explanation, want.Explanation)
		same("source_type", got.SourceType, want.SourceType)
		if got.Confidence == nil || *got.Confidence != *want.Confidence {
			t.Errorf("%s: confidence = %v, want %v", path, got.Confidence, *want.Confidence)
		}
	} else {
		same("summary", got.Summary, want.Summary)
		same("severity", got.Severity, want.Severity)
	}
	if prefix := strings.TrimSuffix(frontmatter.FileName(want.Created, frontmatter.Slug(want.Title), 1), ".md"); !strings.HasPrefix(filepath.Base(path), prefix) {
		t.Errorf("%s: name does not start with %s", path, prefix)
	}
}

// TestRecordScriptsConcurrent runs each script 100 times at once with
// hostile input: every run succeeds with its own file, which reads back as
// the input and holds exactly frontmatter.Encode's bytes.
func TestRecordScriptsConcurrent(t *testing.T) {
	const runs = 100
	for _, k := range kinds {
		t.Run(k.typ, func(t *testing.T) {
			root := t.TempDir()
			marker := filepath.Join(root, "pwned")
			env := baseEnv(root)
			inputs := make([]input, runs)
			results := make([]result, runs)
			var wg sync.WaitGroup
			for i := range runs {
				inputs[i] = hostileInput(k, i, marker)
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i] = run(t, slices.Concat(env, inputs[i].environ(k)), script(k.script), inputs[i].args(root)...)
				}()
			}
			wg.Wait()

			dir := filepath.Join(root, "memory", k.folder)
			seen := map[string]int{}
			for i, res := range results {
				if res.code != 0 {
					t.Errorf("run %d (%q): exit %d: %s", i, inputs[i].fields, res.code, res.stderr)
					continue
				}
				path := strings.TrimSuffix(res.stdout, "\n")
				if strings.Contains(path, "\n") || !filepath.IsAbs(path) || filepath.Dir(path) != dir {
					t.Errorf("run %d: printed %q, want one absolute path in %s", i, res.stdout, dir)
					continue
				}
				if j, dup := seen[path]; dup {
					t.Errorf("runs %d and %d both printed %s", j, i, path)
				}
				seen[path] = i
				checkFile(t, root, path, expected(t, k, inputs[i]))
			}
			names := listDir(t, dir)
			if len(names) != runs {
				t.Errorf("%d names in %s, want %d (no temp files): %q", len(names), dir, runs, names)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Errorf("a value was executed as a command: %s exists", marker)
			}
		})
	}
}

// TestRecordScriptsNames checks the names: a slug of the title, -2, -3 on
// a clash, "untitled" when nothing is left of the title.
func TestRecordScriptsNames(t *testing.T) {
	root := t.TempDir()
	env := baseEnv(root)
	titles := []string{"Hello, World!", "hello world", "HELLO   WORLD", "😀", strings.Repeat("Ab ", 40)}
	want := []string{"20261127_hello-world.md", "20261127_hello-world-2.md", "20261127_hello-world-3.md",
		"20261127_untitled.md", "20261127_" + strings.TrimSuffix(strings.Repeat("ab-", 20), "-") + ".md"}
	for i, title := range titles {
		res := run(t, env, script("record-failure.sh"), "--root", root, "--title", title)
		if res.code != 0 {
			t.Fatalf("%q: exit %d: %s", title, res.code, res.stderr)
		}
		if got := filepath.Base(strings.TrimSpace(res.stdout)); got != want[i] {
			t.Errorf("%q: name %s, want %s", title, got, want[i])
		}
	}
}

// TestRecordScriptsRejects checks that bad input fails with a message and
// leaves no file, temp or final, behind.
func TestRecordScriptsRejects(t *testing.T) {
	tests := []struct {
		name   string
		script string
		args   []string
		env    []string
		code   int    // 0 means any non-zero
		stderr string // a part of the message
	}{
		{"title too long", "record-failure.sh", []string{"--title", long(201)}, nil, 1, "title is 201 characters long; the limit is 200"},
		{"title too long by env", "record-success.sh", nil, []string{"SUCCESS_TITLE=" + strings.Repeat("a", 201)}, 1, "limit is 200"},
		{"summary too long", "record-failure.sh", []string{"--title", "t", "--summary", long(5001)}, nil, 1, "summary is 5001"},
		{"domain too long", "record-failure.sh", []string{"--title", "t", "--domain", long(101)}, nil, 1, "domain is 101"},
		{"tags too long", "record-failure.sh", []string{"--title", "t", "--tags", long(501)}, nil, 1, "tags is 501"},
		{"rule too long", "record-heuristic.sh", []string{"--domain", "d", "--rule", long(501)}, nil, 1, "rule is 501"},
		{"source too long", "record-heuristic.sh", []string{"--domain", "d", "--rule", "r", "--source", long(501)}, nil, 1, "source is 501"},
		{"explanation too long", "record-heuristic.sh", []string{"--domain", "d", "--rule", "r", "--explanation", long(5001)}, nil, 1, "explanation is 5001"},
		{"severity 0", "record-failure.sh", []string{"--title", "t", "--severity", "0"}, nil, 1, "severity"},
		{"severity 6", "record-failure.sh", []string{"--title", "t", "--severity", "6"}, nil, 1, "severity"},
		{"severity 3.5", "record-failure.sh", []string{"--title", "t", "--severity", "3.5"}, nil, 1, "severity"},
		{"severity word", "record-failure.sh", []string{"--title", "t", "--severity", "huge"}, nil, 1, "severity"},
		{"severity by env", "record-failure.sh", []string{"--title", "t"}, []string{"FAILURE_SEVERITY=extreme"}, 1, "severity"},
		{"severity $(...)", "record-failure.sh", []string{"--title", "t", "--severity", "$(echo 3)"}, nil, 1, "severity"},
		{"confidence 1.5", "record-heuristic.sh", []string{"--domain", "d", "--rule", "r", "--confidence", "1.5"}, nil, 1, "confidence"},
		{"confidence 1.01", "record-heuristic.sh", []string{"--domain", "d", "--rule", "r", "--confidence", "1.01"}, nil, 1, "confidence"},
		{"confidence negative", "record-heuristic.sh", []string{"--domain", "d", "--rule", "r", "--confidence", "-0.1"}, nil, 1, "confidence"},
		{"confidence word", "record-heuristic.sh", []string{"--domain", "d", "--rule", "r", "--confidence", "sure"}, nil, 1, "confidence"},
		{"confidence 16 decimals", "record-heuristic.sh", []string{"--domain", "d", "--rule", "r", "--confidence", "0.1234567890123456"}, nil, 1, "confidence"},
		{"confidence exponent", "record-heuristic.sh", []string{"--domain", "d", "--rule", "r", "--confidence", "1e-1"}, nil, 1, "confidence"},
		{"no title", "record-failure.sh", []string{"--domain", "d"}, nil, 1, "title is required"},
		{"blank title", "record-success.sh", []string{"--title", " \t\n"}, nil, 1, "title is required"},
		{"empty title flag beats env", "record-failure.sh", []string{"--title", ""}, []string{"FAILURE_TITLE=t"}, 1, "title is required"},
		{"no rule", "record-heuristic.sh", []string{"--domain", "d"}, nil, 1, "rule is required"},
		{"no domain", "record-heuristic.sh", []string{"--rule", "r"}, nil, 1, "domain is required"},
		{"nothing, stdin not a terminal", "record-failure.sh", nil, nil, 1, "title is required"},
		{"invalid UTF-8", "record-failure.sh", []string{"--title", "a\xffb"}, nil, 1, "not valid UTF-8"},
		{"invalid UTF-8 surrogate", "record-heuristic.sh", []string{"--domain", "d", "--rule", "\xed\xa0\x80"}, nil, 1, "not valid UTF-8"},
		{"unknown flag", "record-failure.sh", []string{"--title", "t", "--colour", "red"}, nil, 2, "unknown flag --colour"},
		{"flag of another script", "record-heuristic.sh", []string{"--domain", "d", "--rule", "r", "--severity", "3"}, nil, 2, "unknown flag --severity"},
		{"missing value", "record-failure.sh", []string{"--title"}, nil, 2, "needs a value"},
		{"unknown flag, no value", "record-failure.sh", []string{"--bogus"}, nil, 2, "unknown flag --bogus"},
		{"root does not exist", "record-failure.sh", []string{"--title", "t", "--root", "/nonexistent/typo"}, nil, 2,
			"root /nonexistent/typo does not exist; to create it, run: elfsync init --root /nonexistent/typo"},
		{"stray argument", "record-failure.sh", []string{"--title", "t", "extra"}, nil, 2, "unexpected argument"},
		{"bad ELF_NOW", "record-failure.sh", []string{"--title", "t"}, []string{"ELF_NOW=yesterday"}, 1, "ELF_NOW"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			args := append([]string{"--root", root}, tt.args...)
			res := run(t, slices.Concat(baseEnv(root), tt.env), script(tt.script), args...)
			if res.code == 0 || tt.code != 0 && res.code != tt.code {
				t.Errorf("exit %d, want %d; stdout %q", res.code, tt.code, res.stdout)
			}
			if !strings.Contains(res.stderr, tt.stderr) {
				t.Errorf("stderr %q does not say %q", res.stderr, tt.stderr)
			}
			if res.stdout != "" {
				t.Errorf("stdout %q, want nothing", res.stdout)
			}
			for _, k := range kinds {
				if names := listDir(t, filepath.Join(root, "memory", k.folder)); len(names) != 0 {
					t.Errorf("files left behind: %q", names)
				}
			}
		})
	}
}

// TestRecordScriptsInputs checks where values come from: flags (both
// forms) over the environment over defaults, and the root's fallbacks.
func TestRecordScriptsInputs(t *testing.T) {
	tmp := t.TempDir()
	elfHome := filepath.Join(tmp, "elf-home")
	for _, r := range []string{"a", "b", "c", "elf-home", ".claude/emergent-learning"} {
		if err := os.MkdirAll(filepath.Join(tmp, r), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		script string
		args   []string
		env    []string
		path   string // the file's path under tmp
		want   frontmatter.Record
	}{
		{
			name: "flags win over env", script: "record-failure.sh",
			args: []string{"--root", filepath.Join(tmp, "a"), "--title=From flag", "--severity", "critical"},
			env:  []string{"FAILURE_TITLE=From env", "FAILURE_DOMAIN=envdomain", "FAILURE_TAGS=x, y", "FAILURE_SEVERITY=1"},
			path: "a/memory/failures/20261127_from-flag.md",
			want: frontmatter.Record{Type: "failure", Title: "From flag", Domain: "envdomain", Tags: []string{"x", "y"}, Severity: 5},
		},
		{
			name: "env and defaults, ELF_HOME", script: "record-success.sh",
			env:  []string{"ELF_HOME=" + elfHome, "SUCCESS_TITLE=It worked", "SUCCESS_SUMMARY=  first\n\nsecond  "},
			path: "elf-home/memory/successes/20261127_it-worked.md",
			want: frontmatter.Record{Type: "success", Title: "It worked", Summary: "first\n\nsecond", Severity: 3},
		},
		{
			name: "heuristic defaults, default root", script: "record-heuristic.sh",
			args: []string{"--domain", "git", "--rule", "Batch commits"},
			path: ".claude/emergent-learning/memory/heuristics/20261127_batch-commits.md",
			want: frontmatter.Record{Type: "heuristic", Title: "Batch commits", Rule: "Batch commits", Domain: "git",
				SourceType: "observation", Confidence: ptr(0.5)},
		},
		{
			name: "heuristic env", script: "record-heuristic.sh",
			args: []string{"--root", filepath.Join(tmp, "b"), "--confidence", "HIGH"},
			env: []string{"HEURISTIC_DOMAIN=sqlite", "HEURISTIC_RULE=Use WAL", "HEURISTIC_EXPLANATION=Readers do not block.",
				"HEURISTIC_CONFIDENCE=0.1", "HEURISTIC_SOURCE=failure", "HEURISTIC_TAGS=db"},
			path: "b/memory/heuristics/20261127_use-wal.md",
			want: frontmatter.Record{Type: "heuristic", Title: "Use WAL", Rule: "Use WAL", Domain: "sqlite",
				Explanation: "Readers do not block.", SourceType: "failure", Confidence: ptr(0.9), Tags: []string{"db"}},
		},
		{
			name: "ELF_NOW with an offset", script: "record-failure.sh",
			args: []string{"--root", filepath.Join(tmp, "c"), "--title", "late"},
			env:  []string{"ELF_NOW=2026-11-27T23:30:00-02:00"},
			path: "c/memory/failures/20261128_late.md",
			want: frontmatter.Record{Type: "failure", Title: "late", Severity: 3,
				Created: time.Date(2026, 11, 28, 1, 30, 0, 0, time.UTC)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, slices.Concat(baseEnv(tmp), tt.env), script(tt.script), tt.args...)
			want := filepath.Join(tmp, tt.path)
			if res.code != 0 || res.stdout != want+"\n" {
				t.Fatalf("exit %d, stdout %q, want %q; stderr %s", res.code, res.stdout, want, res.stderr)
			}
			if tt.want.Created.IsZero() {
				tt.want.Created, _ = time.Parse(time.RFC3339, now)
			}
			checkFile(t, filepath.Join(want, "../../.."), want, tt.want)
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestRecordScriptsHelp checks that --help prints the usage and exits 0.
func TestRecordScriptsHelp(t *testing.T) {
	for _, k := range kinds {
		root := t.TempDir()
		res := run(t, baseEnv(root), script(k.script), "--help")
		if res.code != 0 || !strings.Contains(res.stdout, "Usage: "+k.script) || !strings.Contains(res.stdout, k.env+"_") {
			t.Errorf("%s --help: exit %d, stdout %q", k.script, res.code, res.stdout)
		}
		if names := listDir(t, filepath.Join(root, "memory")); len(names) != 0 {
			t.Errorf("%s --help wrote %q", k.script, names)
		}
	}
}

// TestRecordScriptsCleanup makes the script fail or be killed after its
// temp file exists, through fake ln and sync commands first in PATH, and
// checks that the temp file goes and nothing else appears.
func TestRecordScriptsCleanup(t *testing.T) {
	tests := []struct {
		name, fake, body string
		code             int
		stderr           string
	}{
		{"ln fails", "ln", "echo 'ln: disk on fire' >&2; exit 1", 1, "disk on fire"},
		{"sync fails", "sync", "exit 1", 1, "cannot flush"},
		// The script's trap runs once the fake sync returns: no sleep.
		{"SIGTERM", "sync", `kill -TERM "$PPID"`, 143, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			bin := filepath.Join(root, "bin")
			if err := os.Mkdir(bin, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(bin, tt.fake), []byte("#!/bin/sh\n"+tt.body+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			env := baseEnv(root)
			for i, kv := range env {
				if strings.HasPrefix(kv, "PATH=") {
					env[i] = "PATH=" + bin + string(os.PathListSeparator) + strings.TrimPrefix(kv, "PATH=")
				}
			}
			res := run(t, env, script("record-failure.sh"), "--root", root, "--title", "t")
			if res.code != tt.code || !strings.Contains(res.stderr, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", res.code, res.stderr, tt.code, tt.stderr)
			}
			if names := listDir(t, filepath.Join(root, "memory", "failures")); len(names) != 0 {
				t.Errorf("left behind: %q", names)
			}
		})
	}
}

// TestRecordScriptsMatchGo runs the same input through each script and
// through `elfsync record`: same exit status, same name, same bytes.
func TestRecordScriptsMatchGo(t *testing.T) {
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	var cases []struct {
		k  kind
		in input
	}
	for _, k := range kinds {
		for i := 0; i < 100; i += 3 {
			cases = append(cases, struct {
				k  kind
				in input
			}{k, hostileInput(k, i, "/nonexistent/marker")})
		}
		for _, bad := range []map[string]string{
			{"title": long(201)}, {"title": "t", "severity": "7"}, {"title": "t", "tags": long(501)},
			{"rule": "r", "domain": "d", "confidence": "2"}, {"rule": "r"}, {"domain": "d", "rule": long(501)},
			{"title": "a\xffb"}, {"rule": "r", "domain": "d", "confidence": "0.1234567890123456"},
			{"rule": "r", "domain": "d", "source": long(501)}, {"rule": "r", "domain": "d", "source": long(500)},
			{"title": long(200), "summary": long(5000), "domain": long(100), "tags": long(500)},
		} {
			cases = append(cases, struct {
				k  kind
				in input
			}{k, input{fields: bad}})
		}
	}
	// A few cases at a time: each is two independent runs in their own
	// roots.
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, c := range cases {
		scriptRoot, goRoot := t.TempDir(), t.TempDir()
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			env := slices.Concat(baseEnv(scriptRoot), c.in.environ(c.k))
			s := run(t, env, script(c.k.script), c.in.args(scriptRoot)...)
			g := run(t, env, elfsyncBin, append([]string{"record", c.k.typ}, c.in.args(goRoot)...)...)
			if (s.code == 0) != (g.code == 0) {
				t.Errorf("case %d %s %q: script exit %d (%s), elfsync exit %d (%s)",
					i, c.k.typ, c.in.fields, s.code, s.stderr, g.code, g.stderr)
				return
			}
			if s.code != 0 {
				return
			}
			sp, gp := strings.TrimSpace(s.stdout), strings.TrimSpace(g.stdout)
			rs, err1 := filepath.Rel(scriptRoot, sp)
			rg, err2 := filepath.Rel(goRoot, gp)
			if err1 != nil || err2 != nil || rs != rg {
				t.Errorf("case %d: script wrote %s, elfsync %s", i, sp, gp)
				return
			}
			sb, err1 := os.ReadFile(sp)
			gb, err2 := os.ReadFile(gp)
			if err1 != nil || err2 != nil {
				t.Errorf("case %d: %v %v", i, err1, err2)
				return
			}
			if !bytes.Equal(sb, gb) {
				t.Errorf("case %d %s %q: bytes differ\nscript:\n%q\nelfsync:\n%q", i, c.k.typ, c.in.fields, sb, gb)
			}
		}()
	}
	wg.Wait()
}

// TestRecordShellcheck runs shellcheck over the scripts. CI installs
// shellcheck; elsewhere the test is skipped when it is missing.
func TestRecordShellcheck(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Skip("shellcheck is not installed (apt-get install shellcheck); CI runs it")
	}
	files := []string{"lib-record.sh", "record-failure.sh", "record-success.sh", "record-heuristic.sh"}
	out, err := exec.Command(sc, append([]string{"-x", "--severity=style"}, files...)...).CombinedOutput()
	if err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}
