// Package version describes this build of elfsync: its version, the commit
// it was built from and whether that tree had uncommitted changes, and the
// Go toolchain. The version is the one set at link time
// (-ldflags "-X github.com/emergent-learning/elfsync/version.Version=v1.2.3",
// as scripts/release.sh does), else the module version from the build
// information; the commit comes from the build information, which a build
// without version control data (-buildvcs=false, a source tarball) lacks:
// String then says so rather than guessing.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is set at link time; empty means "ask the build information".
var Version = ""

// String returns one line: "elfsync v1.2.3 (commit 0123456789ab, with
// uncommitted changes; go1.26.8 linux/amd64)".
func String() string {
	v, rev, dirty := Version, "", false
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	commit := "commit unknown: built without version control information"
	if rev != "" {
		commit = "commit " + rev[:min(12, len(rev))]
		if dirty {
			commit += ", with uncommitted changes"
		}
	}
	return fmt.Sprintf("elfsync %s (%s; %s %s/%s)", v, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// Short returns the version alone ("v1.2.3", or "(devel)" for a build
// without one), for protocols that announce it.
func Short() string {
	if Version != "" {
		return Version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}
