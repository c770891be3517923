package frontmatter

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// FuzzParse checks that Parse never panics and returns either a record with
// a valid type or an error of a known kind, that its frontmatter scan agrees
// with adrg/frontmatter, and that simpleFields reads what yaml.v3 reads. It
// is seeded with the golden corpus; run it with
// `go test -fuzz=FuzzParse ./frontmatter`. Inputs it has failed on are kept
// in testdata/fuzz/FuzzParse and run by every `go test`.
func FuzzParse(f *testing.F) {
	for _, c := range loadCorpus(f) {
		f.Add(c.in.Data, c.in.Path)
	}
	f.Fuzz(func(t *testing.T, data []byte, p string) {
		in := Input{Path: p, Data: data, ModTime: time.Unix(1700000000, 0)}
		checkResult(t, in)
		if len(data) > MaxFrontmatterSize || strings.ContainsRune(string(data), 0) {
			return
		}
		text := strings.ReplaceAll(strings.TrimPrefix(string(data), "\ufeff"), "\r\n", "\n")
		checkSplit(t, text)
		if fm, err := split(text); err == nil && fm.found {
			checkSimple(t, []byte(text[fm.yamlStart:fm.yamlEnd]))
		}
		checkSimple(t, data) // the whole input as a frontmatter block
	})
}

// checkSimple fails if simpleFields accepts yml but reads it differently
// from yaml.v3: other keys, key lines, node kinds, tags or texts, other
// decoded values, or another error.
func checkSimple(t *testing.T, yml []byte) {
	t.Helper()
	sf, ok, serr := simpleFields(yml, 0)
	if !ok {
		return
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(yml, &doc); err != nil {
		t.Fatalf("simpleFields accepts %q, yaml.v3 refuses it: %v", yml, err)
	}
	yf, yerr := yamlFields(&doc, fence{})
	if fmt.Sprint(serr) != fmt.Sprint(yerr) {
		t.Fatalf("%q: simpleFields error %v, yaml.v3 path error %v", yml, serr, yerr)
	}
	if serr != nil {
		return
	}
	if len(sf) != len(yf) {
		t.Fatalf("%q: simpleFields has %d keys, yaml.v3 %d", yml, len(sf), len(yf))
	}
	for k, a := range sf {
		b, ok := yf[k]
		if !ok || a.name != b.name || a.line != b.line {
			t.Fatalf("%q: key %q: simpleFields %q line %d, yaml.v3 %q line %d", yml, k, a.name, a.line, b.name, b.line)
		}
		if d := nodeDiff(a.val, resolve(b.val)); d != "" {
			t.Fatalf("%q: key %q: %s", yml, k, d)
		}
	}
	se, serr := extra(sf)
	ye, yerr := extra(yf)
	if se != ye || fmt.Sprint(serr) != fmt.Sprint(yerr) {
		t.Fatalf("%q: decoded values differ:\nsimpleFields %s %v\nyaml.v3      %s %v", yml, se, serr, ye, yerr)
	}
}

func nodeDiff(a, b *yaml.Node) string {
	if a.Kind != b.Kind || a.ShortTag() != b.ShortTag() || a.Value != b.Value || len(a.Content) != len(b.Content) {
		return fmt.Sprintf("simpleFields %v %s %q (%d items), yaml.v3 %v %s %q (%d items)",
			a.Kind, a.ShortTag(), a.Value, len(a.Content), b.Kind, b.ShortTag(), b.Value, len(b.Content))
	}
	for i := range a.Content {
		if d := nodeDiff(a.Content[i], resolve(b.Content[i])); d != "" {
			return d
		}
	}
	return ""
}
