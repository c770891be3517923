package query

import (
	"bytes"
	"testing"
)

func TestWriteHits(t *testing.T) {
	hits := []Hit{{Rank: 1, Item: Item{Type: "failure", Title: "db locked", Path: "memory/failures/a.md", Domain: "sqlite", Created: "2026-11-01T10:00:00Z", Ref: "failure:a"}, Snippet: "the **lock**"}}
	var b bytes.Buffer
	WriteHits(&b, hits)
	want := " 1. failure     db locked\n    memory/failures/a.md  (sqlite; 2026-11-01; failure:a)\n    the **lock**\n"
	if got := b.String(); got != want {
		t.Errorf("WriteHits:\ngot  %q\nwant %q", got, want)
	}
	b.Reset()
	if err := WriteHitsJSON(&b, "nothing", nil); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "{\n  \"query\": \"nothing\",\n  \"hits\": []\n}\n"; got != want {
		t.Errorf("WriteHitsJSON of no hits:\ngot  %q\nwant %q", got, want)
	}
}
