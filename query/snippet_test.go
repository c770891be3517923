package query

import (
	"strings"
	"testing"
)

// BenchmarkSnippet: a snippet tests every word of a record's body, ten
// records a search.
func BenchmarkSnippet(b *testing.B) {
	var body strings.Builder
	for i := range 700 {
		body.WriteString([]string{"The ", "commit ", "**waited** ", "for ", "a ", "`lock`, ", "then ", "timed ", "out. "}[i%9])
		if i%60 == 59 {
			body.WriteString("\n\n")
		}
	}
	m, err := buildMatch("commit timeout")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		snippet(m, "A summary of it.", "", "", body.String())
	}
}

func TestSnippetMarks(t *testing.T) {
	m, err := buildMatch("lock* Timeout")
	if err != nil {
		t.Fatal(err)
	}
	got := snippet(m, "", "The **Locking** step hit a `timeout:` after 30 s.\n# Title line\n")
	want := "The **Locking** step hit a **timeout:** after 30 s."
	if got != want {
		t.Errorf("snippet = %q; want %q", got, want)
	}
}
