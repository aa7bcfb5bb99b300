package bench

import (
	"fmt"
	"slices"
	"time"

	"github.com/famfs-go/famfs/bench/internal/bare"

	"github.com/famfs-go/famfs"
	"golang.org/x/sys/unix"
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

// logImage is a device holding a full log, open twice: as a client file
// system (the replay subject) and as a plain mapping of its metadata (the
// floor). The two mappings share the device's pages.
type logImage struct {
	path    string
	fs      *famfs.FS
	raw     *bare.Meta
	entries int
	files   int
}

// openLogImage makes a full-log device at path (see FullLogDevice), opens it
// read-only as a client and maps its metadata read-only.
//
// The client opens the file system while its log is still empty, so its own
// namespace is empty too: the process keeps no sizeable heap alive while
// replay is timed, as in a process that only replays. With the 2 MiB
// namespace of the full log alive, the 2 MiB each replay allocates would
// reach the garbage collector's goal (twice the live heap, at least 4 MiB)
// and start a collection inside every timed replay. Rescan reads the log
// header afresh, so it replays the whole filled log all the same.
func openLogImage(path string, logLen uint64) (*logImage, error) {
	var fsys *famfs.FS
	n, files, err := fullLogDevice(path, logLen, func() (err error) {
		fsys, err = openClient(path)
		return err
	})
	if err != nil {
		if fsys != nil {
			fsys.Close()
		}
		return nil, err
	}
	raw, err := bare.OpenMeta(path, false)
	if err != nil {
		fsys.Close()
		return nil, err
	}
	return &logImage{path: path, fs: fsys, raw: raw, entries: n, files: files}, nil
}

// openClient opens the file system at path read-only, as a host that is not
// the master does.
func openClient(path string) (*famfs.FS, error) {
	return famfs.Open(path, famfs.OpenOptions{ReadOnly: true, SystemUUID: clientUUID})
}

func (im *logImage) close() {
	im.raw.Close()
	im.fs.Close()
}

// replay replays the whole log afresh into a new namespace, as a host does on
// open (FS.Rescan), and checks that every entry was applied cleanly.
func (im *logImage) replay() error {
	c, probs, err := im.fs.Rescan()
	return im.check(c, probs, err)
}

func (im *logImage) check(c famfs.Counts, probs []famfs.Problem, err error) error {
	if err != nil {
		return err
	}
	if len(probs) > 0 {
		return fmt.Errorf("%d replay problems, first: %v", len(probs), probs[0])
	}
	if c.Entries != uint64(im.entries) || c.Files != uint64(im.files) {
		return fmt.Errorf("replay read %d entries and made %d files, want %d and %d", c.Entries, c.Files, im.entries, im.files)
	}
	return nil
}

// openFresh opens the file system anew (which maps the metadata afresh,
// taking its page faults, and replays the whole log into a new namespace),
// checks the replay and closes it again: a host opening the file system.
func (im *logImage) openFresh() error {
	fsys, err := openClient(im.path)
	if err != nil {
		return err
	}
	defer fsys.Close()
	if _, _, stuck := fsys.LogStatus(); stuck != nil {
		return stuck
	}
	return im.check(fsys.Stats().Counts, fsys.Problems(), nil)
}

// readCRCFresh is the floor of openFresh: map the metadata afresh, read and
// CRC the log, unmap.
func (im *logImage) readCRCFresh(buf []byte) error {
	meta, err := im.raw.Map(unix.PROT_READ)
	if err != nil {
		return err
	}
	bare.ReadCRC(im.raw.LogOf(meta), buf)
	bare.Unmap(meta)
	return nil
}

func runReplay(o *Options) (Figure, error) {
	path := tempPath(o.Dir, "replay")
	defer removeQuiet(path)
	im, err := openLogImage(path, o.LogLen)
	if err != nil {
		return Figure{}, err
	}
	defer im.close()
	buf := make([]byte, bare.FloorChunk)
	log := im.raw.Log()
	floor := func() error { bare.ReadCRC(log, buf); return nil }
	invFloor := func() error {
		famfs.InvalidateCache(log)
		bare.ReadCRC(log, buf)
		return nil
	}
	// Warm up both (page faults of the mappings, code paths).
	if err := im.replay(); err != nil {
		return Figure{}, err
	}
	floor()
	s, b, err := pair(o.Reps, o.timer(im.replay), o.timer(floor))
	if err != nil {
		return Figure{}, err
	}
	sm, bm := ms(s), ms(b)
	f := timeFigure(Replay, fmt.Sprintf("log replay (%d entries)", im.entries), sm, bm, "floor", "read+crc", ReplayTarget)
	best := f.Value

	// Two more views of the same work. Replay must drop the log's cache
	// lines before reading (other hosts write it), so its reads come from
	// memory; the plain floor reads a log the cache holds. And a host that
	// opens the file system maps the log afresh and takes its page faults.
	_, inv, err := pair(o.Reps, func() (time.Duration, error) { return 0, nil }, o.timer(invFloor))
	if err != nil {
		return Figure{}, err
	}
	fs, fb, err := pair(o.Reps,
		o.timer(im.openFresh),
		o.timer(func() error { return im.readCRCFresh(buf) }))
	if err != nil {
		return Figure{}, err
	}
	invBase := slices.Min(ms(inv))
	f.Also = []Comparison{
		{Name: "vs invalidate+read+crc", Value: best, Baseline: invBase, Ratio: best / invBase},
		{Name: "fresh mapping each run (open+close)", Value: slices.Min(ms(fs)), Baseline: slices.Min(ms(fb)),
			Ratio: slices.Min(ms(fs)) / slices.Min(ms(fb))},
	}
	f.Detail = fmt.Sprintf("%.0f ns/entry, median ratio %.2fx", best*1e6/float64(im.entries), f.MedianRatio)
	return f, nil
}
