package record

import (
	"fmt"
	"strings"
	"time"
)

// EnvVar returns the environment variable the scripts read a field of typ
// from: FAILURE_TITLE for failure's title.
func EnvVar(typ, field string) string { return Env(typ) + "_" + strings.ToUpper(field) }

// Values returns the raw values of typ's fields the way the scripts take
// them: a given value (a flag) wins, else the field's environment variable
// (EnvVar) read with getenv; "" for neither.
func Values(typ string, given map[string]string, getenv func(string) string) (map[string]string, error) {
	fields, err := Fields(typ)
	if err != nil {
		return nil, err
	}
	in := make(map[string]string, len(fields))
	for _, f := range fields {
		v, ok := given[f.Name]
		if !ok {
			v = getenv(EnvVar(typ, f.Name))
		}
		in[f.Name] = v
	}
	return in, nil
}

// Now returns the created time of a new record: $ELF_NOW (RFC 3339, read
// with getenv; tests fix the time with it) when set, else now.
func Now(getenv func(string) string, now time.Time) (time.Time, error) {
	v := getenv("ELF_NOW")
	if v == "" {
		return now, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("ELF_NOW %q is not an RFC 3339 time", v)
	}
	return t, nil
}
