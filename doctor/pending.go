package doctor

import (
	"context"
	"fmt"

	"github.com/emergent-learning/elfsync/frontmatter"
	"github.com/emergent-learning/elfsync/status"
)

// PendingIsFine turns the drift and uncommitted-paths checks ok when all
// of it is work the running watcher is still within its deadlines for (or
// has finished since): status exits 0 for pending work, and doctor must
// not call it a problem and advise starting the watcher that is running.
func PendingIsFine(ctx context.Context, root string, checks []Check, withGit bool) {
	var flagged []int
	for i, c := range checks {
		if c.Problem() && (c.Name == "drift" || c.Name == "git uncommitted") {
			flagged = append(flagged, i)
		}
	}
	if len(flagged) == 0 {
		return
	}
	rep, err := status.Read(ctx, root, frontmatter.DefaultMaxSize, withGit)
	if err != nil || !rep.Watcher.Running || !rep.InSync && !rep.OnlyPending {
		return
	}
	for _, i := range flagged {
		checks[i].OK = true
		checks[i].Info += fmt.Sprintf("; pending: the running watcher (pid %d) is on it", rep.Watcher.PID)
	}
}
