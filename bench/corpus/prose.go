package corpus

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode"
)

// Real English prose, offline: the comments of the Go toolchain's own
// sources ($GOROOT/src), which every machine that builds elfsync has. They
// are written by many people over many years about many subjects, so their
// words follow a natural, long-tailed frequency distribution (tens of
// thousands of distinct words, against the 56 of the small vocabulary).
//
// Only sentences that read as prose are kept: code examples (indented
// comment lines), directives, copyright headers and anything with code
// punctuation are dropped, and Go doc links ([Name], [pkg.Name]) keep
// their text without the brackets, so no markdown link reference is left
// (a peer that resolves [Name] shortcut links would otherwise spend its
// time on them, which real notes do not make it do).
//
// The pool is sorted and deduplicated, so it depends only on the Go
// version's sources, not on the order a walk meets them: the same Go
// version and seed give the same corpus, byte for byte.

var (
	proseOnce sync.Once
	prosePool []string
	proseErr  error
)

// minSentences is the smallest pool that still looks like a language; a
// GOROOT with fewer usable sentences (a stripped install) is refused.
const minSentences = 5000

// Sentences returns the pool of prose sentences drawn from the comments of
// the Go sources: $GOROOT/src, where GOROOT is the environment's, else
// what `go env GOROOT` prints, else the toolchain that built this program.
// It reads the sources once per process.
func Sentences() ([]string, error) {
	proseOnce.Do(func() {
		prosePool, proseErr = readSentences(filepath.Join(goroot(), "src"))
	})
	return prosePool, proseErr
}

func goroot() string {
	if g := os.Getenv("GOROOT"); g != "" {
		return g
	}
	if out, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
		if g := strings.TrimSpace(string(out)); g != "" {
			return g
		}
	}
	return runtime.GOROOT() //nolint:staticcheck // the last resort when no go command is on PATH
}

func readSentences(src string) ([]string, error) {
	seen := map[string]struct{}{}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "testdata", "vendor":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		return commentSentences(p, seen)
	})
	if err != nil {
		return nil, fmt.Errorf("read prose from the Go sources in %s: %w", src, err)
	}
	if len(seen) < minSentences {
		return nil, fmt.Errorf("read prose from the Go sources in %s: only %d sentences (want %d); use the small vocabulary", src, len(seen), minSentences)
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	slices.Sort(out)
	return out, nil
}

// commentSentences adds the prose sentences of one Go file's line
// comments to seen. Consecutive comment lines form a paragraph; a blank
// comment line, an indented (code) line or a non-comment line ends it.
func commentSentences(path string, seen map[string]struct{}) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	var para strings.Builder
	flush := func() {
		if para.Len() > 0 {
			for _, s := range splitSentences(para.String()) {
				if s, ok := cleanSentence(s); ok {
					seen[s] = struct{}{}
				}
			}
			para.Reset()
		}
	}
	for sc.Scan() {
		line := strings.TrimLeft(sc.Text(), " \t")
		text, ok := strings.CutPrefix(line, "//")
		switch {
		case !ok:
			flush()
		case strings.HasPrefix(text, "\t") || strings.HasPrefix(text, "  ") || strings.TrimSpace(text) == "":
			flush() // code in a doc comment, or a paragraph break
		case !strings.HasPrefix(text, " "):
			flush() // //go:build, //line, //export and other directives
		default:
			if para.Len() > 0 {
				para.WriteByte(' ')
			}
			para.WriteString(strings.TrimSpace(text))
		}
	}
	flush()
	if err := sc.Err(); err != nil && !errors.Is(err, bufio.ErrTooLong) {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// splitSentences cuts a paragraph after ". ", "? " and "! " when the next
// word starts with a capital letter.
func splitSentences(p string) []string {
	var out []string
	start := 0
	for i := 0; i+2 < len(p); i++ {
		c := p[i]
		if (c == '.' || c == '?' || c == '!') && p[i+1] == ' ' && p[i+2] >= 'A' && p[i+2] <= 'Z' {
			out = append(out, p[start:i+1])
			start = i + 2
		}
	}
	return append(out, p[start:])
}

var (
	docLink  = regexp.MustCompile(`\[\*?([A-Za-z][A-Za-z0-9_.]*)\]`)
	badProse = regexp.MustCompile("[{}=;<>|\\\\`_*&#$%@^~\\[\\]]|://|\\.\\.|\\b(TODO|BUG|Copyright|Code generated|DO NOT EDIT|[a-z]+[A-Z][a-zA-Z]*)\\b")
)

// cleanSentence strips doc links and reports whether s reads as an English
// sentence: 6 to 40 words, a capital first letter, a full stop at the end,
// no code punctuation, no camelCase identifiers, letters mostly.
func cleanSentence(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "[]") {
		return "", false // a slice type, not a link
	}
	s = docLink.ReplaceAllString(s, "$1")
	if n := len(strings.Fields(s)); n < 6 || n > 40 {
		return "", false
	}
	if s[0] < 'A' || s[0] > 'Z' || !strings.HasSuffix(s, ".") || strings.HasSuffix(s, "e.g.") || strings.HasSuffix(s, "i.e.") {
		return "", false
	}
	if badProse.MatchString(s) || strings.Count(s, "(") != strings.Count(s, ")") || strings.Count(s, `"`)%2 != 0 {
		return "", false
	}
	letters := 0
	for _, r := range s {
		switch {
		case r > unicode.MaxASCII:
			return "", false
		case unicode.IsLetter(r) || r == ' ':
			letters++
		}
	}
	if letters*10 < len(s)*9 {
		return "", false // mostly digits and punctuation
	}
	return s, true
}
