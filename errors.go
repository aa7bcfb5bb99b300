package famfs

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/famfs-go/famfs/internal/alloc"
	"github.com/famfs-go/famfs/internal/metalog"
)

// Errors a caller can test with errors.Is. Path-specific failures come as
// *fs.PathError wrapping one of these or one of io/fs's (fs.ErrExist,
// fs.ErrNotExist, fs.ErrInvalid).
var (
	ErrNotMaster    = errors.New("this host is not the master: only the host that created the file system (its system UUID is in the superblock) may change it")
	ErrReadOnly     = errors.New("read-only")
	ErrNotDir       = errors.New("not a directory")
	ErrIsDir        = errors.New("is a directory")
	ErrBadPath      = errors.New("invalid famfs path")
	ErrNoSuperblock = errors.New("no valid famfs superblock")
	ErrFileSize     = errors.New("famfs files never change size")
	ErrLogDamaged   = errors.New("damaged log entry")
	ErrFSChanged    = errors.New("the file system on the device was re-made")
	// The layers below report these three; the library passes their
	// values on, so errors.Is(err, ErrLogFull) holds for what they return.
	ErrLogFull       = metalog.ErrLogFull
	ErrNoSpace       = alloc.ErrNoSpace
	ErrBadInterleave = alloc.ErrBadInterleave
	ErrDeleted       = errors.New("the file was deleted")
	ErrNoReclaim     = errors.New("this file system was made without delete (mkfs.famfs --reclaim makes one that has it)")
	ErrEvicted       = errors.New("this participant was evicted from the file system's participant table; it serves no data until it registers again")
	ErrTableFull     = errors.New("participant table full")
	ErrExist         = fs.ErrExist
	ErrNotExist      = fs.ErrNotExist
)

func pathErr(op, path string, err error) error { return &fs.PathError{Op: op, Path: path, Err: err} }

// ExistError reports that a path is taken; it carries what is there, so a
// caller can accept an existing file of the right size (as `famfs cp` and
// `famfs creat` do). errors.Is(err, fs.ErrExist) holds.
type ExistError struct{ Info Info }

func (e *ExistError) Error() string {
	if e.Info.IsDir() {
		return "directory exists"
	}
	if e.Info.Mode&fs.ModeSymlink != 0 {
		return "symbolic link exists"
	}
	return fmt.Sprintf("file exists (%d bytes)", e.Info.Size)
}
func (e *ExistError) Unwrap() error { return fs.ErrExist }

func asExist(err error) (*ExistError, bool) {
	var ee *ExistError
	ok := errors.As(err, &ee)
	return ee, ok
}

// unwrapPath returns the error inside a *fs.PathError (for a caller that
// wraps it in its own), or err.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
