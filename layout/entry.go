package layout

import "io/fs"

// Entry is an entry under memory/ that a walk saw and did not descend
// into: a file, a link, or an ignored directory it skipped. The indexer's
// walk makes them (indexer.WalkEntry) and the committer tells from them
// whether git would find anything uncommitted (committer.WorkEntry): one
// type, so `elfsync status` hands the walk over without copying it.
type Entry struct {
	Rel  string      // memory-relative, forward slashes
	Type fs.FileMode // fs.ModeType bits; ModeIrregular if unknown
	// Ignored means Ignored(Rel): the walk skipped the entry by its name
	// (dot files, editor files, the index database), neither lstatting
	// it nor, for a directory, descending into it.
	Ignored bool
	// HasStat says whether the fields below hold what lstat said (a
	// record file's; on Linux only).
	HasStat                                  bool
	Mode                                     uint32 // st_mode
	Dev, Ino                                 uint64
	Uid, Gid                                 uint32
	Size                                     int64
	MtimeSec, MtimeNsec, CtimeSec, CtimeNsec int64
}
