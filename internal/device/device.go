package device

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Kind says what backs a device.
type Kind int

const (
	RegularFile Kind = iota // a file standing in for shared memory
	DaxChar                 // a devdax character device
	Block                   // a (pmem) block device
)

func (k Kind) String() string {
	switch k {
	case RegularFile:
		return "regular file"
	case DaxChar:
		return "devdax character device"
	case Block:
		return "block device"
	}
	return "unknown"
}

// DefaultAlign is the mapping alignment of files and of most devdax devices.
const DefaultAlign = 2 << 20

var (
	ErrNotDevice = errors.New("not a usable famfs device")
	ErrFault     = errors.New("memory fault reading or writing the device")
)

// Device is an open famfs device.
type Device struct {
	Path     string // as given
	Kind     Kind
	Size     uint64 // bytes
	Align    uint64 // the alignment famfs maps with: huge pages (MapAlign is what mmap requires)
	Writable bool   // opened read/write
	f        *os.File
	sysfs    string // sysfs directory of a char or block device
	punch    bool   // a regular file whose file system zeroes punched holes exactly
}

// Open opens the device at path. With write it needs read/write access; without
// it the device is opened read-only.
func Open(path string, write bool) (*Device, error) {
	flags := os.O_RDONLY
	if write {
		flags = os.O_RDWR
	}
	f, err := os.OpenFile(path, flags|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("device %s: %w", path, unwrapPath(err))
	}
	d := &Device{Path: path, f: f, Writable: write}
	if err := d.probe(); err != nil {
		f.Close()
		return nil, err
	}
	return d, nil
}

// FromFile wraps an already open device file (for example a descriptor
// received from a mount's daemon). path is only used in messages. The Device
// owns f from now on.
func FromFile(f *os.File, path string, write bool) (*Device, error) {
	d := &Device{Path: path, f: f, Writable: write}
	if err := d.probe(); err != nil {
		return nil, err
	}
	return d, nil
}

// Create makes a regular-file device of size bytes (sparse) at path, or
// resizes an existing regular file to size. It refuses anything that is not a
// regular file.
func Create(path string, size uint64) (*Device, error) {
	if size == 0 {
		return nil, fmt.Errorf("device %s: size must be positive", path)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("device %s: %w", path, unwrapPath(err))
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%w: it is a %s, and only a regular file can be created or resized", ErrNotDevice, describeMode(st.Mode()))
	}
	if err == nil && uint64(st.Size()) != size {
		err = f.Truncate(int64(size))
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("device %s: %w", path, err)
	}
	d := &Device{Path: path, f: f, Writable: true}
	if err := d.probe(); err != nil {
		f.Close()
		return nil, err
	}
	return d, nil
}

func (d *Device) probe() error {
	var st unix.Stat_t
	if err := unix.Fstat(int(d.f.Fd()), &st); err != nil {
		return fmt.Errorf("device %s: %w", d.Path, err)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		d.Kind, d.Size, d.Align = RegularFile, uint64(st.Size), DefaultAlign
		var fs unix.Statfs_t
		// hugetlbfs leaves partial huge pages of a punched range as they
		// were: zero there through memory instead.
		d.punch = unix.Fstatfs(int(d.f.Fd()), &fs) == nil && fs.Type != unix.HUGETLBFS_MAGIC
		return nil
	case unix.S_IFCHR:
		return d.probeChar(st.Rdev)
	case unix.S_IFBLK:
		return d.probeBlock(st.Rdev)
	}
	return fmt.Errorf("device %s: %w: it is a %s", d.Path, ErrNotDevice, describeUnixMode(st.Mode))
}

func (d *Device) probeChar(rdev uint64) error {
	d.Kind = DaxChar
	d.sysfs = fmt.Sprintf("/sys/dev/char/%d:%d", unix.Major(rdev), unix.Minor(rdev))
	subsys, err := filepath.EvalSymlinks(d.sysfs + "/subsystem")
	if err != nil || filepath.Base(subsys) != "dax" {
		return fmt.Errorf("device %s: %w: character device %d:%d is not a dax device", d.Path, ErrNotDevice, unix.Major(rdev), unix.Minor(rdev))
	}
	if drv, err := filepath.EvalSymlinks(d.sysfs + "/driver"); err == nil && filepath.Base(drv) == "fsdev_dax" {
		return fmt.Errorf("device %s: %w: it is bound to fsdev_dax, which cannot be mapped from user space; rebind it to device_dax (daxctl reconfigure-device --mode=devdax)", d.Path, ErrNotDevice)
	}
	size, err := readSysfsUint(d.sysfs + "/size")
	if err != nil {
		return fmt.Errorf("device %s: size: %w", d.Path, err)
	}
	d.Size = size
	d.Align = DefaultAlign
	if a, err := readSysfsUint(d.sysfs + "/align"); err == nil && a > 0 {
		d.Align = a
	}
	return nil
}

func (d *Device) probeBlock(rdev uint64) error {
	d.Kind = Block
	d.sysfs = fmt.Sprintf("/sys/dev/block/%d:%d", unix.Major(rdev), unix.Minor(rdev))
	// lseek(SEEK_END) on a block device returns its size in bytes.
	end, err := unix.Seek(int(d.f.Fd()), 0, io.SeekEnd)
	size := uint64(end)
	if err != nil {
		return fmt.Errorf("device %s: size: %w", d.Path, err)
	}
	d.Size, d.Align = size, DefaultAlign
	return nil
}

// Shared reports whether mappings of this device are the shared memory itself
// rather than a host-local page cache of it. A block device is reached through
// the page cache, so other hosts do not see its updates coherently.
func (d *Device) Shared() bool { return d.Kind != Block }

// Fd returns the file descriptor (owned by the Device).
func (d *Device) Fd() uintptr { return d.f.Fd() }

// File returns the underlying open file (owned by the Device).
func (d *Device) File() *os.File { return d.f }

// Close closes the device. Mappings stay valid until unmapped.
func (d *Device) Close() error { return d.f.Close() }

// Lock takes the host-local exclusive log lock (flock on the device). It blocks.
func (d *Device) Lock() error {
	for {
		err := unix.Flock(int(d.f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			if err != nil {
				return fmt.Errorf("device %s: lock: %w", d.Path, err)
			}
			return nil
		}
	}
}

// Unlock releases the log lock.
func (d *Device) Unlock() error { return unix.Flock(int(d.f.Fd()), unix.LOCK_UN) }

func readSysfsUint(p string) (uint64, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(b)), 0, 64)
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func describeMode(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	}
	return "special file"
}

func describeUnixMode(m uint32) string {
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		return "directory"
	case unix.S_IFIFO:
		return "FIFO"
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFLNK:
		return "symbolic link"
	}
	return "special file"
}
