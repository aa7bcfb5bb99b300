package famfs

import (
	"fmt"
	"io"
	"os"

	"github.com/famfs-go/famfs/internal/device"
)

// CopyOptions describe the destination of CopyIn.
type CopyOptions = CreateOptions

// CopyIn copies the local file src into a new famfs file dst (size taken from
// src; CopyOptions.Size is ignored). If dst exists as a file of exactly that
// size it is overwritten, so an interrupted copy can be restarted; any other
// existing dst is an error. The data is flushed before CopyIn returns.
func (f *FS) CopyIn(src, dst string, o CopyOptions) (*File, error) {
	in, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, pathErr("copy", src, fmt.Errorf("not a regular file"))
	}
	if st.Size() == 0 {
		return nil, pathErr("copy", src, fmt.Errorf("empty file: famfs files have at least 1 byte"))
	}
	o.Size = uint64(st.Size())
	var file *File
	err = f.Update(func(tx *Tx) error {
		file, _, err = tx.CreateOrReuse(dst, o)
		return err
	})
	if err != nil {
		return nil, err
	}
	return file, file.CopyFrom(in)
}

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

// CreateOrReuse creates a file, or returns the existing file at p (existed
// true) if it has exactly the requested size: the reference's creat and cp
// accept that, so an interrupted copy can be restarted.
func (tx *Tx) CreateOrReuse(p string, o CreateOptions) (file *File, existed bool, err error) {
	file, err = tx.Create(p, o)
	if ee, ok := asExist(err); ok && ee.Info.Mode.IsRegular() && ee.Info.Size == o.Size {
		return &File{fs: tx.f, info: ee.Info, node: tx.f.tree.Lookup(ee.Info.Path)}, true, nil
	}
	return file, false, err
}
