package famfs

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/famfs-go/famfs/internal/alloc"
	"github.com/famfs-go/famfs/internal/metalog"
	"github.com/famfs-go/famfs/internal/pcq"
)

// Every error the library defines is here, in one place: the sentinels a
// caller tests with errors.Is and the typed errors it takes apart with
// errors.As. Path-specific failures come as *fs.PathError wrapping one of
// these or one of io/fs's (fs.ErrExist, fs.ErrNotExist, fs.ErrInvalid).
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

// unwrapPath returns the error inside a *fs.PathError (for a caller that
// wraps it in its own), or err.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ErrFSExists is returned when a file system is already there and Force is not set.
var ErrFSExists = errors.New("a famfs file system already exists on the device (use force to replace it)")

// ErrBadSystemUUID is wrapped by the error SystemUUID and SystemUUIDFromEnv
// return when FAMFS_SYSTEM_UUID is set to something that is not a UUID. It
// is a mistake to report, never a reason to fall back to acting as a client:
// the user asked for an identity.
var ErrBadSystemUUID = errors.New("not a UUID")

// ErrNotEmpty is wrapped when a directory to remove still has entries.
var ErrNotEmpty = syscall.ENOTEMPTY

// Queue errors.
var (
	ErrQueueFull    = pcq.ErrFull
	ErrQueueEmpty   = pcq.ErrEmpty
	ErrQueueCorrupt = pcq.ErrCorrupt
	// ErrCoherency: a message failed its sequence or CRC check after the
	// bucket was read afresh from memory.
	ErrCoherency = pcq.ErrCoherency
	ErrTooBig    = pcq.ErrTooBig
)

// BadEntry is a log entry that failed its sequence number or CRC check:
// replay waits there (it may be an append still in flight on another host).
type BadEntry struct {
	Index uint64
	Err   error
}

func (b *BadEntry) Error() string { return fmt.Sprintf("log entry %d: %v", b.Index, b.Err) }
func (b *BadEntry) Unwrap() error { return b.Err }

// badEntryOf turns the log's report into the library's, or passes err on.
func badEntryOf(err error) (*BadEntry, error) {
	var bad *metalog.BadEntry
	if errors.As(err, &bad) {
		return &BadEntry{Index: bad.Index, Err: bad.Err}, nil
	}
	return nil, err
}

// VerifyError reports the first mismatch Verify found.
type VerifyError struct {
	Path   string
	Offset uint64 // of the first mismatching 4-byte group
	Size   uint64
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("verify failed: %s differs at offset %d of %d bytes", e.Path, e.Offset, e.Size)
}
