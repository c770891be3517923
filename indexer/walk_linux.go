//go:build linux

package indexer

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"time"

	"golang.org/x/sys/unix"
)

// dirHandle is an open directory whose entries are lstatted relative to
// it (fstatat with AT_SYMLINK_NOFOLLOW), not by full path, which the
// kernel would resolve component by component for every file.
type dirHandle struct{ fd int }

// openDir opens the directory abs and reads all its entries with
// getdents64 into db's buffer (grown as needed) and entries slice: one Go
// allocation per getdents call (the names, cut from one string), none per
// entry. follow says whether abs may be a symbolic link to a directory
// (only the walk's top may).
func openDir(abs string, follow bool, db *dirBuf) (dirHandle, []dirent, error) {
	flags := unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	var fd int
	var err error
	for {
		fd, err = unix.Open(abs, flags, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return dirHandle{}, nil, &fs.PathError{Op: "open", Path: abs, Err: err}
	}
	ents := db.ents[:0]
	for {
		n, err := unix.Getdents(fd, db.buf)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EINVAL && len(db.buf) < 1<<20 {
			// An entry larger than the buffer: grow it and go on.
			db.buf = make([]byte, 2*len(db.buf))
			continue
		}
		if err != nil {
			unix.Close(fd)
			db.ents = ents
			return dirHandle{}, nil, &fs.PathError{Op: "readdirent", Path: abs, Err: err}
		}
		if n <= 0 {
			break
		}
		ents = parseDirents(db.buf[:n], ents)
	}
	db.ents = ents
	return dirHandle{fd}, ents, nil
}

// parseDirents appends the linux_dirent64 records of buf (d_ino u64, d_off
// s64, d_reclen u16, d_type u8, d_name NUL-terminated) to ents, without
// "." and "..". The names are cut from one string made of all of buf, so
// each is followed by its NUL terminator in memory (see fstatatName).
func parseDirents(buf []byte, ents []dirent) []dirent {
	all := string(buf)
	for off := 0; off+19 <= len(buf); {
		ino := binary.NativeEndian.Uint64(buf[off:])
		reclen := int(binary.NativeEndian.Uint16(buf[off+16:]))
		if reclen < 19 || off+reclen > len(buf) {
			break
		}
		typ := buf[off+18]
		end := off + 19 + bytes.IndexByte(buf[off+19:off+reclen], 0)
		if end < off+19 { // no terminator: not a name we can pass on
			off += reclen
			continue
		}
		name := all[off+19 : end]
		off += reclen
		if ino == 0 || name == "." || name == ".." {
			continue
		}
		e := dirent{name: name, known: true}
		switch typ {
		case unix.DT_REG:
		case unix.DT_DIR:
			e.typ = fs.ModeDir
		case unix.DT_LNK:
			e.typ = fs.ModeSymlink
		case unix.DT_FIFO:
			e.typ = fs.ModeNamedPipe
		case unix.DT_SOCK:
			e.typ = fs.ModeSocket
		case unix.DT_CHR:
			e.typ = fs.ModeDevice | fs.ModeCharDevice
		case unix.DT_BLK:
			e.typ = fs.ModeDevice
		default:
			e.known = false
		}
		ents = append(ents, e)
	}
	return ents
}

// lstat lstats an entry the directory's openDir returned.
func (d dirHandle) lstat(e dirent) (fileStat, error) {
	var st unix.Stat_t
	for {
		err := fstatatName(d.fd, e.name, &st)
		if err == nil {
			break
		}
		if err != unix.EINTR {
			return fileStat{}, &fs.PathError{Op: "lstat", Path: e.name, Err: err}
		}
	}
	var typ fs.FileMode
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		typ = fs.ModeDir
	case unix.S_IFLNK:
		typ = fs.ModeSymlink
	default:
		typ = fs.ModeIrregular
	}
	sec, nsec := st.Mtim.Unix()
	csec, cnsec := st.Ctim.Unix()
	return fileStat{mode: typ | fs.FileMode(st.Mode&0o777), size: st.Size, mtime: time.Unix(sec, nsec).UnixNano(),
		entry: WalkEntry{HasStat: true, Mode: st.Mode, Dev: st.Dev, Ino: st.Ino, Uid: st.Uid, Gid: st.Gid, Size: st.Size,
			MtimeSec: sec, MtimeNsec: nsec, CtimeSec: csec, CtimeNsec: cnsec}}, nil
}

func (d dirHandle) close() { unix.Close(d.fd) }
