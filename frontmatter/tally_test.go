package frontmatter

import (
	"reflect"
	"testing"
)

func TestTallyMergeCountsEveryIncrementOnce(t *testing.T) {
	// Two hosts start from an adopted counter of 4 and bump once each: the
	// files differ (each names its host), and the merge counts 6.
	a, err := Bump(nil, 4, "h-a", 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Bump(nil, 4, "h-b", 1)
	if err != nil {
		t.Fatal(err)
	}
	m := MergeTally(a, b)
	if got := m.Sum(); got != 6 {
		t.Fatalf("merged sum = %d (%v), want 6", got, m)
	}
	// Merging again, in any order, changes nothing.
	if !reflect.DeepEqual(MergeTally(m, a), m) || !reflect.DeepEqual(MergeTally(b, m), m) {
		t.Errorf("merge not idempotent: %v", m)
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name  string
		t     Tally
		plain int64
		want  Tally
	}{
		{"agree", Tally{"h-a": 2}, 2, Tally{"h-a": 2}},
		{"hand edit up", Tally{"h-a": 2}, 5, Tally{"h-a": 2, "base": 3}},
		{"hand edit down", Tally{"h-a": 2, "base": 3}, 4, Tally{"h-a": 2, "base": 2}},
		{"no tally", nil, 3, Tally{"base": 3}},
		{"zero", nil, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.t, tt.plain); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Normalize(%v, %d) = %v, want %v", tt.t, tt.plain, got, tt.want)
			}
		})
	}
}

func TestBumpDecreaseNeverNegative(t *testing.T) {
	got, err := Bump(Tally{"h-a": 1}, 1, "h-a", -5)
	if err != nil {
		t.Fatal(err)
	}
	if got.Sum() != 0 {
		t.Errorf("sum = %d (%v), want 0", got.Sum(), got)
	}
	if _, err := Bump(nil, 0, "bad host", 1); err == nil {
		t.Error("Bump accepted a bad host id")
	}
}

func TestParseCounters(t *testing.T) {
	tests := []struct {
		name      string
		fm        string
		validated int64
		by        Tally
		wantErr   bool
	}{
		{"plain only", "times_validated: 3", 3, nil, false},
		{"tally only", "validated_by: {h-a: 2, base: 1}", 3, Tally{"h-a": 2, "base": 1}, false},
		{"plain wins", "times_validated: 9\nvalidated_by: {h-a: 2}", 9, Tally{"h-a": 2}, false},
		{"blank plain", "times_validated:\nvalidated_by: {h-a: 2}", 2, Tally{"h-a": 2}, false},
		{"negative", "times_validated: -1", 0, nil, true},
		{"bad tally", "validated_by: [1, 2]", 0, nil, true},
		{"bad host", "validated_by: {\"a b\": 1}", 0, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse(Input{Path: "heuristics/x.md", Data: []byte("---\n" + tt.fm + "\n---\nbody\n")})
			if tt.wantErr {
				if err == nil {
					t.Fatalf("no error, got %+v", r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.TimesValidated != tt.validated || !reflect.DeepEqual(r.ValidatedBy, tt.by) {
				t.Errorf("got %d %v, want %d %v", r.TimesValidated, r.ValidatedBy, tt.validated, tt.by)
			}
			if r.Extra != "" {
				t.Errorf("counters leaked into Extra: %s", r.Extra)
			}
		})
	}
}
