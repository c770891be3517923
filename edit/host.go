package edit

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/emergent-learning/elfsync/frontmatter"
)

// stateDir is elfsync's per-machine folder inside memory/: ignored by the
// watcher (a dot-folder) and by git (the .gitignore elfsync writes has
// ".elfsync*"), so it never travels to another host.
const stateDir = ".elfsync"

// HostID returns this machine's id for counter tallies, "h-" and 8 hex
// digits, creating it on first use in memDir/.elfsync/host-id. It is not
// the hostname: clones of one machine image and containers share a
// hostname, and each must count on its own. Two processes creating it at
// once agree on one id (the file is created exclusively).
func HostID(memDir string) (string, error) {
	p := filepath.Join(memDir, stateDir, "host-id")
	for range 3 {
		data, err := os.ReadFile(p)
		if err == nil {
			id := strings.TrimSpace(string(data))
			if frontmatter.ValidTallyKey(id) && id != frontmatter.TallyBase {
				return id, nil
			}
			if id != "" {
				return "", fmt.Errorf("host id in %s is %q, not an id like h-3f9a2c1b; remove the file to get a new one", p, id)
			}
			// Empty: another process is between creating and writing it.
			continue
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("read host id: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", fmt.Errorf("create %s: %w", filepath.Dir(p), err)
		}
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("new host id: %w", err)
		}
		id := "h-" + hex.EncodeToString(b[:])
		// Write to a temp file and link it into place: the id appears
		// whole or not at all, and the first writer wins.
		tmp, err := os.CreateTemp(filepath.Dir(p), ".host-id-*.tmp")
		if err != nil {
			return "", fmt.Errorf("write host id: %w", err)
		}
		_, werr := tmp.WriteString(id + "\n")
		cerr := tmp.Close()
		if werr != nil || cerr != nil {
			os.Remove(tmp.Name())
			return "", fmt.Errorf("write host id: %w", errors.Join(werr, cerr))
		}
		lerr := os.Link(tmp.Name(), p)
		os.Remove(tmp.Name())
		if lerr == nil {
			return id, nil
		}
		if !errors.Is(lerr, fs.ErrExist) {
			return "", fmt.Errorf("write host id: %w", lerr)
		}
	}
	return "", fmt.Errorf("host id in %s: could not read or create it", p)
}
