//go:build !linux

package doctor

// watchLimitChecks has nothing to check where there is no inotify: macOS
// and Windows have no per-user watch budget of that kind.
func watchLimitChecks(memDir string) []Check { return nil }
