package doctor

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/emergent-learning/elfsync/layout"
)

// watchLimitChecks compares the inotify limits with the directories under
// memDir: the watcher needs one watch per directory and one instance.
func watchLimitChecks(memDir string) []Check {
	dirs := 0
	filepath.WalkDir(memDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(memDir, p)
		if rel != "." && layout.Ignored(filepath.ToSlash(rel)) {
			return fs.SkipDir
		}
		dirs++
		return nil
	})
	watches := readProcInt("/proc/sys/fs/inotify/max_user_watches")
	instances := readProcInt("/proc/sys/fs/inotify/max_user_instances")
	var cs []Check
	if watches > 0 {
		// Other programs (editors, IDEs, other watchers) share the same
		// per-user budget: ask for room to spare.
		ok := dirs*2 < watches
		cs = append(cs, Check{Name: "inotify watches", OK: ok,
			Info: fmt.Sprintf("%d directories to watch, fs.inotify.max_user_watches=%d", dirs, watches),
			Fix: fmt.Sprintf("raise it: sudo sysctl fs.inotify.max_user_watches=%d && echo fs.inotify.max_user_watches=%d | sudo tee /etc/sysctl.d/90-elfsync.conf (until then elfsync keeps the index right with periodic scans)",
				max(524288, dirs*4), max(524288, dirs*4))})
	}
	if instances > 0 {
		cs = append(cs, Check{Name: "inotify instances", OK: instances >= 8,
			Info: fmt.Sprintf("fs.inotify.max_user_instances=%d", instances),
			Fix:  "raise it: sudo sysctl fs.inotify.max_user_instances=512"})
	}
	return cs
}

func readProcInt(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}
