package remote

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os/exec"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/emergent-learning/elfsync/committer"
	"github.com/emergent-learning/elfsync/frontmatter"
)

// entry is one path of a tree: its mode and object id. A zero entry is an
// absent path.
type entry struct {
	mode string // "100644"; "" when absent
	oid  string
}

func (e entry) present() bool { return e.mode != "" }

// regular reports whether e is a file elfsync lands in the work tree.
func (e entry) regular() bool { return e.mode == "100644" || e.mode == "100755" }

// rawChange is one line of `git diff-tree --raw`.
type rawChange struct {
	path     string
	old, new entry
}

// diffTrees lists the paths that differ between two trees (or commits).
func (s *Syncer) diffTrees(ctx context.Context, a, b string) ([]rawChange, error) {
	out, err := s.git.Run(ctx, committer.RunOpts{}, "diff-tree", "-r", "-z", "--no-renames", "--raw", "--full-index", a, b)
	if err != nil {
		return nil, fmt.Errorf("diff trees: %w", err)
	}
	return parseRaw(out), nil
}

func parseRaw(out []byte) []rawChange {
	var res []rawChange
	fields := bytes.Split(out, []byte{0})
	for i := 0; i+1 < len(fields); i += 2 {
		meta := strings.Fields(strings.TrimPrefix(string(fields[i]), ":"))
		if len(meta) < 5 {
			i-- // not a header: resynchronise
			continue
		}
		c := rawChange{path: string(fields[i+1])}
		if meta[0] != "000000" {
			c.old = entry{mode: meta[0], oid: meta[2]}
		}
		if meta[1] != "000000" {
			c.new = entry{mode: meta[1], oid: meta[3]}
		}
		res = append(res, c)
	}
	return res
}

// acceptRemote reports whether elfsync takes a change that arrived from
// the remote at path p (relative to memory/). It refuses dot-files and
// dot-folders (.gitattributes, .gitignore, .elfsync/, anything git or
// elfsync would read as configuration), the index database and editor
// noise, and anything but a regular file: a symlink or a submodule from a
// remote never lands.
func acceptRemote(p string, e entry) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") {
		return false
	}
	for _, el := range strings.Split(p, "/") {
		// Over maxName bytes no file system here can hold it: landing it
		// would fail every round.
		if el == "" || el == "." || el == ".." || strings.HasPrefix(el, ".") || len(el) > maxName {
			return false
		}
	}
	// Lower-cased too: on macOS and Windows "INDEX.DB-journal" is the
	// index's own journal, which SQLite would roll into the index.
	if frontmatter.Ignored(p) || frontmatter.Ignored(strings.ToLower(p)) {
		return false
	}
	return !e.present() || e.regular()
}

// catFile reads objects through one `git cat-file --batch` process.
type catFile struct {
	mu  sync.Mutex
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// maxBlob bounds an object elfsync reads into memory; a remote cannot make
// it allocate more for one file. Larger blobs are streamed to their file
// and merged whole. A variable for tests.
var maxBlob int64 = 256 << 20

var errBlobTooLarge = errors.New("object too large")

func (s *Syncer) startCatFile(ctx context.Context) (*catFile, error) {
	cmd := s.git.Command(ctx, "cat-file", "--batch")
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("git cat-file: %w", err)
	}
	return &catFile{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 64<<10)}, nil
}

func (c *catFile) close() {
	c.in.Close()
	_ = c.cmd.Wait()
}

// read returns the content of blob oid, or errBlobTooLarge over maxBlob.
func (c *catFile) read(oid string) ([]byte, error) { return c.readMax(oid, maxBlob) }

// readMax returns the content of blob oid, or errBlobTooLarge when it is
// over limit bytes (or maxBlob).
func (c *catFile) readMax(oid string, limit int64) ([]byte, error) {
	limit = min(limit, maxBlob)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := io.WriteString(c.in, oid+"\n"); err != nil {
		return nil, fmt.Errorf("cat-file: %w", err)
	}
	header, err := c.out.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("cat-file: %w", err)
	}
	f := strings.Fields(header)
	if len(f) != 3 {
		return nil, fmt.Errorf("cat-file %s: %s", oid, strings.TrimSpace(header))
	}
	size, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("cat-file %s: bad size", oid)
	}
	if size > limit {
		// Drain it, so the stream stays in step.
		if _, err := io.CopyN(io.Discard, c.out, size+1); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s is %d bytes", errBlobTooLarge, oid, size)
	}
	buf := make([]byte, size+1)
	if _, err := io.ReadFull(c.out, buf); err != nil {
		return nil, fmt.Errorf("cat-file %s: %w", oid, err)
	}
	return buf[:size], nil
}

// blobHasher returns git's object id of a blob with content from r.
func (s *Syncer) blobID(r io.Reader, size int64) (string, error) {
	var h hash.Hash
	if s.sha256 {
		h = sha256.New()
	} else {
		h = sha1.New()
	}
	fmt.Fprintf(h, "blob %d\x00", size)
	n, err := io.Copy(h, r)
	if err != nil {
		return "", err
	}
	if n != size {
		return "", fmt.Errorf("file changed while hashing")
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}

// writeBlob stores data as a blob and returns its id.
func (s *Syncer) writeBlob(ctx context.Context, data []byte) (string, error) {
	out, err := s.git.Run(ctx, committer.RunOpts{Stdin: data}, "hash-object", "-w", "--stdin")
	if err != nil {
		return "", fmt.Errorf("store merged file: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// maxName is the longest file name, in bytes, that elfsync writes
// (NAME_MAX on Linux; macOS and Windows allow 255 characters).
const maxName = 255

// conflictName returns the name of the conflict copy of p that holds the
// version of commit `label` made at stamp: "dir/name.conflict-<label>-<stamp>.md".
// A long name is shortened to keep within maxName.
func conflictName(p, label, stamp string, taken func(string) bool) string {
	dir, base := path.Split(p)
	ext := path.Ext(base)
	if len(ext) > 16 {
		ext = "" // not an extension worth keeping whole
	}
	stem := base[:len(base)-len(ext)]
	if room := maxName - len(ext) - len(".conflict-"+label+"-"+stamp+"-99"); len(stem) > room {
		for room > 0 && !utf8.RuneStart(stem[room]) {
			room--
		}
		stem = stem[:room]
	}
	stem = dir + stem
	for i := 1; ; i++ {
		n := fmt.Sprintf("%s.conflict-%s-%s%s", stem, label, stamp, ext)
		if i > 1 {
			n = fmt.Sprintf("%s.conflict-%s-%s-%d%s", stem, label, stamp, i, ext)
		}
		if !taken(n) {
			return n
		}
	}
}

// conflictCopy returns their version of p, to be kept beside ours, with
// fields saying what it conflicts with (conflict_of, conflict_commit,
// conflict_time), in frontmatter. A record in the framework's bold-field
// style gets them as bold lines beside its others (frontmatter.EditRecord)
// instead, so the copy reads as their version did: a frontmatter block in
// front would hide its bold fields. A domain file's copy gets frontmatter, which makes it
// one note holding their text rather than a second set of its sections'
// heuristics. Content that cannot take fields (not a record, binary) is
// kept as it is.
func conflictCopy(p string, theirs []byte, commit, stamp string) []byte {
	if !frontmatter.IsRecord(p) || !mergeableText(theirs, 0) {
		return theirs
	}
	changes := []frontmatter.Change{
		{Key: "conflict_of", Value: "memory/" + p},
		{Key: "conflict_commit", Value: commit},
		{Key: "conflict_time", Value: stamp},
	}
	if frontmatter.HasBoldFields(theirs) && !frontmatter.IsDomainFile(p, theirs) {
		if out, _, err := frontmatter.EditRecord(frontmatter.Input{Path: p, Data: theirs}, changes); err == nil {
			return out
		}
	}
	out, err := frontmatter.SetFields(theirs, changes)
	if err != nil {
		return theirs
	}
	return out
}

// conflictCopyName matches the names conflictName makes (a commit's first
// 8 hex digits, or "merge" from the merge driver; a UTC time; a counter).
var conflictCopyName = regexp.MustCompile(`\.conflict-(?:[0-9a-f]{8}|merge)-[0-9]{8}T[0-9]{6}Z(?:-[0-9]+)?(?:\.[^.]*)?$`)

// IsConflictCopy reports whether a path under memory/ names a conflict
// copy elfsync kept (not a person's note that only looks like one).
func IsConflictCopy(p string) bool {
	return conflictCopyName.MatchString(path.Base(p))
}
