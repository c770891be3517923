package committer

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBuildMessage(t *testing.T) {
	tests := []struct {
		name    string
		changes []change
		subject string
	}{
		{
			name: "added per folder, most first",
			changes: []change{
				{Status: 'A', Path: "memory/heuristics/h.md"},
				{Status: 'A', Path: "memory/failures/a.md"},
				{Status: 'A', Path: "memory/failures/deep/b.md"},
				{Status: 'M', Path: "memory/failures/c.md"},
				{Status: 'M', Path: "memory/failures/d.md"},
				{Status: 'D', Path: "memory/successes/e.md"},
			},
			subject: "memory: +2 failures, +1 heuristics, ~2 updated, -1 removed",
		},
		{
			name:    "rename",
			changes: []change{{Status: 'R', From: "memory/a/x.md", Path: "memory/b/x.md"}},
			subject: "memory: 1 renamed",
		},
		{
			name:    "root files",
			changes: []change{{Status: 'A', Path: "memory/x.md"}, {Status: 'A', Path: "memory/y.md"}, {Status: 'T', Path: "memory/z"}},
			subject: "memory: +2 other, ~1 updated",
		},
		{
			name: "many folders",
			changes: func() []change {
				var cs []change
				for i := range 8 {
					cs = append(cs, change{Status: 'A', Path: fmt.Sprintf("memory/f%d/x.md", i)})
				}
				return cs
			}(),
			subject: "memory: +1 f0, +1 f1, +1 f2, +1 f3, +1 f4, +1 f5, +2 in 2 more folders",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := buildMessage(tt.changes, nil)
			if got != tt.subject {
				t.Errorf("subject = %q, want %q", got, tt.subject)
			}
		})
	}
}

func TestBuildMessageBody(t *testing.T) {
	cs := []change{
		{Status: 'A', Path: "memory/failures/a.md"},
		{Status: 'R', From: "memory/a.md", Path: "memory/b.md"},
		{Status: 'D', Path: "memory/gone.md"},
	}
	describe := func(p string) string {
		if p == "memory/gone.md" {
			return ""
		}
		return "Title\nof " + p
	}
	_, body := buildMessage(cs, describe)
	want := "A memory/failures/a.md — Title of memory/failures/a.md\n" +
		"R memory/a.md -> memory/b.md — Title of memory/b.md\n" +
		"D memory/gone.md\n"
	if body != want {
		t.Errorf("body =\n%s\nwant\n%s", body, want)
	}

	var many []change
	for i := range maxBodyLines + 5 {
		many = append(many, change{Status: 'A', Path: fmt.Sprintf("memory/x/%d.md", i)})
	}
	_, body = buildMessage(many, nil)
	ls := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	if len(ls) != maxBodyLines+1 || ls[len(ls)-1] != "… and 5 more" {
		t.Errorf("capped body has %d lines, last %q", len(ls), ls[len(ls)-1])
	}
}

func TestParsePorcelain(t *testing.T) {
	r := repo{prefix: "elf/memory/"}
	out := []byte(" M elf/memory/a.md\x00?? elf/memory/new dir/b.md\x00R  elf/memory/c2.md\x00elf/memory/c.md\x00 D elf/memory/d.md\x00")
	got := parsePorcelain(out, r)
	want := []string{"memory/a.md", "memory/c.md", "memory/c2.md", "memory/d.md", "memory/new dir/b.md"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParseNameStatus(t *testing.T) {
	r := repo{}
	out := []byte("A\x00failures/a.md\x00R100\x00x.md\x00y.md\x00D\x00z.md\x00")
	got := parseNameStatus(out, r)
	want := []change{
		{Status: 'A', Path: "memory/failures/a.md"},
		{Status: 'R', From: "memory/x.md", Path: "memory/y.md"},
		{Status: 'D', Path: "memory/z.md"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// BenchmarkCommitBurst commits a burst of 10,000 new small notes with one
// CommitAll and reports the git time per note (target: at most 5 ms).
func BenchmarkCommitBurst(b *testing.B) {
	const notes = 10000
	var total time.Duration
	for range b.N {
		b.StopTimer()
		root := b.TempDir()
		c, _ := newCommitter(b, root, testOpts{})
		folders := []string{"failures", "successes", "heuristics", "observations"}
		for i := range notes {
			rel := fmt.Sprintf("memory/%s/%05d.md", folders[i%len(folders)], i)
			writeFile(b, root, rel, note(rel))
		}
		b.StartTimer()
		start := time.Now()
		res, err := c.CommitAll(context.Background())
		total += time.Since(start)
		b.StopTimer()
		if err != nil || res.Added != notes {
			b.Fatalf("CommitAll = %d added, %v", res.Added, err)
		}
		if got := commitCount(b, filepath.Join(root, "memory")); got != 2 {
			b.Fatalf("commits = %d, want 2", got)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N*notes), "ms/note")
}

// BenchmarkCommitBurstGitFloor is the floor for BenchmarkCommitBurst: plain
// `git add -A` + `git commit` of the same 10,000 notes in a fresh repository.
func BenchmarkCommitBurstGitFloor(b *testing.B) {
	const notes = 10000
	var total time.Duration
	for range b.N {
		b.StopTimer()
		mem := filepath.Join(b.TempDir(), "memory")
		folders := []string{"failures", "successes", "heuristics", "observations"}
		for i := range notes {
			rel := fmt.Sprintf("%s/%05d.md", folders[i%len(folders)], i)
			writeFile(b, mem, rel, note(rel))
		}
		git(b, mem, "init", "-q")
		b.StartTimer()
		start := time.Now()
		git(b, mem, "add", "-A")
		git(b, mem, "-c", "gc.auto=0", "commit", "-q", "--no-verify", "-m", "burst")
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N*notes), "ms/note")
}
