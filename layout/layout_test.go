package layout

import (
	"path"
	"testing"
)

func TestTypeTable(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"failure", TypeFailure}, {"Failures", TypeFailure}, {" successes ", TypeSuccess},
		{"HEURISTIC", TypeHeuristic}, {"observations", TypeObservation},
		{"experiment", TypeExperiment}, {"decisions", TypeDecision},
		{"note", ""}, {"", ""},
	}
	for _, tt := range tests {
		if got := TypeWord(tt.in); got != tt.want {
			t.Errorf("TypeWord(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, k := range Kinds {
		if got := Folder(k.Type); got != k.Folder {
			t.Errorf("Folder(%q) = %q, want %q", k.Type, got, k.Folder)
		}
		if got := TypeWord(k.Folder); got != k.Type {
			t.Errorf("TypeWord(%q) = %q, want %q", k.Folder, got, k.Type)
		}
	}
	if got := Folder("note"); got != "" {
		t.Errorf("Folder(note) = %q, want empty", got)
	}
}

func TestTypeOfPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"failures/x.md", TypeFailure},
		{"heuristics/git/deep/x.md", TypeHeuristic},
		{"x.md", ""},
		{"/failures/x.md", ""},
		{"notes/x.md", ""},
	}
	for _, tt := range tests {
		if got := TypeOfPath(tt.in); got != tt.want {
			t.Errorf("TypeOfPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIgnored(t *testing.T) {
	tests := []struct {
		rel  string
		want bool
	}{
		{"failures/x.md", false},
		{"failures/.x.md.swp", true},
		{"failures/x.md~", true},
		{"failures/4913", true},
		{"failures/#x.md#", true},
		{"failures/.#x.md", true},
		{"failures/.a.1.0.tmp", true},
		{"failures/a.tmp", true},
		{".git/HEAD", true},
		{"index.db", true},
		{"index.db-wal", true},
		{"index.db-shm", true},
		{"index.db-journal", true},
		{InstanceLockFile, true},
		{"#", false},
		{"index.dbx", false},
	}
	for _, tt := range tests {
		if got := Ignored(tt.rel); got != tt.want {
			t.Errorf("Ignored(%q) = %v, want %v", tt.rel, got, tt.want)
		}
	}
	if !IsRecord("failures/X.MD") || IsRecord("failures/x.png") || IsRecord("failures/.x.md") {
		t.Error("IsRecord: want .md files that are not ignored")
	}
	// IsRecordIn is IsRecord for a path whose folder is not ignored.
	for _, rel := range []string{"x.md", "X.MD", "README.md", "readme.MD", "golden-rules.md", "Golden-Rules.md", "a/golden-rules.md",
		"a/README.md", "a/x.md", "a/b/x.Md", "a/.x.md", "a/x.md~", "a/x.md.swp", "a/#x.md#", "a/index.db.md", "index.db",
		"a/x.txt", "a/x", "a/.md", "a/x.md.tmp", "4913", "a/b.md/c.md"} {
		name := path.Base(rel)
		if got, want := IsRecordIn(rel, name), IsRecord(rel); got != want {
			t.Errorf("IsRecordIn(%q, %q) = %v, IsRecord %v", rel, name, got, want)
		}
	}
	if RootRel("failures/x.md") != "memory/failures/x.md" || RootRel("") != "memory" {
		t.Error("RootRel")
	}
}
