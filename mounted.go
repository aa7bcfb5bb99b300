package famfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/famfs-go/famfs/control"
	"github.com/famfs-go/famfs/internal/device"
	"github.com/famfs-go/famfs/internal/mounts"
)

// OpenMounted opens the famfs file at path, a path inside a famfs mount, for
// zero-copy access through Map without root. If this process may open the
// device itself it does; otherwise it asks the mount's daemon for a descriptor
// of the device over the control socket (the daemon checks the file's mode,
// owner and group against this process's credentials first). With write the
// file can be written and mapped writable (on a client mount only if it was
// mounted -o rw).
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
	var dev *device.Device
	f, err := os.OpenFile(m.Source, flags|syscall.O_CLOEXEC, 0)
	switch {
	case err == nil:
		dev, err = device.FromFile(f, m.Source, write)
	case errors.Is(err, fs.ErrPermission):
		f, err = control.NewClient(m.Point).DeviceFD(rel, write)
		if err == nil {
			dev, err = device.FromFile(f, m.Source, write)
		}
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		return nil, nil, pathErr("open", path, fmt.Errorf("device %s: %w", m.Source, err))
	}
	fsys, err := openDevice(dev, opts)
	if err != nil && !errors.Is(err, ErrLogDamaged) {
		return nil, nil, err
	}
	file, err := fsys.OpenFile(rel)
	if err != nil {
		fsys.Close()
		return nil, nil, err
	}
	return fsys, file, nil
}
