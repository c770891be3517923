package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/emergent-learning/elfsync/frontmatter"
)

// watchLimitChecks compares the inotify limits with the directories under
// memDir: the watcher needs one watch per directory and one instance.
func watchLimitChecks(memDir string) []check {
	dirs := 0
	filepath.WalkDir(memDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(memDir, p)
		if rel != "." && frontmatter.Ignored(filepath.ToSlash(rel)) {
			return fs.SkipDir
		}
		dirs++
		return nil
	})
	watches := readProcInt("/proc/sys/fs/inotify/max_user_watches")
	instances := readProcInt("/proc/sys/fs/inotify/max_user_instances")
	var cs []check
	if watches > 0 {
		// Other programs (editors, IDEs, other watchers) share the same
		// per-user budget: ask for room to spare.
		ok := dirs*2 < watches
		cs = append(cs, check{name: "inotify watches", ok: ok,
			info: fmt.Sprintf("%d directories to watch, fs.inotify.max_user_watches=%d", dirs, watches),
			fix: fmt.Sprintf("raise it: sudo sysctl fs.inotify.max_user_watches=%d && echo fs.inotify.max_user_watches=%d | sudo tee /etc/sysctl.d/90-elfsync.conf (until then elfsync keeps the index right with periodic scans)",
				max(524288, dirs*4), max(524288, dirs*4))})
	}
	if instances > 0 {
		cs = append(cs, check{name: "inotify instances", ok: instances >= 8,
			info: fmt.Sprintf("fs.inotify.max_user_instances=%d", instances),
			fix:  "raise it: sudo sysctl fs.inotify.max_user_instances=512"})
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
