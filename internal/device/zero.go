package device

import (
	"errors"

	"golang.org/x/sys/unix"
)

// Zero makes device bytes [off, off+len(mem)) read as zero; mem is this
// process's mapping of exactly that range. On a regular file it punches a
// hole (the file system drops the pages, every mapping then reads zeros, and
// the memory is given back); on devices, on hugetlbfs (which leaves partial
// huge pages as they were) or where the file system cannot punch holes, it
// stores zeros through mem and writes the lines back to memory.
func (d *Device) Zero(off uint64, mem []byte) error {
	if len(mem) == 0 {
		return nil
	}
	if d.punch {
		err := unix.Fallocate(int(d.f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, int64(off), int64(len(mem)))
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.ENOSYS) {
			return err
		}
	}
	if err := Guard(func() { clear(mem) }); err != nil {
		return err
	}
	Flush(mem)
	return nil
}
