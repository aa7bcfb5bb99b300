package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	famfs "github.com/famfs-go/famfs"
)

// openTarget opens the famfs file named by args: DEVICE FILE (the device is
// opened with famfs.Open; the role comes from this host's system UUID) or one
// path inside a famfs mount (famfs.OpenMounted). write asks for a file that
// can be mapped writable.
func openTarget(args []string, write bool) (*famfs.FS, *famfs.File, error) {
	switch len(args) {
	case 1:
		return famfs.OpenMounted(args[0], write, famfs.OpenOptions{})
	case 2:
		fsys, err := famfs.Open(args[0], famfs.OpenOptions{})
		if err != nil {
			return nil, nil, err
		}
		f, err := fsys.OpenFile(args[1])
		if err != nil {
			fsys.Close()
			return nil, nil, err
		}
		return fsys, f, nil
	}
	return nil, nil, fmt.Errorf("%w: want DEVICE FILE or one path inside a famfs mount, got %d arguments", errUsage, len(args))
}

// cmdWrite: the master writes the IPC file to a local temporary file (any
// size, little memory), creates a famfs file of exactly its size, copies it
// in (read(2) straight into the shared memory) and flushes it.
func cmdWrite(fs *flag.FlagSet, _ io.Reader, out io.Writer) (func() error, error) {
	batches := fs.Int("batches", 8, "record batches")
	rows := fs.Int("rows", 10000, "rows per batch")
	mode := fs.String("mode", "0644", "permission bits of the new file (octal)")
	dict := fs.Bool("dict", true, "include the dictionary-encoded city column")
	tmp := fs.String("tmp", os.TempDir(), "directory for the temporary IPC file")
	return func() error {
		if fs.NArg() != 2 {
			return fmt.Errorf("%w: write takes DEVICE FILE", errUsage)
		}
		perm, err := strconv.ParseUint(*mode, 8, 32)
		if err != nil || perm > 0o7777 {
			return fmt.Errorf("%w: -mode %q: not octal permission bits", errUsage, *mode)
		}
		dev, name := fs.Arg(0), fs.Arg(1)
		fsys, err := famfs.Open(dev, famfs.OpenOptions{})
		if err != nil {
			return err
		}
		defer fsys.Close()
		if fsys.Role() != famfs.Master {
			return fmt.Errorf("device %s: %w", dev, famfs.ErrNotMaster)
		}
		if _, err := fsys.Stat(name); err == nil {
			return fmt.Errorf("%s: %w", name, famfs.ErrExist)
		}

		tf, err := os.CreateTemp(*tmp, "arrowdemo-*.arrow")
		if err != nil {
			return err
		}
		defer os.Remove(tf.Name())
		defer tf.Close()
		bw := bufio.NewWriterSize(tf, 4<<20)
		if err := writeIPC(bw, *batches, *rows, *dict); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("%s: %w", tf.Name(), err)
		}
		size, err := tf.Seek(0, io.SeekCurrent)
		if err != nil {
			return err
		}
		if _, err := tf.Seek(0, io.SeekStart); err != nil {
			return err
		}

		if dir := path.Dir(name); dir != "." && dir != "/" {
			if err := fsys.Mkdir(dir, famfs.MkdirOptions{Mode: 0o755, Parents: true}); err != nil {
				return err
			}
		}
		// Every byte is written below, so the space need not be zeroed first.
		f, err := fsys.Create(name, famfs.CreateOptions{Size: uint64(size), Mode: uint32(perm), NoZero: true})
		if err != nil {
			return err
		}
		if err := f.CopyFrom(tf); err != nil { // it flushes what it copied
			return err
		}
		fmt.Fprintf(out, "wrote %s: %d bytes, %d record batches of %d rows, columns %s; host %s (%s)\n",
			f.Path(), size, *batches, *rows, schemaNames(*dict), fsys.HostUUID(), fsys.Role())
		return nil
	}, nil
}

func schemaNames(dict bool) string {
	s := ""
	for i, f := range tableSchema(dict).Fields() {
		if i > 0 {
			s += ", "
		}
		s += f.Name + " " + f.Type.String()
	}
	return s
}

// cmdPoke: the master maps the file writable, reads batch K with the same
// zero-copy reader, and stores the new id straight into the Arrow array's
// values — which are the shared memory — then flushes those bytes.
func cmdPoke(fs *flag.FlagSet, _ io.Reader, out io.Writer) (func() error, error) {
	batch := fs.Int("batch", -1, "record batch index")
	row := fs.Int("row", -1, "row index inside the batch")
	value := fs.Int64("value", 0, "new id")
	return func() error {
		if *batch < 0 || *row < 0 {
			return fmt.Errorf("%w: poke needs -batch and -row (0 or more)", errUsage)
		}
		fsys, f, err := openTarget(fs.Args(), true)
		if err != nil {
			return err
		}
		defer fsys.Close()
		// The library lets a client that asks map a file writable; this
		// example keeps to famfs' usual roles: the master writes.
		if fsys.Role() != famfs.Master {
			return fmt.Errorf("host %s is a client of %s: poke changes data from the master only (run it with the master's FAMFS_SYSTEM_UUID)",
				fsys.HostUUID(), fsys.Device().Path)
		}
		m, err := f.Map(famfs.MapOptions{Access: famfs.MapReadWrite})
		if err != nil {
			return err
		}
		defer m.Unmap()
		m.Invalidate()
		r, _, err := openZeroCopy(m.Bytes(), memory.DefaultAllocator)
		if err != nil {
			return fmt.Errorf("%s: %w", f.Path(), err)
		}
		defer r.Close()
		if *batch >= r.NumRecords() {
			return fmt.Errorf("%s: batch %d: the file has %d", f.Path(), *batch, r.NumRecords())
		}
		rec, err := r.RecordBatchAt(*batch)
		if err != nil {
			return fmt.Errorf("%s: batch %d: %w", f.Path(), *batch, err)
		}
		defer rec.Release()
		ids, ok := rec.Column(colID).(*array.Int64)
		if !ok {
			return fmt.Errorf("%s: column %d is %s, not int64", f.Path(), colID, rec.Column(colID).DataType())
		}
		if *row >= ids.Len() {
			return fmt.Errorf("%s: batch %d has %d rows, no row %d", f.Path(), *batch, ids.Len(), *row)
		}
		vals := ids.Int64Values()
		p := uintptr(unsafe.Pointer(&vals[*row]))
		in := regionOf(m.Bytes())
		if p < in.base || p+8 > in.end {
			return fmt.Errorf("%s: batch %d: the reader copied the column (value at %#x, mapping %#x-%#x)", f.Path(), *batch, p, in.base, in.end)
		}
		old := vals[*row]
		vals[*row] = *value // a store into the shared memory
		off := uint64(p - in.base)
		m.FlushRange(off, 8)
		fmt.Fprintf(out, "poked %s batch %d row %d: id %d -> %d at file offset %d (flushed), host %s (%s)\n",
			f.Path(), *batch, *row, old, *value, off, fsys.HostUUID(), fsys.Role())
		return nil
	}, nil
}
