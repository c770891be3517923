package committer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// oldReadStatus is ReadStatus as it was before it ran its git commands at
// once: Open(ReadOnly), then config, status, rev-parse HEAD and log one
// after another. TestReadStatusSameAsBefore holds the new one to it.
func oldReadStatus(ctx context.Context, root string) (Status, error) {
	c, err := Open(ctx, Config{Root: root, ReadOnly: true, Logger: zerolog.Nop()})
	if err != nil {
		return Status{}, err
	}
	st := Status{
		Repo:      c.repo.top,
		GitDir:    c.repo.gitDir,
		Shared:    c.repo.shared(),
		LockHeld:  indexLocked(c.repo.gitDir),
		Operation: operation(c.repo.gitDir),
	}
	st.Pending, _, _, _ = c.pendingInfo()
	ps := c.readState()
	st.LastError, st.LastErrorTime = ps.LastError, ps.LastErrorTime
	if st.LockHeld {
		if info, err := os.Stat(filepath.Join(c.repo.gitDir, "index.lock")); err == nil {
			st.LockSince = info.ModTime()
		}
	}
	if email, err := c.git.Out(ctx, "config", "user.email"); err == nil {
		st.Email = strings.TrimSpace(email)
	}
	out, err := c.git.Run(ctx, RunOpts{Env: []string{"GIT_OPTIONAL_LOCKS=0"}},
		"status", "--porcelain=v1", "-z", "--untracked-files=all", "--", c.repo.spec())
	if err != nil {
		return st, fmt.Errorf("git status: %w", err)
	}
	st.Uncommitted = parsePorcelain(out, c.repo)
	head, _, err := c.head(ctx)
	if err != nil {
		return st, err
	}
	if head != "" {
		out, err := c.git.Run(ctx, RunOpts{}, "log", "-1", "--format=%H%x00%s%x00%ct", head, "--", c.repo.spec())
		if err != nil {
			return st, fmt.Errorf("git log: %w", err)
		}
		f := strings.SplitN(strings.TrimSpace(string(out)), "\x00", 3)
		if len(f) == 3 {
			secs, _ := strconv.ParseInt(f[2], 10, 64)
			st.LastCommit = CommitInfo{Hash: f[0], Subject: f[1], Time: time.Unix(secs, 0).UTC()}
		}
	}
	return st, nil
}

// TestReadStatusSameAsBefore compares ReadStatus, and Status of a committer
// opened read-only, with the sequential implementation on repositories of
// every shape the committer supports.
func TestReadStatusSameAsBefore(t *testing.T) {
	// memory/ with a repository of its own, two commits, and every kind
	// of change under it.
	standalone := func(t *testing.T) string {
		root := t.TempDir()
		mem := filepath.Join(root, "memory")
		writeFile(t, root, "memory/failures/a.md", note("A"))
		writeFile(t, root, "memory/failures/b.md", note("B"))
		writeFile(t, root, "memory/failures/c.md", note("C"))
		git(t, mem, "init", "-q")
		git(t, mem, "add", "-A")
		git(t, mem, "commit", "-q", "-m", "first")
		writeFile(t, root, "memory/failures/d.md", note("D"))
		git(t, mem, "add", "-A")
		git(t, mem, "commit", "-q", "-m", "second: d")
		writeFile(t, root, "memory/failures/a.md", note("A, edited"))
		git(t, mem, "mv", "failures/b.md", "failures/renamed b.md")
		os.Remove(filepath.Join(mem, "failures", "c.md"))
		writeFile(t, root, "memory/new/x y.md", note("X"))
		writeFile(t, root, "memory/index.db", "not a note")
		writeFile(t, root, "memory/.gitignore", "index.db*\n")
		return root
	}
	// separate moves standalone's memory/.git to the git directory that
	// where gives for root and leaves in its place a .git file with
	// content; worktree, if not "", is set as core.worktree.
	separate := func(t *testing.T, where func(root string) (gitDir, content, worktree string)) string {
		root := standalone(t)
		mem := filepath.Join(root, "memory")
		gitDir, content, worktree := where(root)
		if err := os.MkdirAll(filepath.Dir(gitDir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(mem, ".git"), gitDir); err != nil {
			t.Fatal(err)
		}
		writeFile(t, root, "memory/.git", content)
		if worktree != "" {
			git(t, mem, "config", "core.worktree", worktree)
		}
		return root
	}
	shapes := []struct {
		name  string
		setup func(t *testing.T) string
	}{
		{"no repository", func(t *testing.T) string {
			root := t.TempDir()
			writeFile(t, root, "memory/failures/a.md", note("A"))
			return root
		}},
		{"no commits yet", func(t *testing.T) string {
			root := t.TempDir()
			writeFile(t, root, "memory/failures/a.md", note("A"))
			git(t, filepath.Join(root, "memory"), "init", "-q")
			git(t, filepath.Join(root, "memory"), "add", "failures/a.md")
			writeFile(t, root, "memory/failures/b.md", note("B"))
			return root
		}},
		{"standalone", standalone},
		{"detached HEAD", func(t *testing.T) string {
			root := standalone(t)
			git(t, filepath.Join(root, "memory"), "checkout", "-q", "--detach", "HEAD~1")
			return root
		}},
		{"index.lock held", func(t *testing.T) string {
			root := standalone(t)
			writeFile(t, root, "memory/.git/index.lock", "")
			return root
		}},
		{"last error recorded", func(t *testing.T) string {
			root := standalone(t)
			writeFile(t, root, "memory/.git/"+stateFile, `{"last_error":"git commit: exit 128: boom","last_error_time":"2026-01-02T03:04:05Z"}`)
			return root
		}},
		{"rebase in progress", func(t *testing.T) string {
			root := t.TempDir()
			mem := filepath.Join(root, "memory")
			writeFile(t, root, "memory/a.md", note("A"))
			git(t, mem, "init", "-q", "-b", "main")
			git(t, mem, "add", "-A")
			git(t, mem, "commit", "-q", "-m", "base")
			git(t, mem, "checkout", "-q", "-b", "side")
			writeFile(t, root, "memory/a.md", note("A on side"))
			git(t, mem, "commit", "-q", "-am", "side")
			git(t, mem, "checkout", "-q", "main")
			writeFile(t, root, "memory/a.md", note("A on main"))
			git(t, mem, "commit", "-q", "-am", "main")
			cmd := gitCmd(mem, "rebase", "side")
			if out, err := cmd.CombinedOutput(); err == nil {
				t.Fatalf("rebase did not stop at the conflict:\n%s", out)
			}
			return root
		}},
		{"shared with a bigger repository", func(t *testing.T) string {
			proj, root := personRepo(t, false)
			writeFile(t, root, "memory/failures/a.md", note("A"))
			git(t, proj, "add", "-A")
			git(t, proj, "commit", "-q", "-m", "memory")
			writeFile(t, proj, "README.md", "edited outside memory/\n")
			writeFile(t, root, "memory/failures/b.md", note("B"))
			writeFile(t, proj, "elf/stray.md", "outside memory/\n")
			return root
		}},
		{"shared, unborn", func(t *testing.T) string {
			_, root := personRepo(t, true)
			writeFile(t, root, "memory/failures/a.md", note("A"))
			return root
		}},
		{"parent ignores memory", func(t *testing.T) string {
			proj, root := personRepo(t, false)
			writeFile(t, proj, ".gitignore", "elf/\n")
			writeFile(t, root, "memory/failures/a.md", note("A"))
			return root
		}},
		{"parent ignores memory but tracks it", func(t *testing.T) string {
			proj, root := personRepo(t, false)
			writeFile(t, proj, ".gitignore", "elf/\n")
			writeFile(t, root, "memory/failures/a.md", note("A"))
			git(t, proj, "add", "-f", "elf/memory/failures/a.md")
			git(t, proj, "commit", "-q", "-m", "forced")
			writeFile(t, root, "memory/failures/a.md", note("A, edited"))
			return root
		}},
		{"git directory outside the root", func(t *testing.T) string {
			root := filepath.Join(t.TempDir(), "root")
			gitDir := filepath.Join(t.TempDir(), "elsewhere.git")
			writeFile(t, root, "memory/failures/a.md", note("A"))
			mem := filepath.Join(root, "memory")
			git(t, mem, "init", "-q", "--separate-git-dir", gitDir)
			git(t, mem, "add", "-A")
			git(t, mem, "commit", "-q", "-m", "first")
			writeFile(t, root, "memory/failures/b.md", note("B"))
			return root
		}},
		{"git directory beside the root, its work tree in config", func(t *testing.T) string {
			// As the benchmark makes it: git --git-dir ROOT.git
			// --work-tree memory init, memory/.git naming ROOT.git.
			return separate(t, func(root string) (string, string, string) {
				gitDir := root + ".git"
				return gitDir, "gitdir: " + gitDir + "\n", filepath.Join(root, "memory")
			})
		}},
		{"git directory and work tree relative, as in a submodule", func(t *testing.T) string {
			return separate(t, func(root string) (string, string, string) {
				return filepath.Join(root, "modules", "memory"), "gitdir: ../modules/memory", "../../memory"
			})
		}},
		{"git directory through a symlink", func(t *testing.T) string {
			link := filepath.Join(t.TempDir(), "link.git")
			return separate(t, func(root string) (string, string, string) {
				gitDir := filepath.Join(root, "real.git")
				if err := os.Symlink(gitDir, link); err != nil {
					t.Skip(err)
				}
				return gitDir, "gitdir: " + link + "\n", "../memory"
			})
		}},
		{"core.worktree names the root", func(t *testing.T) string {
			return separate(t, func(root string) (string, string, string) {
				gitDir := root + ".git"
				return gitDir, "gitdir: " + gitDir + "\n", root
			})
		}},
		{"core.worktree names another folder", func(t *testing.T) string {
			other := t.TempDir()
			return separate(t, func(root string) (string, string, string) {
				gitDir := root + ".git"
				return gitDir, "gitdir: " + gitDir + "\n", other
			})
		}},
		{"gitdir names a missing directory", func(t *testing.T) string {
			root := standalone(t)
			os.RemoveAll(filepath.Join(root, "memory", ".git"))
			writeFile(t, root, "memory/.git", "gitdir: "+filepath.Join(t.TempDir(), "gone.git")+"\n")
			return root
		}},
		{"gitdir file not in git's format", func(t *testing.T) string {
			return separate(t, func(root string) (string, string, string) {
				gitDir := root + ".git"
				return gitDir, "gitdir:" + gitDir + "\n", ""
			})
		}},
		{"linked worktree", func(t *testing.T) string {
			proj, _ := personRepo(t, false)
			writeFile(t, proj, "elf/memory/failures/a.md", note("A"))
			git(t, proj, "add", "-A")
			git(t, proj, "commit", "-q", "-m", "memory")
			wt := filepath.Join(t.TempDir(), "wt")
			git(t, proj, "worktree", "add", "-q", "-b", "other", wt)
			root := filepath.Join(wt, "elf")
			writeFile(t, root, "memory/failures/b.md", note("B"))
			writeFile(t, root, "memory/failures/a.md", note("A, edited in the worktree"))
			return root
		}},
		{"root through a symlink", func(t *testing.T) string {
			src := standalone(t)
			link := filepath.Join(t.TempDir(), "link")
			if err := os.Symlink(src, link); err != nil {
				t.Skip(err)
			}
			return link
		}},
		{"config includes another file", func(t *testing.T) string {
			root := standalone(t)
			writeFile(t, root, "memory/inc.cfg", "[user]\n\temail = included@example.com\n")
			git(t, filepath.Join(root, "memory"), "config", "include.path", "../inc.cfg")
			return root
		}},
		{"memory is the top of a worktree", func(t *testing.T) string {
			src := standalone(t)
			root := t.TempDir()
			git(t, filepath.Join(src, "memory"), "worktree", "add", "-q", "--detach", filepath.Join(root, "memory"))
			writeFile(t, root, "memory/failures/e.md", note("E"))
			return root
		}},
	}
	ctx := context.Background()
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			root := sh.setup(t)
			want, wantErr := oldReadStatus(ctx, root)
			got, err := ReadStatus(ctx, root)
			sameStatus(t, "ReadStatus", got, err, want, wantErr)
			if wantErr == nil {
				c, err := Open(ctx, Config{Root: root, ReadOnly: true, Logger: zerolog.Nop()})
				if err != nil {
					t.Fatal(err)
				}
				got, err := c.Status(ctx)
				sameStatus(t, "Status", got, err, want, wantErr)
			}
			if t.Failed() {
				return
			}
			// Where memory/.git is read directly, it says what rev-parse says.
			local, ok := discoverLocal(filepath.Join(root, "memory"))
			if ok {
				r, err := discover(ctx, NewGit(root, GitOptions{}), filepath.Join(root, "memory"))
				if err != nil || r != local {
					t.Errorf("discoverLocal = %+v, discover = %+v, %v", local, r, err)
				}
			}
			wantLocal := map[string]bool{"standalone": true, "no commits yet": true, "detached HEAD": true,
				"index.lock held": true, "last error recorded": true, "rebase in progress": true, "root through a symlink": true,
				"git directory outside the root":                          true,
				"git directory beside the root, its work tree in config":  true,
				"git directory and work tree relative, as in a submodule": true,
				"git directory through a symlink":                         true}
			if ok != wantLocal[sh.name] {
				t.Errorf("discoverLocal ok = %v, want %v", ok, wantLocal[sh.name])
			}
			// The shapes are what they claim to be.
			switch sh.name {
			case "core.worktree names another folder":
				if err == nil || errors.Is(err, ErrNoRepository) {
					t.Errorf("err = %v, want one that is not ErrNoRepository", err)
				}
				// Nor does a committer that may write init over it.
				head, _ := os.ReadFile(filepath.Join(root+".git", "HEAD"))
				git(t, filepath.Join(root, "memory"), "symbolic-ref", "HEAD", "refs/heads/person")
				if _, err := Open(ctx, Config{Root: root, Logger: zerolog.Nop()}); err == nil {
					t.Error("Open found a repository")
				}
				if now, _ := os.ReadFile(filepath.Join(root+".git", "HEAD")); string(now) != "ref: refs/heads/person\n" {
					t.Errorf("HEAD was %q, then %q", head, now)
				}
			case "no repository", "parent ignores memory", "gitdir names a missing directory":
				if !errors.Is(err, ErrNoRepository) {
					t.Errorf("err = %v, want ErrNoRepository", err)
				}
			case "no commits yet", "shared, unborn":
				if got.LastCommit.Hash != "" || len(got.Uncommitted) == 0 {
					t.Errorf("unborn: %+v", got)
				}
			case "index.lock held":
				if !got.LockHeld || got.LockSince.IsZero() {
					t.Errorf("lock: %+v", got)
				}
			case "rebase in progress":
				if got.Operation != "rebase" || !reflect.DeepEqual(got.Uncommitted, []string{"memory/a.md"}) {
					t.Errorf("rebase: %+v", got)
				}
			case "last error recorded":
				if got.LastError == "" {
					t.Errorf("no last error: %+v", got)
				}
			case "config includes another file":
				if got.Email != "included@example.com" {
					t.Errorf("email = %q, want the included one", got.Email)
				}
			case "detached HEAD", "standalone", "root through a symlink":
				if got.LastCommit.Hash == "" || len(got.Uncommitted) < 5 {
					t.Errorf("%s: %+v", sh.name, got)
				}
			case "shared with a bigger repository", "linked worktree", "parent ignores memory but tracks it":
				if !got.Shared || got.LastCommit.Hash == "" || len(got.Uncommitted) == 0 {
					t.Errorf("%s: %+v", sh.name, got)
				}
			}
		})
	}
}

func sameStatus(t *testing.T, what string, got Status, err error, want Status, wantErr error) {
	t.Helper()
	if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("%s: err = %v, want %v", what, err, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s =\n%+v\nwant\n%+v", what, got, want)
	}
}

// gitCmd is git in dir as a person runs it, for commands expected to fail.
func gitCmd(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "GIT_EDITOR=:")
	return cmd
}

func TestPlainConfigAndHead(t *testing.T) {
	for cfg, want := range map[string]bool{
		"[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n": true,
		"[core]\n\tbare = false\n[remote \"origin\"]\n\turl = x\n\tworktree = y\n[user]\n\temail = a@b\n":       true,
		"[core]\n\tbare = true\n":                     false,
		"[core]\n\tbare\n":                            false,
		"[Core]\n\tWorkTree = /x\n":                   true,
		"[core]\n\trepositoryformatversion = 1\n":     false,
		"[extensions]\n\tworktreeConfig = true\n":     false,
		"[include]\n\tpath = x\n":                     false,
		"[includeIf \"gitdir:/x/\"]\n\tpath = y\n":    false,
		"[core]\n\tbare = false \\\n\t\n":             false,
		"[core] worktree = /x\n":                      false,
		"[core.x]\n\tfoo = bar\n[core]\n\tbare=false": true,
	} {
		if _, got := plainConfig(cfg); got != want {
			t.Errorf("plainConfig(%q) = %v, want %v", cfg, got, want)
		}
	}
	// core.worktree is returned as git reads it, or the config is not
	// plain.
	for cfg, want := range map[string]string{
		"[core]\n\tbare = false\n":                                     "",
		"[Core]\n\tWorkTree = /x\n":                                    "/x",
		"[core]\n\tworktree=  /a b/c \r\n":                             "/a b/c",
		"[core]\n\tworktree = ../../m\n[remote \"o\"]\n\tworktree = y": "../../m",
		"[core]\n\tworktree = /x\n\tworktree = /x\n":                   "!",
		"[core]\n\tworktree\n":                                         "!",
		"[core]\n\tworktree =\n":                                       "!",
		"[core]\n\tworktree = \"/x\"\n":                                "!",
		"[core]\n\tworktree = /x # here\n":                             "!",
		"[core]\n\tworktree = /x\\\\y\n":                               "!",
		"[core]\n\tworktree = /x\ty\n":                                 "!",
		"[core]\n\tworktree = /x\u00a0\n":                              "!",
	} {
		wt, ok := plainConfig(cfg)
		if !ok {
			wt = "!"
		}
		if wt != want {
			t.Errorf("plainConfig(%q) worktree = %q, want %q", cfg, wt, want)
		}
	}
	for head, want := range map[string]bool{
		"ref: refs/heads/main\n":                     true,
		"0123456789abcdef0123456789abcdef01234567\n": true,
		"ref: heads/main\n":                          false,
		"ref: refs/heads/ma in\n":                    false,
		"0123456789abcdef0123456789abcdef0123456\n":  false,
		"0123456789ABCDEF0123456789ABCDEF01234567\n": false,
		"": false,
	} {
		if got := validHead(head); got != want {
			t.Errorf("validHead(%q) = %v, want %v", head, got, want)
		}
	}
}
