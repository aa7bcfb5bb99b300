package famfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/famfs-go/famfs/internal/control"
	"github.com/famfs-go/famfs/internal/device"
	"github.com/famfs-go/famfs/internal/mounts"
)

// OpenMounted opens the famfs file at path, a path inside a famfs mount, for
// zero-copy access through Map without root. If this process may open the
// device itself it does. Otherwise it opens the file through the mount (so
// the kernel checks the file's mode and every directory on the way) and
// passes that descriptor to the mount's daemon over its grant socket
// (docs/protocol.md, "Grant protocol"), which answers with a descriptor of the device of the same
// access mode — but only to callers trusted with the device: those who may
// open it, or members of the group the mount names with -o zerocopy_group.
// Everyone else gets an error wrapping fs.ErrPermission and reads the file
// through the mount. With write the file can be written and mapped writable
// (on a client mount only if it was mounted -o rw).
//
// A grant is a lease: the mount's daemon holds the file for
// this process, so that its space is not reused should it be deleted, until
// the FS is closed and every Mapping made through it is unmapped.
//
// The returned FS holds the device; close it when done with the file.
func OpenMounted(path string, write bool, opts OpenOptions) (*FS, *File, error) {
	m, rel, ok := mounts.Containing(path)
	if !ok {
		return nil, nil, pathErr("open", path, errors.New("not inside a famfs mount"))
	}
	rel = filepath.ToSlash(rel)
	opts.WritableData = opts.WritableData || write
	opts.ReadOnly = !write
	flags := os.O_RDONLY
	if write {
		flags = os.O_RDWR
	}
	var lease *control.Lease
	f, err := os.OpenFile(m.Source, flags|syscall.O_CLOEXEC, 0)
	if errors.Is(err, fs.ErrPermission) {
		lease, f, err = grantFor(path, flags, m.Source)
	}
	if err != nil {
		return nil, nil, pathErr("open", path, err)
	}
	dev, err := device.FromFile(f, m.Source, write)
	if err != nil {
		f.Close()
		lease.Close()
		return nil, nil, pathErr("open", path, fmt.Errorf("device %s: %w", m.Source, err))
	}
	fsys, err := openDevice(dev, opts)
	if err != nil && !errors.Is(err, ErrLogDamaged) {
		lease.Close()
		return nil, nil, err
	}
	if lease == nil && fsys.part.table != nil && !fsys.canRegister() {
		// A file system made for delete: whoever reads file data must
		// hold it against reuse, and a read-only device cannot take a
		// slot in the participant table. The mount's daemon holds the
		// file instead, for as long as a grant's lease lives.
		var gdev *os.File
		lease, gdev, err = grantFor(path, os.O_RDONLY, m.Source)
		if err != nil {
			fsys.Close()
			return nil, nil, pathErr("open", path, fmt.Errorf("a file system made for delete: a read-only reader needs the mount's daemon to hold the file: %w", err))
		}
		gdev.Close()
	}
	if lease != nil {
		fsys.lease = &grantLease{lease: lease, ino: lease.Reply.Ino}
	}
	file, err := fsys.OpenFile(rel)
	if err != nil {
		fsys.Close()
		return nil, nil, err
	}
	if g := lease; g != nil && (g.Reply.FSUUID != fsys.Superblock().UUID || g.Reply.Ino != file.Info().Ino) {
		fsys.Close()
		return nil, nil, pathErr("open", path, fmt.Errorf("%w: the mount's daemon granted inode %d of file system %s, the device holds inode %d of %s",
			ErrFSChanged, g.Reply.Ino, g.Reply.FSUUID, file.Info().Ino, fsys.Superblock().UUID))
	}
	return fsys, file, nil
}

// grantFor opens path through the mount with flags and asks the mount's
// daemon for a device descriptor of the same access mode; the lease is the
// caller's to close.
func grantFor(path string, flags int, devPath string) (*control.Lease, *os.File, error) {
	mf, err := os.OpenFile(path, flags|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err // the kernel's verdict on the file (EACCES, EROFS, ...)
	}
	defer mf.Close()
	l, dev, err := control.Grant(mf)
	if errors.Is(err, syscall.EACCES) {
		return nil, nil, fmt.Errorf("device %s: this user may not open it and the mount's daemon trusts it only to users who may (or to the mount's -o zerocopy_group): read the file through the mount instead: %w", devPath, err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("device %s: %w", devPath, err)
	}
	if flags&os.O_RDWR != 0 && !l.Reply.Writable() {
		dev.Close()
		l.Close()
		return nil, nil, fmt.Errorf("device %s: the mount's daemon granted read-only access (a client mount is writable only with -o rw): %w", devPath, ErrReadOnly)
	}
	return l, dev, nil
}
