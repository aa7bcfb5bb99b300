package errmap

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"

	famfs "github.com/famfs-go/famfs"
)

func TestErrno(t *testing.T) {
	wrap := func(err error) error { return &fs.PathError{Op: "op", Path: "a/b", Err: err} }
	for _, c := range []struct {
		err  error
		want syscall.Errno
	}{
		{nil, 0},
		{famfs.ErrDeleted, syscall.ENOENT},
		{wrap(famfs.ErrDeleted), syscall.ENOENT},
		{famfs.ErrNotEmpty, syscall.ENOTEMPTY},
		{wrap(famfs.ErrNotEmpty), syscall.ENOTEMPTY}, // not EEXIST, which ENOTEMPTY also is to errors.Is
		{fs.ErrNotExist, syscall.ENOENT},
		{wrap(fs.ErrNotExist), syscall.ENOENT},
		{fs.ErrExist, syscall.EEXIST},
		{&famfs.ExistError{}, syscall.EEXIST},
		{famfs.ErrLogFull, syscall.ENOSPC},
		{fmt.Errorf("append: %w", famfs.ErrLogFull), syscall.ENOSPC},
		{famfs.ErrNoSpace, syscall.ENOSPC},
		{famfs.ErrNotMaster, syscall.EROFS},
		{famfs.ErrReadOnly, syscall.EROFS},
		{famfs.ErrFileSize, syscall.EFBIG},
		{famfs.ErrFSChanged, syscall.EIO},
		{famfs.ErrEvicted, syscall.EIO},
		{fmt.Errorf("hold: %w", famfs.ErrEvicted), syscall.EIO},
		{famfs.ErrNotDir, syscall.ENOTDIR},
		{famfs.ErrIsDir, syscall.EISDIR},
		{famfs.ErrNoReclaim, syscall.EPERM},
		{famfs.ErrBadPath, syscall.EINVAL},
		{fs.ErrPermission, syscall.EACCES},
		{fmt.Errorf("register: %w", famfs.ErrTableFull), syscall.ENOSPC},
		{fs.ErrInvalid, syscall.EINVAL},
		{famfs.ErrLogDamaged, syscall.EIO},
		{errors.New("something else"), syscall.EIO},
		{syscall.EFAULT, syscall.EIO}, // a raw errno the table does not know
	} {
		if got := Errno(c.err); got != c.want {
			t.Errorf("Errno(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// Every entry of the table answers for its own error: none is shadowed by
// an earlier one.
func TestTableOrder(t *testing.T) {
	for i, e := range table {
		if got := Errno(e.err); got != e.errno {
			t.Errorf("entry %d (%v): Errno gives %v, want %v (an earlier entry shadows it)", i, e.err, got, e.errno)
		}
	}
}
