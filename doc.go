// Package famfs is the public library of famfs in Go: a scale-out shared-memory
// file system for CXL fabric-attached memory, byte compatible with the
// reference C implementation's on-media format.
//
// Several hosts share one memory device. Mkfs writes a superblock and an
// append-only metadata log into it; the host that made the file system (its
// system UUID is in the superblock) is the master and the only one that
// allocates space and logs new files and directories. Every host replays the
// log to learn the namespace. Files are pre-allocated in 2 MiB-aligned extents
// and never change size.
//
// Open a device (a devdax character device, a pmem block device, or a regular
// file standing in for shared memory) and use the namespace:
//
//	fsys, err := famfs.Open("/dev/dax0.0", famfs.OpenOptions{})
//	...
//	f, err := fsys.Create("data/blob", famfs.CreateOptions{Size: 1 << 30, Mode: 0o644})
//	m, err := f.Map(famfs.MapOptions{})  // one []byte that IS the shared memory
//	copy(m.Bytes(), payload)
//	m.Flush()                            // write back for other hosts
//
// Several changes that must appear together go in one Batch, the atomic unit:
// every file, directory and link staged in it is logged in one append when
// the function returns nil, or none is; a file's data is written first, so no
// host ever sees it half-written:
//
//	err = fsys.Batch(func(b *famfs.Batch) error {
//		if err := b.Mkdir("data", famfs.MkdirOptions{Mode: 0o755}); err != nil {
//			return err
//		}
//		sf, err := b.Create("data/set", famfs.CreateOptions{Size: n, Mode: 0o644})
//		if err != nil {
//			return err
//		}
//		_, err = sf.ReadFrom(src) // straight into the shared memory
//		return err
//	})
//
// On clients, Refresh (or a poll of Changed) picks up what the master logged.
// Fsck checks a device, an image or a mount without changing it; errors.go
// lists every error the library returns.
// Map places every extent (or interleave chunk) of a file back to back in one
// virtual range, so the slice is the device memory itself: no page cache, no
// copies, 2 MiB page faults on huge-page backing.
//
// Data written through WriteAt or a Mapping reaches other hosts only once its
// cache lines are written back (File.Flush / Mapping.Flush) and, on hosts that
// may hold stale lines, invalidated before reading (File.Invalidate). On a
// single host, or with cache-coherent shared memory, these are cheap no-op
// equivalents.
package famfs
