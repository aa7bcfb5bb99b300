package famfs

import (
	"fmt"
	"io"
	"io/fs"

	"github.com/famfs-go/famfs/internal/device"
	"github.com/famfs-go/famfs/internal/namespace"
	"github.com/famfs-go/famfs/internal/omf"
)

// File is a famfs file. Its size and map never change.
type File struct {
	fs   *FS
	info Info
	fmap omf.FMap        // the logged map (info.Map is its public form)
	node *namespace.Node // nil for a file still staged
}

// regular fails for a node that is not a regular file.
func regular(n *namespace.Node) error {
	switch {
	case n.IsDir():
		return ErrIsDir
	case n.IsSymlink():
		return fmt.Errorf("%w: a symbolic link (to %s); the library does not follow links", fs.ErrInvalid, Printable(n.Target()))
	}
	return nil
}

// OpenFile returns the regular file at path (a symbolic link is not
// followed).
func (f *FS) OpenFile(p string) (*File, error) {
	f.mu.RLock()
	n, c, err := f.findLocked("open", p)
	f.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	if err := regular(n); err != nil {
		return nil, pathErr("open", p, err)
	}
	return &File{fs: f, info: infoAt(n, c), fmap: n.FMap(), node: n}, nil
}

// Info describes the file.
func (fl *File) Info() Info {
	i := fl.info
	i.Map = fileMapOf(&fl.fmap)
	return i
}

// Size is the file size in bytes.
func (fl *File) Size() uint64 { return fl.info.Size }

// Path is the file's path relative to the file system root.
func (fl *File) Path() string { return fl.info.Path }

// Segments lists the device runs behind the file, in file order: its size
// rounded up to the allocation unit, what Map maps (the slack after the end
// reads as zeros).
func (fl *File) Segments() []Segment {
	au := fl.fs.sb.AllocUnit
	return segmentsOf(fl.fmap.Segments((fl.info.Size + au - 1) / au * au))
}

// dataMap returns a mapping of the whole device (writable when this host may
// write data), made on first use.
func (f *FS) dataMap() (*device.Mapping, error) {
	f.dataMu.Lock()
	defer f.dataMu.Unlock()
	if f.data == nil {
		m, err := f.dev.Map(0, f.sb.DevSize, f.dataWritable())
		if err != nil {
			return nil, err
		}
		f.data = m
	}
	return f.data, nil
}

// dataWritable reports whether this FS may store file data.
func (f *FS) dataWritable() bool {
	return f.dev.Writable && (f.role == Master || f.opts.WritableData)
}

// each calls fn for the device runs behind file bytes [off, off+n), n already
// clipped to the file size.
//
// On a file system made for delete the file is held for the call (a deleted
// file that nothing holds fails with ErrDeleted).
func (fl *File) each(off, n uint64, fn func(p, dev []byte) error, buf []byte) error {
	if fl.node != nil && fl.fs.part.table != nil {
		h, err := fl.Hold()
		if err != nil {
			return unwrapPath(err)
		}
		defer h.Release()
	}
	data, err := fl.fs.dataMap()
	if err != nil {
		return err
	}
	mem := data.Bytes()
	for done := uint64(0); done < n; {
		dev, contig, ok := fl.fmap.Resolve(off+done, fl.info.Size)
		if !ok {
			return fmt.Errorf("%s: offset %d is not mapped", fl.info.Path, off+done)
		}
		k := min(contig, n-done)
		var p []byte
		if buf != nil {
			p = buf[done : done+k]
		}
		if err := fn(p, mem[dev:dev+k]); err != nil {
			return err
		}
		done += k
	}
	return nil
}

// ReadAt copies file bytes at off into p (io.ReaderAt). It reads what this
// host's caches hold: call Invalidate first to see another host's flushed
// writes on non-coherent memory.
func (fl *File) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, pathErr("read", fl.info.Path, fs.ErrInvalid)
	}
	if uint64(off) >= fl.info.Size {
		return 0, io.EOF
	}
	n := min(uint64(len(p)), fl.info.Size-uint64(off))
	if err := fl.each(uint64(off), n, func(dst, src []byte) error { return device.Copy(dst, src) }, p); err != nil {
		return 0, pathErr("read", fl.info.Path, err)
	}
	if n < uint64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// WriteAt stores p at off (io.WriterAt). famfs files never grow: a write past
// the end is cut short and returns an error wrapping ErrFileSize. Call Flush
// for the data to reach other hosts on non-coherent memory.
func (fl *File) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, pathErr("write", fl.info.Path, fs.ErrInvalid)
	}
	if !fl.fs.dataWritable() {
		return 0, pathErr("write", fl.info.Path, fl.fs.readOnlyReason())
	}
	if uint64(off) >= fl.info.Size && len(p) > 0 {
		return 0, pathErr("write", fl.info.Path, fmt.Errorf("%w: offset %d is at or past the end (%d bytes)", ErrFileSize, off, fl.info.Size))
	}
	n := min(uint64(len(p)), fl.info.Size-uint64(off))
	if err := fl.each(uint64(off), n, func(src, dst []byte) error { return device.Copy(dst, src) }, p); err != nil {
		return 0, pathErr("write", fl.info.Path, err)
	}
	if n < uint64(len(p)) {
		return int(n), pathErr("write", fl.info.Path, fmt.Errorf("%w: %d of %d bytes fit before the end", ErrFileSize, n, len(p)))
	}
	return int(n), nil
}

func (f *FS) readOnlyReason() error {
	if !f.dev.Writable {
		return fmt.Errorf("%w: device opened read-only", ErrReadOnly)
	}
	return fmt.Errorf("%w: file data is read-only on a client unless opened with WritableData", ErrReadOnly)
}

// Flush writes the file's cache lines back to memory, so other hosts can see
// what this host stored.
func (fl *File) Flush() error { return fl.FlushRange(0, fl.info.Size) }

// FlushRange writes back the cache lines of file bytes [off, off+n).
func (fl *File) FlushRange(off, n uint64) error {
	return fl.cacheOp(off, n, device.Flush)
}

// Invalidate drops the file's cache lines so the next reads see memory.
func (fl *File) Invalidate() error { return fl.InvalidateRange(0, fl.info.Size) }

// InvalidateRange drops the cache lines of file bytes [off, off+n).
func (fl *File) InvalidateRange(off, n uint64) error {
	return fl.cacheOp(off, n, device.Invalidate)
}

func (fl *File) cacheOp(off, n uint64, op func([]byte)) error {
	if off >= fl.info.Size {
		return nil
	}
	n = min(n, fl.info.Size-off)
	return fl.each(off, n, func(_, mem []byte) error { op(mem); return nil }, nil)
}

// Span returns the device memory behind file bytes [off, off+n) as far as it
// is contiguous on the device: at most n bytes, never past the end of the file,
// possibly fewer (call again from off+len). The slice aliases the shared
// memory; store into it only if this FS may write data (the mapping is
// read-only otherwise and a store would fault).
func (fl *File) Span(off, n uint64) ([]byte, error) {
	if off >= fl.info.Size || n == 0 {
		return nil, nil
	}
	n = min(n, fl.info.Size-off)
	data, err := fl.fs.dataMap()
	if err != nil {
		return nil, err
	}
	dev, contig, ok := fl.fmap.Resolve(off, fl.info.Size)
	if !ok {
		return nil, fmt.Errorf("%s: offset %d is not mapped", fl.info.Path, off)
	}
	k := min(contig, n)
	return data.Bytes()[dev : dev+k], nil
}

// DataWritable reports whether this FS may store file data: the master with a
// writable device, or a client opened with WritableData.
func (f *FS) DataWritable() bool { return f.dataWritable() }

// ReadMeta copies raw bytes of the metadata region (the superblock region and
// the log, device bytes [0, log offset + log length)) at off into p, after
// invalidating their cache lines. It serves .meta/.superblock and .meta/.log.
func (f *FS) ReadMeta(p []byte, off uint64) (int, error) {
	size := f.sb.MetaSize()
	if off >= size {
		return 0, io.EOF
	}
	n := min(uint64(len(p)), size-off)
	f.meta.Invalidate(off, n)
	if err := f.meta.ReadAt(p[:n], off); err != nil {
		return 0, err
	}
	return int(n), nil
}

// kindWord names what n is, for messages.
func kindWord(n *namespace.Node) string {
	switch {
	case n.IsDir():
		return "directory"
	case n.IsSymlink():
		return "symbolic link"
	}
	return "file"
}
