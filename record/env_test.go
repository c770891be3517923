package record

import (
	"maps"
	"testing"
	"time"
)

func TestValues(t *testing.T) {
	env := map[string]string{"FAILURE_TITLE": "from env", "FAILURE_DOMAIN": "env-domain", "HEURISTIC_RULE": "r"}
	getenv := func(k string) string { return env[k] }
	got, err := Values("failure", map[string]string{"domain": "flag-domain", "tags": ""}, getenv)
	want := map[string]string{"title": "from env", "domain": "flag-domain", "severity": "", "tags": "", "summary": ""}
	if err != nil || !maps.Equal(got, want) {
		t.Errorf("Values(failure) = %v, %v; want %v (a given value wins, even empty)", got, err, want)
	}
	if _, err := Values("note", nil, getenv); err == nil {
		t.Error("Values(note) = nil error, want unknown type")
	}
}

func TestNow(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name, env string
		want      time.Time
		ok        bool
	}{
		{"unset", "", now, true},
		{"fixed", "2026-11-01T09:30:00Z", time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC), true},
		{"bad", "yesterday", time.Time{}, false},
	}
	for _, tt := range tests {
		got, err := Now(func(string) string { return tt.env }, now)
		if !got.Equal(tt.want) || (err == nil) != tt.ok {
			t.Errorf("%s: Now = %v, %v; want %v, ok %v", tt.name, got, err, tt.want, tt.ok)
		}
	}
}
