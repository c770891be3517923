//go:build linux

package indexer

import (
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
// getdents64 into *buf (grown as needed), without a Go allocation per
// entry beyond its name. follow says whether abs may be a symbolic link
// to a directory (only the walk's top may).
func openDir(abs string, follow bool, buf *[]byte) (dirHandle, []dirent, error) {
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
	var ents []dirent
	b := *buf
	for {
		n, err := unix.Getdents(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EINVAL && len(b) < 1<<20 {
			// An entry larger than the buffer: grow it and go on.
			b = make([]byte, 2*len(b))
			*buf = b
			continue
		}
		if err != nil {
			unix.Close(fd)
			return dirHandle{}, nil, &fs.PathError{Op: "readdirent", Path: abs, Err: err}
		}
		if n <= 0 {
			break
		}
		ents = parseDirents(b[:n], ents)
	}
	return dirHandle{fd}, ents, nil
}

// parseDirents appends the linux_dirent64 records of buf (d_ino u64, d_off
// s64, d_reclen u16, d_type u8, d_name NUL-terminated) to ents, without
// "." and "..".
func parseDirents(buf []byte, ents []dirent) []dirent {
	for len(buf) >= 19 {
		ino := binary.NativeEndian.Uint64(buf[0:])
		reclen := int(binary.NativeEndian.Uint16(buf[16:]))
		if reclen < 19 || reclen > len(buf) {
			break
		}
		typ := buf[18]
		name := buf[19:reclen]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		buf = buf[reclen:]
		if ino == 0 || string(name) == "." || string(name) == ".." {
			continue
		}
		e := dirent{name: string(name), known: true}
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

// lstat lstats an entry of the directory.
func (d dirHandle) lstat(name string) (fileStat, error) {
	var st unix.Stat_t
	for {
		err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
		if err == nil {
			break
		}
		if err != unix.EINTR {
			return fileStat{}, &fs.PathError{Op: "lstat", Path: name, Err: err}
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
	return fileStat{mode: typ | fs.FileMode(st.Mode&0o777), size: st.Size, mtime: time.Unix(sec, nsec).UnixNano()}, nil
}

func (d dirHandle) close() { unix.Close(d.fd) }
