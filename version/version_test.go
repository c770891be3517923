package version

import (
	"runtime"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	old := Version
	t.Cleanup(func() { Version = old })
	Version = "v9.9.9"
	s := String()
	if !strings.HasPrefix(s, "elfsync v9.9.9 (commit ") || !strings.HasSuffix(s, runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH+")") {
		t.Errorf("String() = %q", s)
	}
}
