package famfs

import (
	"fmt"
	"io"

	"github.com/famfs-go/famfs/internal/device"
)

// CopyFrom reads the file's whole size from r into it, then flushes.
func (fl *File) CopyFrom(r io.Reader) error {
	if !fl.fs.dataWritable() {
		return pathErr("write", fl.info.Path, fl.fs.readOnlyReason())
	}
	var off uint64
	err := fl.each(0, fl.info.Size, func(_, mem []byte) error {
		for len(mem) > 0 {
			// read(2) straight into the shared memory: no bounce buffer. A
			// fault inside the syscall comes back as EFAULT, not a signal.
			chunk := mem[:min(len(mem), 4<<20)]
			var n int
			var err error
			if gerr := device.Guard(func() { n, err = io.ReadFull(r, chunk) }); gerr != nil {
				return gerr
			}
			if err != nil {
				if err == io.ErrUnexpectedEOF || err == io.EOF {
					return fmt.Errorf("source ended after %d of %d bytes", off+uint64(n), fl.info.Size)
				}
				return err
			}
			device.Flush(chunk)
			mem = mem[n:]
			off += uint64(n)
		}
		return nil
	}, nil)
	if err != nil {
		return pathErr("copy", fl.info.Path, err)
	}
	return nil
}
