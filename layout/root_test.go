package layout

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveRoot(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home directory")
	}
	cwd, _ := os.Getwd()
	tests := []struct {
		name, flag string
		env        map[string]string
		want       string
	}{
		{"flag wins", "/f", map[string]string{"ELF_HOME": "/h", "ELF_BASE_PATH": "/b"}, "/f"},
		{"ELF_HOME next", "", map[string]string{"ELF_HOME": "/h", "ELF_BASE_PATH": "/b"}, "/h"},
		{"ELF_BASE_PATH next", "", map[string]string{"ELF_BASE_PATH": "/b"}, "/b"},
		{"the framework's home last", "", nil, filepath.Join(home, ".claude", "emergent-learning")},
		{"relative made absolute", "rel", nil, filepath.Join(cwd, "rel")},
		{"absolute kept", "/x/../y", nil, "/y"},
	}
	for _, tt := range tests {
		got, err := ResolveRoot(tt.flag, func(k string) string { return tt.env[k] })
		if want, _ := filepath.Abs(tt.want); err != nil || got != want {
			t.Errorf("%s: ResolveRoot = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func TestCheckRoot(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, root, want string // want: a part of the message; "" for no error
	}{
		{"a folder", dir, ""},
		{"missing", filepath.Join(dir, "no such"), "does not exist; to create it, run: elfsync init --root '" + filepath.Join(dir, "no such") + "'"},
		{"a file", file, "is a file, not a folder"},
	}
	for _, tt := range tests {
		err := CheckRoot(tt.root)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: CheckRoot = %v, want nil", tt.name, err)
		case tt.want != "" && (!errors.Is(err, ErrNoRoot) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: CheckRoot = %v, want ErrNoRoot saying %q", tt.name, err, tt.want)
		}
	}
	if err := NoMemoryError(dir); !errors.Is(err, ErrNoRoot) || !strings.Contains(err.Error(), "has no memory folder yet") {
		t.Errorf("NoMemoryError = %v, want ErrNoRoot saying so", err)
	}
}

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/home/me/.claude/emergent-learning", "/home/me/.claude/emergent-learning"},
		{"/a b", "'/a b'"},
		{"it's", `'it'\''s'`},
		{"", "''"},
		{"$HOME", "'$HOME'"},
	}
	for _, tt := range tests {
		if got := ShellQuote(tt.in); got != tt.want {
			t.Errorf("ShellQuote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
