package errmap

import (
	"errors"
	"io/fs"
	"syscall"

	famfs "github.com/famfs-go/famfs"
)

// table is tried in order: the first entry whose error errors.Is matches
// gives the errno. Order matters where one error matches several: famfs.ErrNotEmpty
// (ENOTEMPTY) is also fs.ErrExist to errors.Is, and a deleted file's
// error may wrap fs.ErrNotExist too.
var table = []struct {
	err   error
	errno syscall.Errno
}{
	{famfs.ErrFSChanged, syscall.EIO}, // the device was re-made: serve nothing of it
	{famfs.ErrEvicted, syscall.EIO},   // this daemon serves no data until it registers again
	{famfs.ErrDeleted, syscall.ENOENT},
	{famfs.ErrNotEmpty, syscall.ENOTEMPTY},
	{fs.ErrNotExist, syscall.ENOENT},
	{fs.ErrExist, syscall.EEXIST},
	{famfs.ErrNotMaster, syscall.EROFS},
	{famfs.ErrReadOnly, syscall.EROFS},
	{famfs.ErrLogFull, syscall.ENOSPC},
	{famfs.ErrNoSpace, syscall.ENOSPC},
	{famfs.ErrFileSize, syscall.EFBIG}, // famfs files never change size
	{famfs.ErrNotDir, syscall.ENOTDIR},
	{famfs.ErrIsDir, syscall.EISDIR},
	{famfs.ErrNoReclaim, syscall.EPERM},
	{famfs.ErrBadPath, syscall.EINVAL},
	{fs.ErrInvalid, syscall.EINVAL},
	{fs.ErrPermission, syscall.EACCES},
	{famfs.ErrTableFull, syscall.ENOSPC}, // no slot left in the participant table
}

// Errno returns the errno for err: 0 for nil, the table's errno for a
// library error it knows, and EIO for anything else (device errors, a
// memory fault, a damaged log, errors this table does not know).
func Errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	for _, e := range table {
		if errors.Is(err, e.err) {
			return e.errno
		}
	}
	return syscall.EIO
}
