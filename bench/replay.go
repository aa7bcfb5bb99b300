package bench

import (
	"fmt"
	"hash/crc32"
	"os"
	"slices"
	"time"

	"github.com/famfs-go/famfs/internal/device"
	"github.com/famfs-go/famfs/internal/metalog"
	"github.com/famfs-go/famfs/internal/namespace"
	"github.com/famfs-go/famfs/omf"
)

// ReplayTarget is the log replay target: at most this many times the
// read+CRC floor.
//
// Where the floor runs from the CPU cache (8 MiB fits in many L3s; ~0.4 ms,
// over 20 GB/s) the target leaves about 100 ns per entry, while replay must,
// per entry, drop and re-read its cache lines from memory (shared memory
// other hosts write), check its sequence number and CRC, decode it and add a
// node to the tree. Replay reads the log in place (no copy), decodes common
// entries straight into a pointer-free tree (~70 ns an entry) and, with a
// spare CPU, checks entries on a second goroutine ahead of the one applying
// them; on one CPU it measures about 5x.
const ReplayTarget = 4.0

// LogImage is an open device holding a full log, with its metadata mapped
// once: replay and its floor both read from this one mapping.
type LogImage struct {
	Dev     *device.Device
	SB      omf.Superblock
	Meta    *device.Mapping // [0, log offset + log length)
	Log     *metalog.Log
	Next    uint64 // the header's next_index
	Entries int
	Files   int
}

// OpenLogImage makes a full-log device at path (see FullLogDevice) and maps
// its metadata read-only.
func OpenLogImage(path string, logLen uint64) (*LogImage, error) {
	n, files, err := FullLogDevice(path, logLen)
	if err != nil {
		return nil, err
	}
	dev, err := device.Open(path, false)
	if err != nil {
		return nil, err
	}
	raw, err := readHead(path)
	if err != nil {
		dev.Close()
		return nil, err
	}
	sb, err := omf.ParseSuperblock(raw)
	if err != nil {
		dev.Close()
		return nil, err
	}
	meta, err := dev.Map(0, sb.MetaSize(), false)
	if err != nil {
		dev.Close()
		return nil, err
	}
	im := &LogImage{Dev: dev, SB: sb, Meta: meta, Log: metalog.New(metalog.Sub(meta, sb.LogOffset), sb.LogLen), Entries: n, Files: files}
	h, err := im.Log.Header()
	if err != nil {
		im.Close()
		return nil, err
	}
	im.Next = h.NextIndex
	return im, nil
}

// LogBytes is the mapped log.
func (im *LogImage) LogBytes() []byte {
	return im.Meta.Bytes()[im.SB.LogOffset : im.SB.LogOffset+im.SB.LogLen]
}

// Close unmaps and closes the device.
func (im *LogImage) Close() {
	im.Meta.Unmap()
	im.Dev.Close()
}

// Replay replays the whole log into a fresh namespace tree, as a host does on
// open, and checks that every entry was applied cleanly.
func (im *LogImage) Replay() (*namespace.Tree, error) {
	t := namespace.New(im.SB.DevSize, im.SB.AllocUnit, im.SB.MetaSize())
	t.Grow(int(im.Next))
	var dec omf.EntryDecoder
	next, err := im.Log.ReplayRaw(0, im.Next, func(i uint64, raw []byte, _ error) { t.ApplyRaw(i, raw, &dec) })
	if err != nil {
		return nil, err
	}
	if next != im.Next {
		return nil, fmt.Errorf("replay stopped at %d of %d", next, im.Next)
	}
	if p := t.Problems(); len(p) > 0 {
		return nil, fmt.Errorf("%d replay problems, first: %v", len(p), p[0])
	}
	if st := t.Stats(); st.Files != uint64(im.Files) {
		return nil, fmt.Errorf("replay made %d files, want %d", st.Files, im.Files)
	}
	return t, nil
}

// floorChunk is the read size of the floor: the same chunks replay reads.
const floorChunk = 256 * omf.EntrySize

// ReadCRC is the replay floor: a plain read of the whole log from the same
// mapping, in replay-sized chunks, with a CRC-32 over every byte.
func (im *LogImage) ReadCRC(buf []byte) (uint32, error) {
	var crc uint32
	base, n := im.SB.LogOffset, im.SB.LogLen
	for off := uint64(0); off < n; off += floorChunk {
		c := buf[:min(floorChunk, n-off)]
		if err := im.Meta.ReadAt(c, base+off); err != nil {
			return 0, err
		}
		crc = crc32.Update(crc, crc32.IEEETable, c)
	}
	return crc, nil
}

// FloorBuffer returns a buffer for ReadCRC.
func FloorBuffer() []byte { return make([]byte, floorChunk) }

// Fresh runs fn on a copy of im whose metadata is mapped anew (and unmapped
// afterwards), so that fn pays the page faults, as a host opening the file
// system does.
func (im *LogImage) Fresh(fn func(*LogImage) error) error {
	meta, err := im.Dev.Map(0, im.SB.MetaSize(), false)
	if err != nil {
		return err
	}
	defer meta.Unmap()
	c := *im
	c.Meta, c.Log = meta, metalog.New(metalog.Sub(meta, im.SB.LogOffset), im.SB.LogLen)
	return fn(&c)
}

func runReplay(o *Options) (Figure, error) {
	path := tempPath(o.Dir, "replay")
	defer removeQuiet(path)
	im, err := OpenLogImage(path, o.LogLen)
	if err != nil {
		return Figure{}, err
	}
	defer im.Close()
	buf := FloorBuffer()
	replay := func(im *LogImage) error { _, err := im.Replay(); return err }
	readCRC := func(im *LogImage) error { _, err := im.ReadCRC(buf); return err }
	invReadCRC := func(im *LogImage) error {
		device.Invalidate(im.LogBytes())
		return readCRC(im)
	}
	// Warm up both (page faults of the mapping, code paths).
	if err := replay(im); err != nil {
		return Figure{}, err
	}
	if err := readCRC(im); err != nil {
		return Figure{}, err
	}
	s, b, err := pair(o.Reps, o.timer(func() error { return replay(im) }), o.timer(func() error { return readCRC(im) }))
	if err != nil {
		return Figure{}, err
	}
	sm, bm := ms(s), ms(b)
	best, floor := slices.Min(sm), slices.Min(bm)
	f := Figure{ID: Replay, Name: fmt.Sprintf("log replay (%d entries)", im.Entries),
		Value: best, Unit: "ms", Baseline: floor, BaseWord: "floor", BaseName: "read+crc",
		Ratio: best / floor, MedianRatio: medianRatio(sm, bm),
		Target: fmt.Sprintf("<= %gx", ReplayTarget), Samples: sm, BaseSamples: bm}
	f.OK = f.Ratio <= ReplayTarget

	// Two more views of the same work. Replay must drop the log's cache
	// lines before reading (other hosts write it), so its reads come from
	// memory; the plain floor reads a log the cache holds. And a host that
	// opens the file system maps the log afresh and takes its page faults.
	_, inv, err := pair(o.Reps, func() (time.Duration, error) { return 0, nil }, o.timer(func() error { return invReadCRC(im) }))
	if err != nil {
		return Figure{}, err
	}
	fs, fb, err := pair(o.Reps,
		o.timer(func() error { return im.Fresh(replay) }),
		o.timer(func() error { return im.Fresh(readCRC) }))
	if err != nil {
		return Figure{}, err
	}
	invFloor := slices.Min(ms(inv))
	f.Also = []Comparison{
		{Name: "vs invalidate+read+crc", Value: best, Baseline: invFloor, Ratio: best / invFloor},
		{Name: "fresh mapping each run", Value: slices.Min(ms(fs)), Baseline: slices.Min(ms(fb)),
			Ratio: slices.Min(ms(fs)) / slices.Min(ms(fb))},
	}
	f.Detail = fmt.Sprintf("%.0f ns/entry, median ratio %.2fx", best*1e6/float64(im.Entries), f.MedianRatio)
	return f, nil
}

func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, omf.SuperblockSize)
	_, err = f.ReadAt(b, 0)
	return b, err
}
