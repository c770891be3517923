package status

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emergent-learning/elfsync/committer"
	"github.com/emergent-learning/elfsync/indexer"
)

// gitRun runs git in dir as a person would and returns its trimmed output.
func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "GIT_AUTHOR_DATE=2020-01-01T00:00:00Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return strings.TrimSpace(string(out))
}

// isolateGit gives the test's git processes (and elfsync's) a HOME of
// their own with a known identity and no system configuration.
func isolateGit(t *testing.T) {
	home := t.TempDir()
	cfg := "[user]\n\tname = Test Person\n\temail = person@example.com\n[init]\n\tdefaultBranch = main\n"
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "xdg"))
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	for _, k := range []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// setup is a repository a case of TestStatusFromIndexIsGits changes.
type setup struct {
	root, mem, top string // top: the work tree's top level
}

// past is when the test's files were last written, long before any index
// git writes in the test: none of them is racily clean unless a case
// makes it so.
var past = time.Now().Add(-time.Hour).Truncate(time.Second).Add(123456789)

// put writes a file under dir (slash path), dated past.
func put(t *testing.T, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, past, past); err != nil {
		t.Fatal(err)
	}
}

// indexLater dates the index a few seconds ahead, as if git wrote it
// then: files the case just wrote (a link, a merge's) are not racily
// clean.
func indexLater(t *testing.T, s setup) {
	t.Helper()
	at := time.Now().Add(3 * time.Second)
	if err := os.Chtimes(filepath.Join(s.top, ".git", "index"), at, at); err != nil {
		t.Fatal(err)
	}
}

const elfsyncIgnore = "# Written by elfsync\nindex.db*\n.elfsync*\n*.swp\n*.swx\n*~\n4913\n.#*\n#*#\n*.tmp\n"

// TestStatusFromIndexIsGits builds real repositories in many states and
// checks that what status reports uncommitted with the walk (the fast
// path, when it decides) is what git status says (ReadStatus, which always
// runs it), and that the fast path decides in the clean states.
func TestStatusFromIndexIsGits(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	isolateGit(t)
	// base makes root/memory with notes (names that sort around "/"),
	// memory/.gitignore, an index.db and a swap file, commits it, and
	// leaves the index written after every file.
	base := func(t *testing.T, shared bool, initArgs ...string) setup {
		root := t.TempDir()
		mem := filepath.Join(root, "memory")
		top := mem
		if shared {
			top = root
			put(t, root, "README.txt", "the person's project\n")
			put(t, root, "src/main.go", "package main\n")
		}
		put(t, mem, "failures/a.md", "---\ntitle: a\n---\nbody a\n")
		put(t, mem, "failures/a-b/c.md", "---\ntitle: c\n---\nbody c\n")
		put(t, mem, "failures/a.b.md", "---\ntitle: ab\n---\nbody ab\n")
		put(t, mem, "heuristics/h.md", "---\ntitle: h\n---\nbody h\n")
		put(t, mem, "golden-rules.md", "# rules\n")
		put(t, mem, ".gitignore", elfsyncIgnore)
		put(t, mem, "index.db.ledger", "ledger")
		put(t, mem, "index.db-wal", "")
		put(t, mem, "failures/.a.md.swp", "swap")
		gitRun(t, top, append([]string{"init", "-q"}, initArgs...)...)
		gitRun(t, top, "add", "-A")
		gitRun(t, top, "commit", "-q", "-m", "notes")
		return setup{root: root, mem: mem, top: top}
	}
	later := past.Add(time.Minute)
	tests := []struct {
		name   string
		shared bool
		init   []string
		change func(t *testing.T, s setup)
		fast   bool // the fast path must decide (clean, known for sure)
		// discover: a repository of memory/'s own that elfsync does
		// not find without git (a shared one never is).
		discover bool
	}{
		{name: "clean", fast: true},
		{name: "clean shared", shared: true, fast: true},
		{name: "shared, change outside memory", shared: true, fast: true, change: func(t *testing.T, s setup) {
			put(t, s.root, "src/main.go", "package main // changed\n")
			put(t, s.root, "new.txt", "untracked outside memory/\n")
		}},
		{name: "sha256 repository", discover: true, init: []string{"--object-format=sha256"}, fast: true},
		{name: "modified, same size", change: func(t *testing.T, s setup) {
			put(t, s.mem, "failures/a.md", "---\ntitle: a\n---\nbody A\n")
		}},
		{name: "modified, same size and mtime", change: func(t *testing.T, s setup) {
			put(t, s.mem, "failures/a.md", "---\ntitle: a\n---\nbody A\n")
			os.Chtimes(filepath.Join(s.mem, "failures/a.md"), past, past)
		}},
		{name: "touched", change: func(t *testing.T, s setup) {
			os.Chtimes(filepath.Join(s.mem, "failures/a.md"), later, later)
		}},
		{name: "new note", change: func(t *testing.T, s setup) {
			put(t, s.mem, "failures/new.md", "---\ntitle: new\n---\n")
		}},
		{name: "new other file", change: func(t *testing.T, s setup) {
			put(t, s.mem, "notes.txt", "x")
		}},
		{name: "new file in a dot folder", change: func(t *testing.T, s setup) {
			put(t, s.mem, ".obsidian/app.json", "{}")
		}},
		{name: "new ignored files", fast: true, change: func(t *testing.T, s setup) {
			put(t, s.mem, "index.db-shm", "")
			put(t, s.mem, "failures/x.md~", "")
			put(t, s.mem, ".elfsync-state/x", "")
		}},
		{name: "deleted note", change: func(t *testing.T, s setup) {
			os.Remove(filepath.Join(s.mem, "heuristics/h.md"))
		}},
		{name: "deleted .gitignore", change: func(t *testing.T, s setup) {
			os.Remove(filepath.Join(s.mem, ".gitignore"))
		}},
		{name: "staged change", change: func(t *testing.T, s setup) {
			put(t, s.mem, "failures/a.md", "staged\n")
			gitRun(t, s.top, "add", "-A")
		}},
		{name: "staged change, shared", shared: true, change: func(t *testing.T, s setup) {
			put(t, s.mem, "failures/a.md", "staged\n")
			gitRun(t, s.top, "add", "-A")
		}},
		{name: "staged new note", change: func(t *testing.T, s setup) {
			put(t, s.mem, "failures/new.md", "new\n")
			gitRun(t, s.top, "add", "-A")
		}},
		{name: "renamed", change: func(t *testing.T, s setup) {
			gitRun(t, s.top, "mv", "--", filepath.Join(s.mem, "heuristics/h.md"), filepath.Join(s.mem, "heuristics/h2.md"))
		}},
		{name: "staged then reverted in the work tree", change: func(t *testing.T, s setup) {
			old, _ := os.ReadFile(filepath.Join(s.mem, "failures/a.md"))
			put(t, s.mem, "failures/a.md", "staged\n")
			gitRun(t, s.top, "add", "-A")
			put(t, s.mem, "failures/a.md", string(old))
		}},
		{name: "racily clean", change: func(t *testing.T, s setup) {
			// Written now and added: the index is written in the same
			// second as the file.
			p := filepath.Join(s.mem, "failures/a.md")
			os.WriteFile(p, []byte("racy\n"), 0o644)
			gitRun(t, s.top, "commit", "-q", "-am", "racy")
		}},
		{name: "index version 4", fast: true, change: func(t *testing.T, s setup) {
			gitRun(t, s.top, "update-index", "--index-version", "4")
		}},
		{name: "index version 4, modified", change: func(t *testing.T, s setup) {
			gitRun(t, s.top, "update-index", "--index-version", "4")
			put(t, s.mem, "failures/a-b/c.md", "changed\n")
		}},
		{name: "index version 3", fast: true, change: func(t *testing.T, s setup) {
			gitRun(t, s.top, "update-index", "--index-version", "3")
		}},
		{name: "cache tree invalidated", fast: true, change: func(t *testing.T, s setup) {
			// Re-adding a file with a new mtime invalidates its folders in
			// the cache tree: the tree is hashed from the entries.
			os.Chtimes(filepath.Join(s.mem, "failures/a.md"), later, later)
			gitRun(t, s.top, "add", "--", filepath.Join(s.mem, "failures/a.md"))
		}},
		{name: "split index", change: func(t *testing.T, s setup) {
			gitRun(t, s.top, "update-index", "--split-index")
		}},
		{name: "skip-worktree", change: func(t *testing.T, s setup) {
			gitRun(t, s.top, "update-index", "--skip-worktree", "--", filepath.Join(s.mem, "failures/a.md"))
			put(t, s.mem, "failures/a.md", "hidden change\n")
		}},
		{name: "sparse checkout", discover: true, change: func(t *testing.T, s setup) {
			gitRun(t, s.top, "sparse-checkout", "set", "--no-cone", "/failures/", "/.gitignore")
		}},
		{name: "assume-unchanged", change: func(t *testing.T, s setup) {
			gitRun(t, s.top, "update-index", "--assume-unchanged", "--", filepath.Join(s.mem, "failures/a.md"))
			put(t, s.mem, "failures/a.md", "hidden change\n")
		}},
		{name: "intent to add", change: func(t *testing.T, s setup) {
			put(t, s.mem, "failures/new.md", "new\n")
			gitRun(t, s.top, "add", "-N", "--", filepath.Join(s.mem, "failures/new.md"))
		}},
		{name: "executable bit", change: func(t *testing.T, s setup) {
			os.Chmod(filepath.Join(s.mem, "failures/a.md"), 0o755)
		}},
		{name: "core.filemode off, executable bit", change: func(t *testing.T, s setup) {
			gitRun(t, s.top, "config", "core.filemode", "false")
			os.Chmod(filepath.Join(s.mem, "failures/a.md"), 0o755)
		}},
		{name: "tracked link", fast: true, change: func(t *testing.T, s setup) {
			os.Symlink("failures/a.md", filepath.Join(s.mem, "link.md"))
			gitRun(t, s.top, "add", "-A")
			gitRun(t, s.top, "commit", "-q", "-m", "link")
			indexLater(t, s)
		}},
		{name: "link retargeted", change: func(t *testing.T, s setup) {
			os.Symlink("failures/a.md", filepath.Join(s.mem, "link.md"))
			gitRun(t, s.top, "add", "-A")
			gitRun(t, s.top, "commit", "-q", "-m", "link")
			indexLater(t, s)
			os.Remove(filepath.Join(s.mem, "link.md"))
			os.Symlink("failures/a.b.md", filepath.Join(s.mem, "link.md"))
		}},
		{name: "a note becomes a folder", change: func(t *testing.T, s setup) {
			os.Remove(filepath.Join(s.mem, "heuristics/h.md"))
			put(t, s.mem, "heuristics/h.md/x.md", "x\n")
		}},
		{name: "negation in .gitignore", change: func(t *testing.T, s setup) {
			put(t, s.mem, ".gitignore", elfsyncIgnore+"!index.db-keep\n")
			gitRun(t, s.top, "commit", "-q", "-am", "negation")
			put(t, s.mem, "index.db-keep", "kept")
		}},
		{name: "ignored by info/exclude only", fast: true, change: func(t *testing.T, s setup) {
			put(t, filepath.Join(s.top, ".git"), "info/exclude", "*.bak\n")
			put(t, s.mem, "failures/a.md.bak", "backup")
		}},
		{name: "ignored by the top level's .gitignore", shared: true, fast: true, change: func(t *testing.T, s setup) {
			put(t, s.root, ".gitignore", "*.bak\n")
			gitRun(t, s.top, "add", "--", ".gitignore")
			gitRun(t, s.top, "commit", "-q", "-m", "ignore")
			put(t, s.mem, "failures/a.md.bak", "backup")
		}},
		{name: "ignored only by core.excludesFile", change: func(t *testing.T, s setup) {
			put(t, s.root, "excludes", "*.bak\n")
			gitRun(t, s.top, "config", "core.excludesFile", filepath.Join(s.root, "excludes"))
			put(t, s.mem, "failures/a.md.bak", "backup")
		}},
		{name: "nested .gitignore", change: func(t *testing.T, s setup) {
			put(t, s.mem, "failures/.gitignore", "*.md\n")
			put(t, s.mem, "failures/b.md", "new\n")
		}},
		{name: "committed nested .gitignore", change: func(t *testing.T, s setup) {
			put(t, s.mem, "failures/.gitignore", "!x\n")
			gitRun(t, s.top, "add", "-A")
			gitRun(t, s.top, "commit", "-q", "-m", "nested")
		}},
		{name: "empty commit on top", fast: true, change: func(t *testing.T, s setup) {
			gitRun(t, s.top, "commit", "-q", "--allow-empty", "-m", "empty")
		}},
		{name: "merge commit on top", fast: true, change: func(t *testing.T, s setup) {
			gitRun(t, s.top, "checkout", "-q", "-b", "side")
			put(t, s.mem, "heuristics/side.md", "side\n")
			gitRun(t, s.top, "add", "-A")
			gitRun(t, s.top, "commit", "-q", "-m", "side")
			gitRun(t, s.top, "checkout", "-q", "main")
			put(t, s.mem, "heuristics/main.md", "main\n")
			gitRun(t, s.top, "add", "-A")
			gitRun(t, s.top, "commit", "-q", "-m", "main")
			gitRun(t, s.top, "merge", "-q", "--no-edit", "side")
			indexLater(t, s)
		}},
		{name: "conflict", change: func(t *testing.T, s setup) {
			gitRun(t, s.top, "checkout", "-q", "-b", "side")
			put(t, s.mem, "heuristics/h.md", "side\n")
			gitRun(t, s.top, "commit", "-q", "-am", "side")
			gitRun(t, s.top, "checkout", "-q", "main")
			put(t, s.mem, "heuristics/h.md", "main\n")
			gitRun(t, s.top, "commit", "-q", "-am", "main")
			cmd := exec.Command("git", "merge", "-q", "side")
			cmd.Dir = s.top
			if err := cmd.Run(); err == nil {
				t.Fatal("the merge did not conflict")
			}
		}},
		{name: "git directory elsewhere, its work tree in config", fast: true, change: func(t *testing.T, s setup) {
			// As the benchmark makes it: memory/.git is a file naming
			// the git directory, whose config names memory/ its work
			// tree; info/exclude ignores the index files.
			gitDir := filepath.Join(s.root, "memory.git")
			if err := os.Rename(filepath.Join(s.mem, ".git"), gitDir); err != nil {
				t.Fatal(err)
			}
			put(t, s.mem, ".git", "gitdir: "+gitDir+"\n")
			gitRun(t, s.mem, "config", "core.worktree", s.mem)
			put(t, gitDir, "info/exclude", "index.db*\n")
			os.Remove(filepath.Join(s.mem, "index.db.ledger"))
			put(t, s.mem, "index.db-wal", "")
		}},
		{name: "unborn branch", change: func(t *testing.T, s setup) {
			gitRun(t, s.top, "update-ref", "-d", "HEAD")
		}},
		{name: "untracked cache", fast: true, change: func(t *testing.T, s setup) {
			gitRun(t, s.top, "config", "core.untrackedCache", "true")
			gitRun(t, s.top, "update-index", "--untracked-cache")
			gitRun(t, s.top, "status", "--porcelain")
		}},
		{name: "untracked cache, new note", change: func(t *testing.T, s setup) {
			gitRun(t, s.top, "config", "core.untrackedCache", "true")
			gitRun(t, s.top, "update-index", "--untracked-cache")
			gitRun(t, s.top, "status", "--porcelain")
			put(t, s.mem, "heuristics/new.md", "new\n")
		}},
		{name: "nested repository", change: func(t *testing.T, s setup) {
			put(t, s.mem, "vendor/x.md", "x\n")
			gitRun(t, filepath.Join(s.mem, "vendor"), "init", "-q")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base(t, tt.shared, tt.init...)
			if tt.change != nil {
				tt.change(t, s)
			}
			ctx := context.Background()
			want, err := committer.ReadStatus(ctx, s.root)
			if err != nil {
				t.Fatal(err)
			}
			if want.FromIndex {
				t.Fatal("ReadStatus did not run git status")
			}
			d, err := indexer.CheckWith(ctx, s.root, indexer.CheckOptions{Entries: true})
			if err != nil {
				t.Fatal(err)
			}
			walk := make(chan *committer.WorkTree, 1)
			walk <- workTree(d.Entries, d.Unreadable)
			// git writes every command it runs to GIT_TRACE.
			trace := filepath.Join(t.TempDir(), "trace")
			t.Setenv("GIT_TRACE", trace)
			got, err := committer.ReadStatusWalked(ctx, s.root, walk)
			if err != nil {
				t.Fatal(err)
			}
			os.Unsetenv("GIT_TRACE")
			traced, _ := os.ReadFile(trace)
			wantDiscover := tt.shared || tt.discover
			if discovered := strings.Contains(string(traced), "rev-parse --show-toplevel"); discovered != wantDiscover {
				t.Errorf("ran rev-parse to find the repository: %v, want %v\n%s", discovered, wantDiscover, traced)
			}
			if !slices.Equal(got.Uncommitted, want.Uncommitted) {
				t.Errorf("uncommitted with the walk = %q, git status says %q (from index: %v)", got.Uncommitted, want.Uncommitted, got.FromIndex)
			}
			if got.FromIndex != tt.fast {
				t.Errorf("decided from the index = %v, want %v (git status says %q)", got.FromIndex, tt.fast, want.Uncommitted)
			}
			if got.LastCommit != want.LastCommit || got.Repo != want.Repo || got.Shared != want.Shared {
				t.Errorf("status with the walk = %+v, without %+v", got, want)
			}
			// status.ReadWith takes the same path.
			rep, err := ReadWith(ctx, s.root, Options{Git: true})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rep.Uncommitted, orEmpty(want.Uncommitted)) {
				t.Errorf("Report.Uncommitted = %q, want %q", rep.Uncommitted, want.Uncommitted)
			}
		})
	}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
