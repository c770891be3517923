package query

import (
	"fmt"
	"strconv"
	"time"
)

// ParseSince reads a --since value into Query.Since: a date (2026-11-01),
// an RFC 3339 time, or a duration back from now (Go durations, plus d for
// days and w for weeks: 36h, 7d, 2w).
func ParseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if n := len(s); n > 1 && (s[n-1] == 'd' || s[n-1] == 'w') {
		if v, err := strconv.Atoi(s[:n-1]); err == nil && v >= 0 {
			day := 24 * time.Hour
			if s[n-1] == 'w' {
				day *= 7
			}
			return now.Add(-time.Duration(v) * day), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want a date (2026-11-01), an RFC 3339 time or a duration (36h, 7d, 2w)", s)
}
