package query

import (
	"testing"
	"time"
)

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, in string
		want     time.Time
		wantErr  bool
	}{
		{"date", "2026-11-01", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), false},
		{"rfc3339", "2026-11-02T03:04:05Z", time.Date(2026, 11, 2, 3, 4, 5, 0, time.UTC), false},
		{"days", "7d", now.Add(-7 * 24 * time.Hour), false},
		{"weeks", "2w", now.Add(-14 * 24 * time.Hour), false},
		{"hours", "36h", now.Add(-36 * time.Hour), false},
		{"negative", "-3h", time.Time{}, true},
		{"negative days", "-3d", time.Time{}, true},
		{"word", "yesterday", time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSince(tt.in, now)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseSince(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if !got.Equal(tt.want) {
				t.Errorf("ParseSince(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
