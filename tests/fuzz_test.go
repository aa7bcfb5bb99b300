package tests

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	famfs "github.com/famfs-go/famfs"

	"github.com/famfs-go/famfs/internal/omf"
)

// FuzzOpen writes fuzzed superblock, log header and entry bytes to a small
// sparse device file and opens, replays, walks, reads and fscks it: nothing
// may panic (a SIGBUS from mapping past the end of the file would kill the
// worker and count as a crash), and Open and Fsck must agree on whether the
// superblock and log header are usable.
//
//	go test -run='^$' -fuzz='^FuzzOpen$' -fuzztime=60s -fuzzminimizetime=200x .

const (
	fuzzDevSize = 16 << 20 // superblock region, 8 MiB log, 3 data units
	fuzzLogArea = 64 << 10 // log bytes the fuzzer controls (header included)
)

// Fuzz modes.
const (
	fuzzFixSB      = 1 << 0 // recompute the superblock CRC
	fuzzFixHdr     = 1 << 1 // recompute the log header CRC
	fuzzFixEntries = 1 << 2 // store seqnum i and a matching CRC in every whole entry
)

func fuzzImage(f *testing.F) (sb, hdr, entries []byte) {
	s := omf.NewSuperblock()
	s.UUID[0], s.DevUUID[0], s.SystemUUID = 1, 2, masterID
	s.DevSize = fuzzDevSize
	s.DevPath = "/dev/dax0.0"
	sb = make([]byte, omf.SuperblockSize)
	s.Encode(sb)
	es := []omf.Entry{
		{Type: omf.EntryMkdir, Mode: 0o755, Path: "d"},
		{Type: omf.EntryFile, Size: 3 << 20, Flags: 2, Mode: 0o644, Path: "d/f",
			FMap: omf.FMap{Type: omf.ExtSimple, Extents: []omf.Extent{{Offset: 10 << 20, Len: 4 << 20}}}},
		{Type: omf.EntryFile, Size: 100, Flags: 2, Mode: 0o600, Path: "g",
			FMap: omf.FMap{Type: omf.ExtInterleave, Interleaved: []omf.Interleave{{ChunkSize: 2 << 20, Strips: []omf.Extent{{Offset: 14 << 20, Len: 2 << 20}}}}}},
	}
	for i := range es {
		es[i].Seqnum = uint64(i)
		b := make([]byte, omf.EntrySize)
		if err := es[i].Encode(b); err != nil {
			f.Fatal(err)
		}
		entries = append(entries, b...)
	}
	h := omf.NewLogHeader(omf.DefaultLogLen)
	h.NextIndex, h.NextSeqnum = uint64(len(es)), uint64(len(es))
	hdr = make([]byte, omf.LogHeaderSize)
	h.Encode(hdr)
	return sb, hdr, entries
}

func FuzzOpen(f *testing.F) {
	sb, hdr, entries := fuzzImage(f)
	f.Add(sb, hdr, entries, uint8(0))
	f.Add(sb, hdr, entries[:omf.EntrySize], uint8(fuzzFixEntries))
	f.Add(sb, hdr, entries, uint8(fuzzFixSB|fuzzFixHdr|fuzzFixEntries))
	f.Add(sb[:100], hdr[:10], []byte{}, uint8(0))

	dev := filepath.Join(f.TempDir(), "dev")
	fd, err := os.Create(dev)
	if err != nil {
		f.Fatal(err)
	}
	defer fd.Close()
	if err := fd.Truncate(fuzzDevSize); err != nil {
		f.Fatal(err)
	}
	sbZero := make([]byte, 4096)
	logZero := make([]byte, fuzzLogArea)

	f.Fuzz(func(t *testing.T, sb, hdr, entries []byte, mode uint8) {
		sbBuf := append(append([]byte(nil), sb...), sbZero[min(len(sb), len(sbZero)):]...)[:len(sbZero)]
		logBuf := append([]byte(nil), logZero...)
		copy(logBuf, hdr[:min(len(hdr), omf.LogHeaderSize)])
		copy(logBuf[omf.LogHeaderSize:], entries)
		if mode&fuzzFixSB != 0 {
			le.PutUint64(sbBuf[0x60:], omf.SuperblockCRC(sbBuf))
		}
		if mode&fuzzFixHdr != 0 {
			le.PutUint64(logBuf[omf.LogHdrCRC:], omf.LogHeaderCRC(logBuf))
		}
		if mode&fuzzFixEntries != 0 {
			for i := 0; omf.LogHeaderSize+(i+1)*omf.EntrySize <= min(len(logBuf), omf.LogHeaderSize+len(entries)); i++ {
				e := logBuf[omf.LogHeaderSize+i*omf.EntrySize:][:omf.EntrySize]
				le.PutUint64(e, uint64(i))
				le.PutUint64(e[omf.EntryCRCOffset:], omf.EntryCRC(e))
			}
		}
		if _, err := fd.WriteAt(sbBuf, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := fd.WriteAt(logBuf, omf.LogOffset); err != nil {
			t.Fatal(err)
		}

		fs, oerr := famfs.Open(dev, famfs.OpenOptions{SystemUUID: masterID, ReadOnly: true, Logger: quietLogger()})
		if oerr == nil {
			exercise(t, fs)
			fs.Close()
		}
		r, err := famfs.Fsck(dev, famfs.FsckOptions{SystemUUID: masterID})
		if err != nil {
			t.Fatalf("Fsck: %v", err)
		}
		switch {
		case oerr == nil && (r.Superblock == nil || r.LogErr != ""):
			t.Fatalf("Open succeeded but fsck could not read the file system: %q %q", r.SuperblockErr, r.LogErr)
		case errors.Is(oerr, famfs.ErrNoSuperblock) != (r.Superblock == nil):
			t.Fatalf("Open: %v; fsck superblock error %q", oerr, r.SuperblockErr)
		case oerr != nil && r.Superblock != nil && r.LogErr == "":
			t.Fatalf("Open failed (%v) but fsck read everything", oerr)
		}
		if r.Superblock != nil && r.LogErr == "" && r.EntriesUsed > r.EntrySlots {
			t.Fatalf("fsck: %d entries used of %d", r.EntriesUsed, r.EntrySlots)
		}
	})
}
