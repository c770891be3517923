package remote

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/committer"
	"github.com/emergent-learning/elfsync/edit"
	"github.com/emergent-learning/elfsync/frontmatter"
)

// Holder keeps commits from starting while fn runs. The committer
// implements it; elfsync holds it while HEAD moves to a merge and the work
// tree catches up, so that no commit of a half-updated work tree can
// revert the merge.
type Holder interface {
	Exclusive(fn func() error) error
}

// Config configures a Syncer.
type Config struct {
	// Root is ROOT (absolute); memory/ below it holds the repository.
	Root string
	// Remote is the name of a git remote configured in memory/'s
	// repository (`git remote add NAME URL`). URLs are not accepted: what
	// elfsync pushes to is what the person configured.
	Remote string
	// Branch is the remote branch; "" means the local branch's name.
	Branch string
	// Interval is the time between sync rounds of Run (default 30 s).
	Interval time.Duration
	// MaxSize bounds the files merged as text (default
	// frontmatter.DefaultMaxSize); larger ones are merged whole.
	MaxSize int64
	// Hold, optional, is the committer (see Holder).
	Hold Holder
	// DriverCommand, optional, is the elfsync binary to register as git's
	// merge driver for memory files in the repository's own config, for
	// merges a person runs by hand.
	DriverCommand string
	Logger        zerolog.Logger
}

// SharedBranch is the branch that holds the memory, and nothing else, when
// memory/ lives inside a person's project repository.
const SharedBranch = "elfsync/memory"

// DefaultInterval is Config.Interval's default.
const DefaultInterval = 30 * time.Second

// Errors of Open.
var (
	ErrNoRemote    = errors.New("no such git remote")
	ErrNoRepo      = errors.New("memory/ has no git repository yet")
	ErrBadRemote   = errors.New("bad remote name")
	ErrDetached    = errors.New("memory/'s repository has no branch checked out")
	errNotInStep   = errors.New("not in step with the remote")
	errPushRaced   = errors.New("push rejected: the remote moved")
	remoteNameRule = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$`)
)

// Syncer fetches, merges and pushes memory/'s repository.
type Syncer struct {
	cfg      Config
	log      zerolog.Logger
	memDir   string
	git      *committer.Git
	gitDir   string
	local    string // the local branch, "refs/heads/main"
	branch   string // the remote branch's short name
	tracking string // where fetched tips are kept
	url      string // redacted
	// prefix is memory/'s path in a larger work tree ("" when memory/ is
	// a repository of its own); then local is SharedBranch.
	prefix string
	sha256 bool
	empty  string // the empty tree's id
	editor *edit.Editor
	host   string

	identOnce sync.Once
	ident     []string

	mu   sync.Mutex // one round at a time
	kick chan struct{}
	// settled is the last remote tip found to hold our branch and nothing
	// elfsync takes (Result.Settled).
	settled string

	// crashAfterRef, in tests, stops a merge right after the branch moved,
	// before any file landed: what a SIGKILL there leaves.
	crashAfterRef bool
}

// Open checks the repository and the remote, registers the merge driver,
// and finishes a merge that a crash interrupted (see Recover). It starts
// nothing.
func Open(ctx context.Context, cfg Config) (*Syncer, error) {
	if !remoteNameRule.MatchString(cfg.Remote) || strings.Contains(cfg.Remote, "..") || strings.Contains(cfg.Remote, "://") {
		return nil, fmt.Errorf("%w %q: give the name of a remote configured with `git remote add`", ErrBadRemote, Redact(cfg.Remote))
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = frontmatter.DefaultMaxSize
	}
	s := &Syncer{
		cfg:    cfg,
		log:    cfg.Logger.With().Str("component", "remote").Str("remote", cfg.Remote).Logger(),
		memDir: filepath.Join(cfg.Root, "memory"),
		kick:   make(chan struct{}, 1),
	}
	s.editor = edit.New(s.memDir, cfg.MaxSize)
	s.git = newGit(s.memDir)
	out, err := s.git.Out(ctx, "rev-parse", "--show-toplevel", "--absolute-git-dir", "--show-prefix")
	if err != nil {
		if ctx.Err() != nil {
			// Stopped (Ctrl-C during start-up), not a missing repository.
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %v", ErrNoRepo, err)
	}
	lines := strings.Split(out, "\n")
	if len(lines) < 2 {
		return nil, fmt.Errorf("%w: %q", ErrNoRepo, out)
	}
	if len(lines) > 2 {
		s.prefix = strings.TrimSuffix(strings.TrimSpace(lines[2]), "/")
	}
	s.gitDir = filepath.FromSlash(lines[1])
	url, err := s.git.Out(ctx, "config", "--get", "remote."+cfg.Remote+".url")
	if err != nil || url == "" {
		return nil, fmt.Errorf("%w %q in %s: add it with `git -C %s remote add %s URL`", ErrNoRemote, cfg.Remote, s.memDir, s.memDir, cfg.Remote)
	}
	s.url = Redact(url)
	if s.prefix != "" {
		// memory/ inside a person's project: elfsync keeps the memory in a
		// branch of its own and never pushes anything else (see the
		// package documentation).
		s.local = "refs/heads/" + SharedBranch
		s.branch = cfg.Branch
		if s.branch == "" {
			s.branch = SharedBranch
		}
	} else {
		ref, err := s.git.Out(ctx, "symbolic-ref", "-q", "HEAD")
		if err != nil || !strings.HasPrefix(ref, "refs/heads/") {
			return nil, ErrDetached
		}
		s.local = ref
		s.branch = cfg.Branch
		if s.branch == "" {
			s.branch = strings.TrimPrefix(ref, "refs/heads/")
		}
	}
	if !remoteNameRule.MatchString(s.branch) || strings.Contains(s.branch, "..") {
		return nil, fmt.Errorf("bad branch name %q", s.branch)
	}
	s.tracking = "refs/elfsync/remotes/" + cfg.Remote + "/" + s.branch
	if f, err := s.git.Out(ctx, "rev-parse", "--show-object-format"); err == nil && f == "sha256" {
		s.sha256 = true
	}
	if err := s.writeEmptyTree(ctx); err != nil {
		return nil, err
	}
	// Scratch files a killed elfsync left (one elfsync syncs a root).
	for _, pat := range []string{"elfsync-merge-index-*", ".elfsync-merge-*.tmp"} {
		old, _ := filepath.Glob(filepath.Join(s.gitDir, pat))
		for _, p := range old {
			os.RemoveAll(p)
		}
	}
	if st, ok := readState(s.memDir); ok {
		s.settled = st.Settled
	}
	if s.host, err = edit.HostID(s.memDir); err != nil {
		return nil, err
	}
	if cfg.DriverCommand != "" {
		if err := s.registerDriver(ctx, cfg.DriverCommand); err != nil {
			s.log.Warn().Err(err).Msg("merge driver not registered; merges elfsync runs itself are not affected")
		}
	}
	if err := s.Recover(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Remote returns the remote's name, its URL with credentials redacted and
// the remote branch.
func (s *Syncer) Remote() (name, url, branch string) { return s.cfg.Remote, s.url, s.branch }

// Kick asks Run for a round soon (after a commit). It never blocks; a nil
// Syncer ignores it.
func (s *Syncer) Kick() {
	if s == nil {
		return
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// gitattributes is memory/.gitattributes: memory files merge with
// elfsync's driver in merges a person runs by hand.
const gitattributes = "# Written by elfsync: memory files merge with elfsync's merge driver.\n*.md merge=elfsync\n"

// registerDriver writes the merge driver into the repository's own config
// (never taken from the remote: a config is not fetched) and
// memory/.gitattributes if it is missing; the committer commits it.
func (s *Syncer) registerDriver(ctx context.Context, exe string) error {
	cmd := shellQuote(exe) + " merge-driver %O %A %B %P"
	if cur, _ := s.git.Out(ctx, "config", "--local", "--get", "merge.elfsync.driver"); cur != cmd {
		if _, err := s.git.Run(ctx, committer.RunOpts{}, "config", "--local", "merge.elfsync.name", "elfsync memory merge"); err != nil {
			return err
		}
		if _, err := s.git.Run(ctx, committer.RunOpts{}, "config", "--local", "merge.elfsync.driver", cmd); err != nil {
			return err
		}
	}
	p := filepath.Join(s.memDir, ".gitattributes")
	if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
		return os.WriteFile(p, []byte(gitattributes), 0o644)
	}
	return nil
}

// shellQuote quotes s for sh, which git runs a merge driver with.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
