//go:build linux

package committer

import (
	"io/fs"
	"syscall"
)

// lstatEntry lstats p into a WorkEntry with git's stat data.
func lstatEntry(p string) (WorkEntry, error) {
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		return WorkEntry{}, &fs.PathError{Op: "lstat", Path: p, Err: err}
	}
	msec, mnsec := st.Mtim.Unix()
	csec, cnsec := st.Ctim.Unix()
	return WorkEntry{HasStat: true, Mode: st.Mode, Dev: uint64(st.Dev), Ino: uint64(st.Ino), Uid: st.Uid, Gid: st.Gid,
		Size: st.Size, MtimeSec: msec, MtimeNsec: mnsec, CtimeSec: csec, CtimeNsec: cnsec}, nil
}
