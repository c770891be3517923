package doctor

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/emergent-learning/elfsync/layout"
	"github.com/emergent-learning/elfsync/remote"
)

// remoteChecks reports the sync state with a git remote and the conflict
// copies merges kept (a conflict copy is a warning, not a problem: both
// versions are kept and indexed, waiting for a person).
func remoteChecks(ctx context.Context, root string) []Check {
	var cs []Check
	if rs, err := remote.ReadStatus(ctx, root); err == nil && rs != nil {
		info := fmt.Sprintf("%s (%s, branch %s): %d ahead, %d behind", rs.Name, rs.URL, rs.Branch, rs.Ahead, rs.Behind)
		if rs.LastError != "" {
			cs = append(cs, Check{Name: "remote", Info: info + "; last error: " + rs.LastError,
				Fix: "check the network and your credentials (`git -C " + layout.ShellQuote(filepath.Join(root, layout.MemoryDir)) + " fetch " + rs.Name + "`); elfsync keeps committing locally and retries"})
		} else {
			cs = append(cs, Check{Name: "remote", OK: true, Info: info})
		}
	}
	for _, c := range remote.Conflicts(root) {
		cs = append(cs, Check{Name: "conflict copy", OK: true, Warn: true,
			Info: c.Path + ": keep what you want of it in the file it names (conflict_of), then: " + c.Resolve})
	}
	return cs
}
