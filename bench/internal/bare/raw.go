package bare

import (
	"fmt"
	"hash/crc32"
	"os"
	"sync/atomic"
	"unsafe"

	"github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/internal/omf"
	"golang.org/x/sys/unix"
)

// Meta is a plain shared mapping of a device file's metadata: the
// superblock region and the log.
type Meta struct {
	f    *os.File
	sb   omf.Superblock
	meta []byte // [0, log offset + log length)
}

// OpenMeta reads the superblock of the device file at path with pread(2)
// and maps its metadata, writable if asked.
func OpenMeta(path string, writable bool) (*Meta, error) {
	flag, prot := os.O_RDONLY, unix.PROT_READ
	if writable {
		flag, prot = os.O_RDWR, unix.PROT_READ|unix.PROT_WRITE
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, err
	}
	var b [omf.SuperblockSize]byte
	if _, err := f.ReadAt(b[:], 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: read the superblock: %w", path, err)
	}
	sb, err := omf.ParseSuperblock(b[:])
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r := &Meta{f: f, sb: sb}
	if r.meta, err = r.Map(prot); err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// Map maps the metadata afresh; Unmap undoes it.
func (r *Meta) Map(prot int) ([]byte, error) {
	st, err := r.f.Stat()
	if err != nil {
		return nil, err
	}
	n := r.sb.MetaSize()
	if uint64(st.Size()) < n {
		return nil, fmt.Errorf("%s: %d bytes cannot hold the %d bytes of metadata", r.f.Name(), st.Size(), n)
	}
	b, err := unix.Mmap(int(r.f.Fd()), 0, int(n), prot, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("%s: mmap: %w", r.f.Name(), err)
	}
	return b, nil
}

// Unmap undoes Map.
func Unmap(b []byte) { unix.Munmap(b) }

// LogOf is the log inside a metadata mapping.
func (r *Meta) LogOf(meta []byte) []byte { return meta[r.sb.LogOffset : r.sb.LogOffset+r.sb.LogLen] }

// Log is the log inside this mapping.
func (r *Meta) Log() []byte { return r.LogOf(r.meta) }

// Close unmaps the metadata and closes the device.
func (r *Meta) Close() {
	Unmap(r.meta)
	r.f.Close()
}

// FloorChunk is the read size of the replay floor: the chunks replay reads
// (the entry decoder's block of 256 entries).
const FloorChunk = 256 * omf.EntrySize

// ReadCRC is the replay floor: a plain read of the whole log, in
// replay-sized chunks copied into buf (FloorChunk bytes), with a CRC-32 over
// every byte.
func ReadCRC(log, buf []byte) uint32 {
	var crc uint32
	for off := 0; off < len(log); off += FloorChunk {
		c := buf[:copy(buf[:FloorChunk], log[off:])]
		crc = crc32.Update(crc, crc32.IEEETable, c)
	}
	return crc
}

// Log appends to a log through a raw writable mapping: the creation
// baseline, and the way bench fills its full-log devices. It does what a log
// append must and nothing more, in the order the library's log writer uses:
//
//  1. encode the entries (sequence number = slot index) straight into their
//     slots, flush their lines;
//  2. store next_seqnum, then next_index, flush the header's line.
//
// It reads the header once, when made: it is the only writer.
type Log struct {
	log  []byte // the mapped log, writable
	next uint64 // the header's next_index
	cap  uint64 // entry slots
}

// NewLog makes an appender of the mapped, writable log.
func NewLog(log []byte) (*Log, error) {
	famfs.InvalidateCache(log[:omf.LogHeaderSize])
	h, err := omf.ParseLogHeader(log[:omf.LogHeaderSize], uint64(len(log)))
	if err != nil {
		return nil, err
	}
	return &Log{log: log, next: h.NextIndex, cap: h.Capacity()}, nil
}

// Append logs es (setting each one's Seqnum).
func (l *Log) Append(es Entries) error {
	n := uint64(len(es))
	if n == 0 {
		return nil
	}
	if n > l.cap-l.next {
		return fmt.Errorf("log full: %d entries do not fit in the %d free slots", n, l.cap-l.next)
	}
	first := l.next
	slots := l.log[omf.EntryOffset(first):omf.EntryOffset(first+n)]
	for k := range es {
		es[k].Seqnum = first + uint64(k)
		if err := es[k].Encode(slots[uint64(k)*omf.EntrySize:]); err != nil {
			return err
		}
	}
	famfs.FlushCache(slots)
	atomic.StoreUint64(l.word(omf.LogHdrNextSeqnum), first+n)
	atomic.StoreUint64(l.word(omf.LogHdrNextIndex), first+n)
	famfs.FlushCache(l.log[:omf.LogHeaderSize])
	l.next = first + n
	return nil
}

// word points at the aligned header word at off.
func (l *Log) word(off uint64) *uint64 { return (*uint64)(unsafe.Pointer(&l.log[off])) }
