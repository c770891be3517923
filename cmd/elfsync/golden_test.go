package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The --json outputs are a contract (README, DESIGN card): scripts read
// their keys. These tests compare the output's shape with a literal file in
// testdata, not with the Go struct that produces it, so renaming a key,
// dropping one or changing its type fails here.
//
// A shape file is JSON in which each value names the type of the value
// found there: "bool", "number" or "string"; an object for an object; a
// one-element array for an array whose elements have that shape. A key
// ending in "?" may be missing or null; every other key must be there.

// decodeJSON decodes s into v or fails the test.
func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode JSON: %v\n%s", err, s)
	}
}

// checkShape fails the test unless the JSON document got has the shape in
// testdata/name.
func checkShape(t *testing.T, name, got string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var want, doc any
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	decodeJSON(t, got, &doc)
	for _, p := range shapeErrors("", want, doc) {
		t.Errorf("%s: %s\n%s", name, p, got)
	}
}

func shapeErrors(at string, want, got any) []string {
	switch w := want.(type) {
	case string:
		if jsonType(got) != w {
			return []string{fmt.Sprintf("%s is %s, want %s", at, jsonType(got), w)}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s is %s, want array", at, jsonType(got))}
		}
		var errs []string
		for i, e := range g {
			errs = append(errs, shapeErrors(fmt.Sprintf("%s[%d]", at, i), w[0], e)...)
		}
		return errs
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s is %s, want object", at, jsonType(got))}
		}
		var errs []string
		for _, k := range slices.Sorted(maps.Keys(w)) {
			key, optional := strings.CutSuffix(k, "?")
			v, present := g[key]
			switch {
			case !present || v == nil:
				if !optional {
					errs = append(errs, fmt.Sprintf("%s.%s is missing", at, key))
				}
			default:
				errs = append(errs, shapeErrors(at+"."+key, w[k], v)...)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(g)) {
			if _, ok := w[k]; !ok {
				if _, ok := w[k+"?"]; !ok {
					errs = append(errs, fmt.Sprintf("%s.%s is not in the contract", at, k))
				}
			}
		}
		sort.Strings(errs)
		return errs
	}
	return nil
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func TestShapeCheckFails(t *testing.T) {
	want := map[string]any{"a": "number", "b?": "string", "c": []any{"string"}}
	tests := []struct {
		doc  string
		errs int
	}{
		{`{"a": 1, "c": []}`, 0},
		{`{"a": 1, "b": null, "c": ["x"]}`, 0},
		{`{"a": "1", "c": []}`, 1},       // type changed
		{`{"A": 1, "c": []}`, 2},         // renamed: missing and unknown
		{`{"a": 1, "c": [1]}`, 1},        // element type
		{`{"a": 1, "c": [], "d": 0}`, 1}, // a key not in the contract
	}
	for _, tt := range tests {
		var doc any
		decodeJSON(t, tt.doc, &doc)
		if got := shapeErrors("", want, doc); len(got) != tt.errs {
			t.Errorf("%s: %q, want %d errors", tt.doc, got, tt.errs)
		}
	}
}

// TestJSONOutputShapes runs scan and status on a root with every kind of
// finding (an invalid file, drift, a commit) and checks their --json
// against testdata/*.shape.json.
func TestJSONOutputShapes(t *testing.T) {
	env := gitEnv(t)
	root := t.TempDir()
	writeFile(t, root, "failures/good.md", note("good"))
	writeFile(t, root, "failures/bad.md", "---\ntitle: [unclosed\n---\n")
	r := elfsync(t, env, "scan", "--root", root, "--json")
	if r.code != 0 {
		t.Fatalf("scan exit %d: %s", r.code, r.stderr)
	}
	checkShape(t, "scan.shape.json", r.stdout)
	if r = elfsync(t, env, "scan", "--root", root, "--json", "--no-git"); r.code != 0 {
		t.Fatalf("scan --no-git exit %d: %s", r.code, r.stderr)
	}
	checkShape(t, "scan.shape.json", r.stdout)

	st := elfsync(t, env, "status", "--root", root, "--json")
	checkShape(t, "status.shape.json", st.stdout)
	writeFile(t, root, "failures/new.md", note("new"))
	st = elfsync(t, env, "status", "--root", root, "--json")
	if st.code != 1 {
		t.Errorf("status with drift: exit %d, want 1", st.code)
	}
	checkShape(t, "status.shape.json", st.stdout)
	var rep map[string]any
	decodeJSON(t, st.stdout, &rep)
	if m, _ := rep["missing_rows"].([]any); len(m) != 1 {
		t.Errorf("missing_rows = %v, want the new file", rep["missing_rows"])
	}
}
