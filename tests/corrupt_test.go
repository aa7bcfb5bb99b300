package tests

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	famfs "github.com/famfs-go/famfs"

	"github.com/famfs-go/famfs/internal/namespace"
	"github.com/famfs-go/famfs/internal/omf"
	"github.com/google/uuid"
)

// Corruption tests: a real file system on a sparse 4 GiB device file, one
// metadata field or entry byte damaged per row, and the outcome each row
// expects from Open, Refresh and Fsck (and, in cli_corrupt_test.go, from the
// famfs binary). Nothing may panic.

// The fixture's log, in order.
var corruptPaths = []string{"dir1", "dir1/file1", "file2", "striped", "dir2", "dir2/f3"}

const (
	eDir1 = iota
	eFile1
	eFile2
	eStriped
	eDir2
	eF3
)

// Superblock field offsets (docs/format.md, "Superblock").
const (
	sbMagic, sbVersion, sbLogOffset, sbLogLen, sbAllocUnit = 0x00, 0x08, 0x10, 0x18, 0x20
	sbOMFMajor, sbOMFMinor, sbUUID, sbDevUUID, sbSysUUID   = 0x28, 0x2C, 0x30, 0x40, 0x50
	sbCRC, sbFlags, sbPad, sbDDSize, sbDDUUID, sbDDDaxdev  = 0x60, 0x68, 0x6C, 0x70, 0x78, 0x88
)

// Entry field offsets (docs/format.md, "Log entries" and "File maps").
const (
	enSeqnum, enType, enCRC                      = 0x000, 0x008, omf.EntryCRCOffset
	enSize, enPath, enExtType, enNExt            = 0x010, 0x028, 0x078, 0x080
	enExt0Dev, enExt0Off, enExt0Len              = 0x088, 0x090, 0x098
	enNStrips, enChunk                           = 0x088, 0x090
	enStrip0Dev, enStrip0Off, enStrip0Len        = 0x098, 0x0A0, 0x0A8
	enDirPath                                    = 0x01C
	corruptDevSize                               = 4 << 30
	corruptMeta                                  = omf.LogOffset + omf.DefaultLogLen
	corruptHdr                                   = omf.LogOffset
	corruptMiB                                   = 1 << 20
	corruptStripeChunk                           = 2 * corruptMiB
	corruptStripedSize                           = 9 * corruptMiB
	corruptF3Size, corruptFile1Size              = 2 * corruptMiB, 3 * corruptMiB
	corruptFile2Size                      uint64 = 100
)

// corruptFixture is a pristine file system and its metadata bytes.
type corruptFixture struct {
	dev      string
	pristine []byte // device bytes [0, corruptMeta)
}

func newCorruptFixture(t testing.TB) *corruptFixture {
	t.Helper()
	dev := filepath.Join(t.TempDir(), "famfs.img")
	if _, err := famfs.Mkfs(dev, famfs.MkfsOptions{Size: corruptDevSize, SystemUUID: masterID, DevPath: "/dev/dax0.0"}); err != nil {
		t.Fatal(err)
	}
	f, err := famfs.Open(dev, famfs.OpenOptions{SystemUUID: masterID, Rand: rand.New(rand.NewPCG(1, 2))})
	if err != nil {
		t.Fatal(err)
	}
	err = f.Batch(func(b *famfs.Batch) error {
		if err := b.Mkdir("dir1", famfs.MkdirOptions{Mode: 0o755}); err != nil {
			return err
		}
		for _, c := range []struct {
			p string
			o famfs.CreateOptions
		}{
			{"dir1/file1", famfs.CreateOptions{Size: corruptFile1Size, Mode: 0o644, UID: 1000, GID: 1000}},
			{"file2", famfs.CreateOptions{Size: corruptFile2Size, Mode: 0o600}},
			{"striped", famfs.CreateOptions{Size: corruptStripedSize, Mode: 0o644,
				Interleave: famfs.Interleave{NBuckets: 2, NStrips: 2, ChunkSize: corruptStripeChunk}}},
		} {
			if _, err := b.Create(c.p, c.o); err != nil {
				return err
			}
		}
		if err := b.Mkdir("dir2", famfs.MkdirOptions{Mode: 0o700}); err != nil {
			return err
		}
		_, err := b.Create("dir2/f3", famfs.CreateOptions{Size: corruptF3Size, Mode: 0o644})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range corruptPaths {
		if info, err := f.Stat(p); err != nil || info.Index != int64(i) {
			t.Fatalf("fixture: %s is not log entry %d: %+v %v", p, i, info, err)
		}
	}
	if r := fsckOf(t, f); !r.Clean() || r.EntriesUsed != uint64(len(corruptPaths)) {
		t.Fatalf("fixture not clean: %+v", r)
	}
	f.Close()
	fx := &corruptFixture{dev: dev, pristine: make([]byte, corruptMeta)}
	fd, err := os.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	if _, err := fd.ReadAt(fx.pristine, 0); err != nil {
		t.Fatal(err)
	}
	return fx
}

// apply writes the pristine metadata with mut applied to the device; the
// returned function restores the pristine metadata.
func (fx *corruptFixture) apply(t testing.TB, mut func(t testing.TB, m []byte)) {
	t.Helper()
	m := bytes.Clone(fx.pristine)
	mut(t, m)
	fx.write(t, m)
}

func (fx *corruptFixture) restore(t testing.TB) { fx.write(t, fx.pristine) }

func (fx *corruptFixture) write(t testing.TB, m []byte) {
	t.Helper()
	fd, err := os.OpenFile(fx.dev, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	if _, err := fd.WriteAt(m, 0); err != nil {
		t.Fatal(err)
	}
}

// ---- mutations of the metadata region m = device bytes [0, 10 MiB)

var le = binary.LittleEndian

func put64(off int, v uint64) func(testing.TB, []byte) {
	return func(_ testing.TB, m []byte) { le.PutUint64(m[off:], v) }
}

func put32(off int, v uint32) func(testing.TB, []byte) {
	return func(_ testing.TB, m []byte) { le.PutUint32(m[off:], v) }
}

func xor(off int, x byte) func(testing.TB, []byte) {
	return func(_ testing.TB, m []byte) { m[off] ^= x }
}

func fill(off, n int, c byte) func(testing.TB, []byte) {
	return func(_ testing.TB, m []byte) {
		for i := off; i < off+n; i++ {
			m[i] = c
		}
	}
}

// resb re-encodes the superblock after mod, so its CRC is valid again.
func resb(mod func(s *omf.Superblock)) func(testing.TB, []byte) {
	return func(t testing.TB, m []byte) {
		s, err := omf.DecodeSuperblock(m)
		if err != nil {
			t.Fatal(err)
		}
		mod(&s)
		s.Encode(m)
	}
}

// rehdr re-encodes the log header after mod, so its CRC is valid again.
func rehdr(mod func(h *omf.LogHeader)) func(testing.TB, []byte) {
	return func(t testing.TB, m []byte) {
		h, err := omf.DecodeLogHeader(m[corruptHdr:])
		if err != nil {
			t.Fatal(err)
		}
		mod(&h)
		h.Encode(m[corruptHdr:])
	}
}

// ent returns entry i's bytes inside m.
func ent(m []byte, i int) []byte {
	off := corruptHdr + int(omf.EntryOffset(uint64(i)))
	return m[off : off+omf.EntrySize]
}

// raw damages entry i in place: its CRC no longer matches (a torn entry).
func raw(i int, mod func(e []byte)) func(testing.TB, []byte) {
	return func(_ testing.TB, m []byte) { mod(ent(m, i)) }
}

// intact changes entry i and recomputes its CRC: an intact entry with wrong
// content, as a buggy writer would log it.
func intact(i int, mod func(e []byte)) func(testing.TB, []byte) {
	return func(_ testing.TB, m []byte) {
		e := ent(m, i)
		mod(e)
		le.PutUint64(e[enCRC:], omf.EntryCRC(e))
	}
}

func setPath(at int, p string) func(e []byte) {
	return func(e []byte) {
		clear(e[at : at+omf.RelPathField])
		copy(e[at:], p)
	}
}

func e64(off int, v uint64) func(e []byte) { return func(e []byte) { le.PutUint64(e[off:], v) } }
func e32(off int, v uint32) func(e []byte) { return func(e []byte) { le.PutUint32(e[off:], v) } }
func eXor(off int, x byte) func(e []byte)  { return func(e []byte) { e[off] ^= x } }

// ---- expected outcomes

type prob struct {
	index uint64
	kind  namespace.ProblemKind
}

type corruptCase struct {
	name string
	mut  func(testing.TB, []byte)

	// Open fails with an error wrapping every one of these and naming msg;
	// nil: Open succeeds.
	open []error
	msg  string // also: when Open succeeds, text the replay problems contain

	stuck  *uint64  // Refresh reports ErrLogDamaged at this index
	probs  []prob   // the problems replay reports, in order
	gone   []string // paths absent besides those of entries with problems (other than collisions) or past stuck
	torn   uint64   // fsck's torn entry count
	extra  []prob   // problems only fsck (which scans past torn entries) reports
	logBad bool     // fsck cannot read the log header
	after  func(t *testing.T, f *famfs.FS)
}

func at(i uint64) *uint64 { return &i }

// sbBad reports whether the row makes the superblock unusable.
func (c *corruptCase) sbBad() bool {
	for _, e := range c.open {
		if errors.Is(e, famfs.ErrNoSuperblock) {
			return true
		}
	}
	return false
}

// clean reports whether fsck must find nothing.
func (c *corruptCase) clean() bool {
	return c.open == nil && c.stuck == nil && len(c.probs) == 0 && c.torn == 0 && len(c.extra) == 0
}

// bad is the number of bad entries fsck must count: the torn ones and those
// refused (every problem but a cross-link names a refused entry).
func (c *corruptCase) bad() uint64 {
	refused := map[uint64]bool{}
	for _, p := range append(append([]prob(nil), c.probs...), c.extra...) {
		if p.kind != namespace.Collision {
			refused[p.index] = true
		}
	}
	return c.torn + uint64(len(refused))
}

// fsckExit is the fsck(8) code the CLI must return for the row.
func (c *corruptCase) fsckExit() int {
	switch {
	case c.sbBad():
		return 8
	case c.clean():
		return 0
	}
	return 4
}

// logplayExit is what `famfs logplay --dryrun` must return.
func (c *corruptCase) logplayExit() int {
	if c.open == nil && c.stuck == nil && len(c.probs) == 0 {
		return 0
	}
	return 1
}

func corruptCases() []corruptCase {
	noSB := func(kind ...error) []error { return append([]error{famfs.ErrNoSuperblock}, kind...) }
	badCRC := noSB(omf.ErrBadCRC)
	strip1Off := func(m []byte) uint64 { return le.Uint64(ent(m, eStriped)[enStrip0Off+24:]) }
	file2Off := func(m []byte) uint64 { return le.Uint64(ent(m, eFile2)[enExt0Off:]) }
	return []corruptCase{
		{name: "pristine", mut: func(testing.TB, []byte) {}},

		// ---- superblock: CRC'd fields corrupted in place
		{name: "sb magic", mut: xor(sbMagic, 0x01), open: noSB(omf.ErrBadMagic), msg: "ts_magic"},
		{name: "sb magic zeroed (mkfs -k)", mut: put64(sbMagic, 0), open: noSB(omf.ErrBadMagic), msg: "ts_magic"},
		{name: "sb version", mut: put64(sbVersion, 47), open: noSB(omf.ErrWrongVersion), msg: "ts_version"},
		{name: "sb log_offset", mut: xor(sbLogOffset+2, 0x40), open: badCRC, msg: "ts_crc"},
		{name: "sb log_len", mut: put64(sbLogLen, 12<<20), open: badCRC, msg: "ts_crc"},
		{name: "sb alloc_unit", mut: put64(sbAllocUnit, 4096), open: badCRC, msg: "ts_crc"},
		{name: "sb omf major", mut: put32(sbOMFMajor, 3), open: badCRC, msg: "ts_crc"},
		{name: "sb omf minor", mut: put32(sbOMFMinor, 9), open: badCRC, msg: "ts_crc"},
		{name: "sb uuid", mut: xor(sbUUID+7, 0xff), open: badCRC, msg: "ts_crc"},
		{name: "sb dev uuid", mut: xor(sbDevUUID, 0x10), open: badCRC, msg: "ts_crc"},
		{name: "sb system uuid", mut: xor(sbSysUUID+15, 0x01), open: badCRC, msg: "ts_crc"},
		{name: "sb crc", mut: xor(sbCRC, 0x01), open: badCRC, msg: "ts_crc"},
		{name: "sb crc high half", mut: xor(sbCRC+5, 0x01), open: badCRC, msg: "ts_crc"},
		// ---- superblock: fields outside the CRC
		{name: "sb flags", mut: put32(sbFlags, 0xffffffff)},
		{name: "sb padding", mut: put32(sbPad, 0xdeadbeef)},
		{name: "sb dd_uuid", mut: fill(sbDDUUID, 16, 0xa5)},
		{name: "sb dd_daxdev unterminated", mut: fill(sbDDDaxdev, 64, 'x')},
		{name: "sb dd_daxdev garbage", mut: fill(sbDDDaxdev, 64, 0xff)},
		{name: "sb dd_size beyond the device file", mut: put64(sbDDSize, 8<<30), open: noSB(), msg: "dd_size"},
		{name: "sb dd_size huge", mut: put64(sbDDSize, ^uint64(0)), open: noSB(), msg: "dd_size"},
		{name: "sb dd_size below the log", mut: put64(sbDDSize, 4<<20), open: noSB(omf.ErrBadField), msg: "dd_size"},
		{name: "sb dd_size zero", mut: put64(sbDDSize, 0), open: noSB(omf.ErrBadField), msg: "dd_size"},
		{name: "sb dd_size shrunk: files outside are reported", mut: put64(sbDDSize, 12<<20),
			probs: []prob{{eFile1, namespace.BadMap}, {eFile2, namespace.BadMap}, {eStriped, namespace.BadMap}, {eF3, namespace.BadMap}},
			gone:  []string{"dir1/file1", "file2", "striped", "dir2/f3"}, msg: "past the end of the device"},
		// ---- superblock re-encoded: valid CRC, so the field checks speak
		{name: "sb re-encoded log_len not a power of two", mut: resb(func(s *omf.Superblock) { s.LogLen = 12 << 20 }),
			open: noSB(omf.ErrBadField), msg: "ts_log_len"},
		{name: "sb re-encoded log_len below 8 MiB", mut: resb(func(s *omf.Superblock) { s.LogLen = 4 << 20 }),
			open: noSB(omf.ErrBadField), msg: "ts_log_len"},
		{name: "sb re-encoded log_len zero", mut: resb(func(s *omf.Superblock) { s.LogLen = 0 }),
			open: noSB(omf.ErrBadField), msg: "ts_log_len"},
		{name: "sb re-encoded log_len beyond the device", mut: resb(func(s *omf.Superblock) { s.LogLen = 1 << 40 }),
			open: noSB(omf.ErrBadField), msg: "dd_size"},
		{name: "sb re-encoded log_len 2^63", mut: resb(func(s *omf.Superblock) { s.LogLen = 1 << 63 }),
			open: noSB(omf.ErrBadField), msg: "dd_size"},
		{name: "sb re-encoded log_len differs from the header", mut: resb(func(s *omf.Superblock) { s.LogLen = 16 << 20 }),
			open: []error{omf.ErrBadField}, msg: "famfs_log_len", logBad: true},
		{name: "sb re-encoded log_offset", mut: resb(func(s *omf.Superblock) { s.LogOffset = 4 << 20 }),
			open: noSB(omf.ErrBadField), msg: "ts_log_offset"},
		{name: "sb re-encoded alloc_unit 1 MiB", mut: resb(func(s *omf.Superblock) { s.AllocUnit = 1 << 20 }),
			open: noSB(omf.ErrBadField), msg: "ts_alloc_unit"},
		{name: "sb re-encoded alloc_unit 4 KiB (readers accept it)", mut: resb(func(s *omf.Superblock) { s.AllocUnit = 4096 })},
		{name: "sb re-encoded version", mut: resb(func(s *omf.Superblock) { s.Version = 50 }), // 49 is a file system made for delete
			open: noSB(omf.ErrWrongVersion), msg: "ts_version"},
		{name: "sb re-encoded omf version (informational)", mut: resb(func(s *omf.Superblock) { s.OMFMajor, s.OMFMinor = 7, 7 })},
		{name: "sb re-encoded other master", mut: resb(func(s *omf.Superblock) { s.SystemUUID = uuid.UUID{0xee} }),
			after: func(t *testing.T, f *famfs.FS) {
				if f.Role() != famfs.Client {
					t.Errorf("role %v, want client", f.Role())
				}
			}},

		// ---- log header
		{name: "log magic", mut: xor(corruptHdr+0, 0x01), open: []error{omf.ErrBadMagic}, msg: "famfs_log_magic", logBad: true},
		{name: "log len", mut: xor(corruptHdr+omf.LogHdrLen+3, 0x01), open: []error{omf.ErrBadCRC}, msg: "famfs_log_crc", logBad: true},
		{name: "log last_index", mut: xor(corruptHdr+omf.LogHdrLastIndex, 0x01), open: []error{omf.ErrBadCRC}, msg: "famfs_log_crc", logBad: true},
		{name: "log crc", mut: xor(corruptHdr+omf.LogHdrCRC+1, 0x80), open: []error{omf.ErrBadCRC}, msg: "famfs_log_crc", logBad: true},
		{name: "log crc high half", mut: xor(corruptHdr+omf.LogHdrCRC+7, 0x80), open: []error{omf.ErrBadCRC}, msg: "famfs_log_crc", logBad: true},
		{name: "log re-encoded len", mut: rehdr(func(h *omf.LogHeader) { h.Len = 16 << 20 }),
			open: []error{omf.ErrBadField}, msg: "famfs_log_len", logBad: true},
		{name: "log re-encoded last_index beyond the log", mut: rehdr(func(h *omf.LogHeader) { h.LastIndex = 1 << 40 }),
			open: []error{omf.ErrBadField}, msg: "famfs_log_last_index", logBad: true},
		{name: "log re-encoded last_index below next_index", mut: rehdr(func(h *omf.LogHeader) { h.LastIndex = 2 }),
			open: []error{omf.ErrBadField}, msg: "famfs_log_next_index", logBad: true},
		{name: "log next_index beyond the log", mut: put64(corruptHdr+omf.LogHdrNextIndex, omf.LastIndexFor(omf.DefaultLogLen)+2),
			open: []error{omf.ErrBadField}, msg: "famfs_log_next_index", logBad: true},
		{name: "log next_index 2^64-1", mut: put64(corruptHdr+omf.LogHdrNextIndex, ^uint64(0)),
			open: []error{omf.ErrBadField}, msg: "famfs_log_next_index", logBad: true},
		{name: "log next_index full log (zero slots are torn)", mut: put64(corruptHdr+omf.LogHdrNextIndex, omf.LastIndexFor(omf.DefaultLogLen)+1),
			stuck: at(6), torn: omf.LastIndexFor(omf.DefaultLogLen) + 1 - 6},
		{name: "log next_index past the entries", mut: put64(corruptHdr+omf.LogHdrNextIndex, 10), stuck: at(6), torn: 4},
		{name: "log next_index rolled back", mut: put64(corruptHdr+omf.LogHdrNextIndex, 3), gone: []string{"striped", "dir2", "dir2/f3"}},
		{name: "log next_index zero", mut: put64(corruptHdr+omf.LogHdrNextIndex, 0), gone: corruptPaths},
		{name: "log next_seqnum garbage", mut: put64(corruptHdr+omf.LogHdrNextSeqnum, 0xdeadbeefcafe),
			after: func(t *testing.T, f *famfs.FS) {
				if f.Role() != famfs.Master {
					t.Fatalf("role %v", f.Role())
				}
				// The master still appends entries whose seqnum is their index.
				if _, err := f.Create("after-garbage", famfs.CreateOptions{Size: 1, Mode: 0o644}); err != nil {
					t.Fatal(err)
				}
				if r := fsckOf(t, f); !r.Clean() || r.EntriesUsed != uint64(len(corruptPaths))+1 {
					t.Fatalf("after append: %+v", r)
				}
			}},

		// ---- entries damaged in place: torn (bad CRC or seqnum)
		{name: "entry 1 seqnum", mut: raw(eFile1, e64(enSeqnum, 7)), stuck: at(eFile1), torn: 1, msg: "famfs_log_entry_seqnum"},
		{name: "entry 1 seqnum high byte", mut: raw(eFile1, eXor(enSeqnum+7, 0x80)), stuck: at(eFile1), torn: 1},
		{name: "entry 1 crc", mut: raw(eFile1, eXor(enCRC, 0x01)), stuck: at(eFile1), torn: 1, msg: "famfs_log_entry_crc"},
		{name: "entry 1 crc high half", mut: raw(eFile1, eXor(enCRC+4, 0x01)), stuck: at(eFile1), torn: 1},
		{name: "entry 1 type", mut: raw(eFile1, e32(enType, 1)), stuck: at(eFile1), torn: 1},
		{name: "entry 1 padding", mut: raw(eFile1, eXor(0x0C, 0x01)), stuck: at(eFile1), torn: 1},
		{name: "entry 2 relpath", mut: raw(eFile2, eXor(enPath, 0x20)), stuck: at(eFile2), torn: 1},
		{name: "entry 1 nextents", mut: raw(eFile1, e32(enNExt, 2)), stuck: at(eFile1), torn: 1},
		{name: "entry 1 extent offset", mut: raw(eFile1, eXor(enExt0Off+3, 0x01)), stuck: at(eFile1), torn: 1},
		{name: "entry 1 extent length", mut: raw(eFile1, eXor(enExt0Len+2, 0x20)), stuck: at(eFile1), torn: 1},
		{name: "entry 1 ext_type", mut: raw(eFile1, e32(enExtType, 1)), stuck: at(eFile1), torn: 1},
		{name: "entry 3 nstrips", mut: raw(eStriped, e64(enNStrips, 3)), stuck: at(eStriped), torn: 1},
		{name: "entry 3 chunk size", mut: raw(eStriped, e64(enChunk, 4096)), stuck: at(eStriped), torn: 1},
		{name: "entry 5 unused tail", mut: raw(eF3, eXor(0x200, 0x01)), stuck: at(eF3), torn: 1},
		{name: "entry 0 crc: later entries lose their parent", mut: raw(eDir1, eXor(enCRC, 0xff)), stuck: at(eDir1), torn: 1,
			extra: []prob{{eFile1, namespace.MissingParent}}},
		{name: "entry 2 zeroed", mut: raw(eFile2, func(e []byte) { clear(e) }), stuck: at(eFile2), torn: 1},

		// ---- intact entries (CRC recomputed) with bad content
		{name: "entry 2 path with ..", mut: intact(eFile2, setPath(enPath, "../file2")),
			probs: []prob{{eFile2, namespace.Malformed}}, msg: "fm_relpath"},
		{name: "entry 1 path escaping below a dir", mut: intact(eFile1, setPath(enPath, "dir1/../../etc/passwd")),
			probs: []prob{{eFile1, namespace.Malformed}}, msg: `".."`},
		{name: "entry 2 path without NUL", mut: intact(eFile2, func(e []byte) { copy(e[enPath:], bytes.Repeat([]byte{'n'}, omf.RelPathField)) }),
			probs: []prob{{eFile2, namespace.Malformed}}, msg: "NUL"},
		{name: "entry 2 absolute path", mut: intact(eFile2, setPath(enPath, "/file2")),
			probs: []prob{{eFile2, namespace.Malformed}}, msg: "absolute"},
		{name: "entry 2 empty path", mut: intact(eFile2, setPath(enPath, "")),
			probs: []prob{{eFile2, namespace.Malformed}}, msg: "empty"},
		{name: "entry 4 mkdir path with ..", mut: intact(eDir2, setPath(enDirPath, "dir1/..")),
			probs: []prob{{eDir2, namespace.Malformed}, {eF3, namespace.MissingParent}}, gone: []string{"dir2"}, msg: "md_relpath"},
		{name: "entry 2 path of an existing dir", mut: intact(eFile2, setPath(enPath, "dir1")),
			probs: []prob{{eFile2, namespace.Duplicate}}, gone: []string{"file2"}},
		{name: "entry 2 file .meta at the root", mut: intact(eFile2, setPath(enPath, ".meta")),
			probs: []prob{{eFile2, namespace.Reserved}}, gone: []string{".meta"}, msg: "metadata directory"},
		{name: "entry 4 mkdir .meta at the root", mut: intact(eDir2, setPath(enDirPath, ".meta")),
			probs: []prob{{eDir2, namespace.Reserved}, {eF3, namespace.MissingParent}}, gone: []string{".meta"}, msg: "metadata directory"},
		{name: "entry 5 parent is a file", mut: intact(eF3, setPath(enPath, "file2/f3")),
			probs: []prob{{eF3, namespace.NotDir}}, gone: []string{"dir2/f3"}},
		{name: "entry 5 missing parent", mut: intact(eF3, setPath(enPath, "nodir/f3")),
			probs: []prob{{eF3, namespace.MissingParent}}, gone: []string{"dir2/f3"}},
		{name: "entry 1 nextents 17", mut: intact(eFile1, e32(enNExt, 17)), probs: []prob{{eFile1, namespace.Malformed}}, msg: "fmap_nextents"},
		{name: "entry 1 nextents 2^32-1", mut: intact(eFile1, e32(enNExt, ^uint32(0))), probs: []prob{{eFile1, namespace.Malformed}}},
		{name: "entry 1 nextents 0", mut: intact(eFile1, e32(enNExt, 0)), probs: []prob{{eFile1, namespace.BadMap}}, msg: "fm_size"},
		// The rejected map still reserves the units it names (rounded out),
		// so file2, right after file1, is reported cross-linked.
		{name: "entry 1 extent offset unaligned", mut: intact(eFile1, func(e []byte) { le.PutUint64(e[enExt0Off:], le.Uint64(e[enExt0Off:])+4096) }),
			probs: []prob{{eFile1, namespace.BadMap}, {eFile2, namespace.Collision}}, msg: "not a multiple"},
		{name: "entry 1 extent offset 0 (the superblock)", mut: intact(eFile1, e64(enExt0Off, 0)),
			probs: []prob{{eFile1, namespace.Collision}, {eFile1, namespace.BadMap}}, msg: "superblock"},
		{name: "entry 1 extent inside the log", mut: intact(eFile1, e64(enExt0Off, omf.LogOffset+2*corruptMiB)),
			probs: []prob{{eFile1, namespace.Collision}, {eFile1, namespace.BadMap}}, msg: "overlaps the superblock and log"},
		{name: "entry 1 extent at the log's start", mut: intact(eFile1, e64(enExt0Off, omf.LogOffset)),
			probs: []prob{{eFile1, namespace.Collision}, {eFile1, namespace.BadMap}}, msg: "overlaps the superblock and log"},
		{name: "entry 1 extent straddling the log's end", mut: intact(eFile1, e64(enExt0Off, omf.LogOffset+omf.DefaultLogLen-2*corruptMiB)),
			probs: []prob{{eFile1, namespace.Collision}, {eFile1, namespace.BadMap}}, msg: "overlaps the superblock and log"},
		{name: "entry 3 strip inside the log", mut: intact(eStriped, e64(enStrip0Off, omf.LogOffset)),
			probs: []prob{{eStriped, namespace.Collision}, {eStriped, namespace.BadMap}}, msg: "overlaps the superblock and log"},
		{name: "entry 1 extent past the device", mut: intact(eFile1, e64(enExt0Off, 8<<30)),
			probs: []prob{{eFile1, namespace.BadMap}}, msg: "past the end"},
		{name: "entry 1 extent at 2^64-2MiB", mut: intact(eFile1, e64(enExt0Off, ^uint64(2<<20-1))),
			probs: []prob{{eFile1, namespace.BadMap}}},
		{name: "entry 1 extent length 0", mut: intact(eFile1, e64(enExt0Len, 0)), probs: []prob{{eFile1, namespace.BadMap}}},
		{name: "entry 1 extent length 2^64-2MiB", mut: intact(eFile1, e64(enExt0Len, ^uint64(2<<20-1))), probs: []prob{{eFile1, namespace.BadMap}}},
		{name: "entry 1 extent too short for the size", mut: intact(eFile1, e64(enExt0Len, 2<<20)), probs: []prob{{eFile1, namespace.BadMap}}, msg: "fm_size"},
		{name: "entry 1 devindex", mut: intact(eFile1, e64(enExt0Dev, 1)), probs: []prob{{eFile1, namespace.BadMap}}, msg: "device index"},
		{name: "entry 1 fm_size huge", mut: intact(eFile1, e64(enSize, 1<<63)), probs: []prob{{eFile1, namespace.BadMap}}},
		{name: "entry 5 cross-linked with file2", mut: func(t testing.TB, m []byte) {
			intact(eF3, e64(enExt0Off, file2Off(m)))(t, m)
		}, probs: []prob{{eF3, namespace.Collision}}, msg: "cross-linked"},
		{name: "entry 1 ext_type 7", mut: intact(eFile1, e32(enExtType, 7)), probs: []prob{{eFile1, namespace.Malformed}}, msg: "fmap_ext_type"},
		{name: "entry 1 simple map read as interleaved", mut: intact(eFile1, e32(enExtType, 1)), probs: []prob{{eFile1, namespace.Malformed}}, msg: "ie_nstrips"},
		{name: "entry 3 niext 2", mut: intact(eStriped, e32(enNExt, 2)), probs: []prob{{eStriped, namespace.Malformed}}, msg: "fmap_niext"},
		{name: "entry 3 nstrips 0", mut: intact(eStriped, e64(enNStrips, 0)), probs: []prob{{eStriped, namespace.Malformed}}, msg: "ie_nstrips"},
		{name: "entry 3 nstrips 17", mut: intact(eStriped, e64(enNStrips, 17)), probs: []prob{{eStriped, namespace.Malformed}}, msg: "ie_nstrips"},
		{name: "entry 3 nstrips 2^64-1", mut: intact(eStriped, e64(enNStrips, ^uint64(0))), probs: []prob{{eStriped, namespace.Malformed}}},
		{name: "entry 3 nstrips 1: too little backing", mut: intact(eStriped, e64(enNStrips, 1)), probs: []prob{{eStriped, namespace.BadMap}}, msg: "fm_size"},
		{name: "entry 3 chunk size 0", mut: intact(eStriped, e64(enChunk, 0)), probs: []prob{{eStriped, namespace.Malformed}}, msg: "ie_chunk_size"},
		{name: "entry 3 chunk size 4 KiB", mut: intact(eStriped, e64(enChunk, 4096)), probs: []prob{{eStriped, namespace.BadMap}}, msg: "ie_chunk_size"},
		{name: "entry 3 chunk size 2^64-1", mut: intact(eStriped, e64(enChunk, ^uint64(0))), probs: []prob{{eStriped, namespace.BadMap}}},
		{name: "entry 3 strip offset past the device", mut: intact(eStriped, e64(enStrip0Off, 1<<40)), probs: []prob{{eStriped, namespace.BadMap}}},
		{name: "entry 3 strips overlap", mut: func(t testing.TB, m []byte) {
			intact(eStriped, e64(enStrip0Off, strip1Off(m)))(t, m)
		}, probs: []prob{{eStriped, namespace.Collision}}},
		{name: "entry 3 strip length 0", mut: intact(eStriped, e64(enStrip0Len, 0)), probs: []prob{{eStriped, namespace.BadMap}}},
		{name: "entry 0 unknown type", mut: intact(eDir1, e32(enType, 9)),
			probs: []prob{{eDir1, namespace.Malformed}, {eFile1, namespace.MissingParent}}, gone: []string{"dir1", "dir1/file1"}, msg: "famfs_log_entry_type"},
		{name: "entry 0 DELETE (ignored)", mut: intact(eDir1, e32(enType, uint32(omf.EntryDelete))),
			probs: []prob{{eFile1, namespace.MissingParent}}, gone: []string{"dir1", "dir1/file1"}},
		{name: "entry 4 mkdir read as a file", mut: intact(eDir2, e32(enType, uint32(omf.EntryFile))),
			probs: []prob{{eDir2, namespace.Malformed}, {eF3, namespace.MissingParent}}, gone: []string{"dir2"}},
		{name: "entry 5 file read as a mkdir", mut: intact(eF3, e32(enType, uint32(omf.EntryMkdir))),
			probs: []prob{{eF3, namespace.Malformed}}, gone: []string{"dir2/f3"}},
		{name: "entry 2 add_daxdev out of sequence", mut: intact(eFile2, e32(enType, uint32(omf.EntryAddDaxdev))),
			probs: []prob{{eFile2, namespace.BadDaxdev}}, gone: []string{"file2"}},
	}
}

// exercise calls everything a reader does on an open file system; none of it
// may panic, whatever the log held.
func exercise(t *testing.T, f *famfs.FS) {
	t.Helper()
	var files []string
	err := f.Walk("", func(i famfs.Info) error {
		if !i.IsDir() {
			files = append(files, i.Path)
		}
		if _, err := f.Stat(i.Path); err != nil {
			t.Errorf("stat %q: %v", i.Path, err)
		}
		if i.IsDir() {
			if _, err := f.ReadDir(i.Path); err != nil {
				t.Errorf("readdir %q: %v", i.Path, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Errorf("walk: %v", err)
	}
	for _, p := range files {
		fl, err := f.OpenFile(p)
		if err != nil {
			t.Errorf("open %q: %v", p, err)
			continue
		}
		var b [16]byte
		if fl.Size() > 0 {
			if _, err := fl.ReadAt(b[:], int64(fl.Size()-1)); err != nil && !errors.Is(err, io.EOF) {
				t.Errorf("read %q: %v", p, err)
			}
		}
		var sum uint64
		for _, s := range fl.Segments() {
			sum += s.Len
		}
		au := f.Superblock().AllocUnit
		if mapped := (fl.Size() + au - 1) / au * au; sum != mapped {
			t.Errorf("%q: segments cover %d bytes; the file's %d bytes round up to %d", p, sum, fl.Size(), mapped)
		}
	}
	f.Stats()
	f.LogStatus()
	f.Changed()
	if err := f.CheckSuperblock(); err != nil {
		t.Errorf("CheckSuperblock: %v", err)
	}
	f.ScanLog(0, func(famfs.LogEntry) {})
	fsckOf(t, f)
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func problemText[P fmt.Stringer](ps []P) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintln(&b, p)
	}
	return b.String()
}

func hasProb(ps []famfs.Problem, want prob) bool {
	for _, p := range ps {
		if p.Index == want.index && p.Kind == want.kind.String() {
			return true
		}
	}
	return false
}

// checkCorruptLibrary asserts the library's outcome for one row.
func checkCorruptLibrary(t *testing.T, dev string, c corruptCase) {
	f, err := famfs.Open(dev, famfs.OpenOptions{SystemUUID: masterID, Logger: quietLogger()})
	if c.open != nil {
		if err == nil {
			f.Close()
			t.Fatalf("Open succeeded, want an error wrapping %v", c.open)
		}
		for _, k := range c.open {
			if !errors.Is(err, k) {
				t.Errorf("Open error %q does not wrap %q", err, k)
			}
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("Open error %q does not name %q", err, c.msg)
		}
	} else {
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer f.Close()
		st, rerr := f.Refresh()
		if c.stuck != nil {
			if !errors.Is(rerr, famfs.ErrLogDamaged) || st.Stuck == nil || st.Stuck.Index != *c.stuck {
				t.Errorf("Refresh: %+v %v; want ErrLogDamaged at %d", st, rerr, *c.stuck)
			}
			if c.msg != "" && !strings.Contains(rerr.Error(), c.msg) {
				t.Errorf("Refresh error %q does not name %q", rerr, c.msg)
			}
		} else if rerr != nil {
			t.Errorf("Refresh: %v", rerr)
		}
		ps := f.Problems()
		type seen struct {
			index uint64
			kind  string
		}
		var got, want []seen
		for _, p := range ps {
			got = append(got, seen{p.Index, p.Kind})
		}
		for _, p := range c.probs {
			want = append(want, seen{p.index, p.kind.String()})
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("replay problems:\n%s want %v", problemText(ps), c.probs)
		}
		if c.msg != "" && c.stuck == nil && !strings.Contains(problemText(ps), c.msg) {
			t.Errorf("problems do not mention %q:\n%s", c.msg, problemText(ps))
		}
		// The rest of the namespace is intact.
		gone := map[string]bool{}
		for _, p := range c.gone {
			gone[p] = true
		}
		for _, p := range c.probs {
			if p.kind != namespace.Collision { // a cross-linked file is still placed
				gone[corruptPaths[p.index]] = true
			}
		}
		for i, p := range corruptPaths {
			if c.stuck != nil && uint64(i) >= *c.stuck {
				gone[p] = true
			}
			info, err := f.Stat(p)
			switch {
			case gone[p] && err == nil && info.Index == int64(i):
				t.Errorf("%s (entry %d) is present", p, i)
			case !gone[p] && (err != nil || info.Index != int64(i)):
				t.Errorf("%s (entry %d) is missing: %+v %v", p, i, info, err)
			}
		}
		for _, p := range c.gone {
			if !slices.Contains(corruptPaths, p) {
				if info, err := f.Stat(p); err == nil {
					t.Errorf("%s is present: %+v", p, info)
				}
			}
		}
		exercise(t, f)
		if c.after != nil {
			c.after(t, f)
		}
	}

	// fsck by path, as the CLI does it
	r, err := famfs.Fsck(dev, famfs.FsckOptions{SystemUUID: masterID})
	if err != nil {
		t.Fatalf("Fsck: %v", err)
	}
	if (r.Superblock == nil) != c.sbBad() || (r.SuperblockErr != "") != c.sbBad() {
		t.Errorf("fsck superblock %v err %q, want bad=%v", r.Superblock != nil, r.SuperblockErr, c.sbBad())
	}
	if c.sbBad() && !strings.Contains(r.SuperblockErr, c.msg) {
		t.Errorf("fsck superblock error %q does not name %q", r.SuperblockErr, c.msg)
	}
	if (r.LogErr != "") != c.logBad {
		t.Errorf("fsck log error %q, want bad=%v", r.LogErr, c.logBad)
	}
	if c.logBad && !strings.Contains(r.LogErr, c.msg) {
		t.Errorf("fsck log error %q does not name %q", r.LogErr, c.msg)
	}
	if r.Clean() != c.clean() {
		t.Errorf("fsck clean=%v, want %v: %+v\n%s", r.Clean(), c.clean(), r, problemText(r.Problems))
	}
	if r.Torn != c.torn {
		t.Errorf("fsck counts %d torn entries, want %d", r.Torn, c.torn)
	}
	if r.Superblock != nil && r.LogErr == "" && r.BadEntries() != c.bad() {
		t.Errorf("fsck counts %d bad entries, want %d:\n%s", r.BadEntries(), c.bad(), problemText(r.Problems))
	}
	for _, p := range append(append([]prob(nil), c.probs...), c.extra...) {
		if !hasProb(r.Problems, p) {
			t.Errorf("fsck does not report %v:\n%s", p, problemText(r.Problems))
		}
	}
	if c.stuck != nil && !hasProb(r.Problems, prob{*c.stuck, namespace.Torn}) {
		t.Errorf("fsck does not report entry %d torn", *c.stuck)
	}
}

func TestCorruptMetadata(t *testing.T) {
	fx := newCorruptFixture(t)
	for _, c := range corruptCases() {
		t.Run(c.name, func(t *testing.T) {
			fx.apply(t, c.mut)
			defer fx.restore(t)
			checkCorruptLibrary(t, fx.dev, c)
		})
	}
}
