package bench

import (
	"fmt"
	"time"

	"github.com/famfs-go/famfs/bench/internal/bare"

	"github.com/famfs-go/famfs"
)

// Creation targets: at most this many times the bare appends, and at least
// this many files per second.
const (
	CreateTarget     = 2.0
	CreateMinPerSec  = 10000.0
	createDirsTop    = 10
	createDirsNested = 10
)

// createBatch is one creation workload: the directories to make first (not
// timed) and the files to create in one batch.
type createBatch struct {
	Dirs  []string
	Files []createReq
}

// createReq is one file of a batch.
type createReq struct {
	Path string
	famfs.CreateOptions
}

// createAll creates the files in one famfs batch (one hold of the log lock,
// one append) and returns them in order. Any failed file is an error, and
// then nothing is logged.
func createAll(f *famfs.FS, reqs []createReq) ([]*famfs.File, error) {
	staged := make([]*famfs.StagedFile, len(reqs))
	err := f.Batch(func(b *famfs.Batch) error {
		b.Grow(len(reqs))
		for i, r := range reqs {
			var err error
			if staged[i], err = b.Create(r.Path, r.CreateOptions); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]*famfs.File, len(staged))
	for i, sf := range staged {
		out[i] = sf.File()
	}
	return out, nil
}

// newCreateBatch returns n files of 4 KiB to 2 MiB spread over 100 nested
// directories, directory by directory (as a recursive copy creates them).
func newCreateBatch(n int) createBatch {
	var b createBatch
	for t := range createDirsTop {
		b.Dirs = append(b.Dirs, fmt.Sprintf("batch-%02d", t))
		for s := range createDirsNested {
			b.Dirs = append(b.Dirs, fmt.Sprintf("batch-%02d/set-%02d", t, s))
		}
	}
	leaves := createDirsTop * createDirsNested
	per := (n + leaves - 1) / leaves
	for i := range n {
		leaf := i / per
		b.Files = append(b.Files, createReq{
			Path: fmt.Sprintf("batch-%02d/set-%02d/file-%05d.dat", leaf/createDirsNested, leaf%createDirsNested, i),
			// NoZero: this figure is the metadata path; the zeroing figure
			// (zero.go) measures what zeroing new files adds.
			CreateOptions: famfs.CreateOptions{Size: 4096 + uint64(i)*7919*4096%(allocUnit-4096),
				Mode: 0o644, UID: 1000, GID: 1000, NoZero: true},
		})
	}
	return b
}

// newFS makes a fresh file system sized for the batch at path (made for
// delete, with a log twice the default, if reclaim) and opens it as the master, with the batch's directories
// made.
func (b createBatch) newFS(path string, reclaim bool) (*famfs.FS, error) {
	logLen := uint64(famfs.Format().DefaultLogLen)
	if reclaim { // room for a DELETE of every file too
		logLen *= 2
	}
	if _, err := famfs.Mkfs(path, famfs.MkfsOptions{Size: DeviceSizeFor(logLen, len(b.Files)), LogLen: logLen, Force: true,
		SystemUUID: masterUUID, Reclaim: reclaim}); err != nil {
		return nil, err
	}
	f, err := famfs.Open(path, famfs.OpenOptions{SystemUUID: masterUUID})
	if err != nil {
		return nil, err
	}
	err = f.Batch(func(tx *famfs.Batch) error {
		for _, d := range b.Dirs {
			if err := tx.Mkdir(d, famfs.MkdirOptions{Mode: 0o755, UID: 1000, GID: 1000}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// run creates the batch's files in one famfs batch and returns the entries
// they were logged with. Any failed file is an error.
func (b createBatch) run(f *famfs.FS) (bare.Entries, error) {
	files, err := createAll(f, b.Files)
	if err != nil {
		return nil, err
	}
	return bare.FromFiles(files), nil
}

// appendLog is a bare log for the creation baseline: a fresh file system
// whose log holds the batch's directories, its metadata mapped writable with
// a plain mmap.
type appendLog struct {
	raw *bare.Meta
	log *bare.Log
}

// newAppendLog makes the baseline's file system at path.
func (b createBatch) newAppendLog(path string) (*appendLog, error) {
	if _, err := famfs.Mkfs(path, famfs.MkfsOptions{Size: DeviceSizeFor(famfs.Format().DefaultLogLen, len(b.Files)), Force: true, SystemUUID: masterUUID}); err != nil {
		return nil, err
	}
	if err := bare.AppendAll(path, bare.Dirs(b.Dirs)); err != nil {
		return nil, err
	}
	raw, err := bare.OpenMeta(path, true)
	if err != nil {
		return nil, err
	}
	l, err := bare.NewLog(raw.Log())
	if err != nil {
		raw.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &appendLog{raw: raw, log: l}, nil
}

// appendEach appends es one entry per append.
func (a *appendLog) appendEach(es bare.Entries) error {
	for k := range es {
		if err := a.log.Append(es[k : k+1]); err != nil {
			return err
		}
	}
	return nil
}

func (a *appendLog) close() { a.raw.Close() }

func runCreate(o *Options) (Figure, error) {
	pf, pa := tempPath(o.Dir, "create"), tempPath(o.Dir, "append")
	defer removeQuiet(pf)
	defer removeQuiet(pa)
	b := newCreateBatch(o.Files)
	var entries bare.Entries
	subject := func() (time.Duration, error) {
		f, err := b.newFS(pf, false)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		var files []*famfs.File
		d, err := o.timer(func() (err error) { files, err = createAll(f, b.Files); return err })()
		entries = bare.FromFiles(files)
		return d, err
	}
	baseline := func() (time.Duration, error) {
		a, err := b.newAppendLog(pa)
		if err != nil {
			return 0, err
		}
		defer a.close()
		return o.timer(func() error { return a.appendEach(entries) })()
	}
	// Warm up; this also records the entries the baseline appends.
	if _, err := subject(); err != nil {
		return Figure{}, err
	}
	if _, err := baseline(); err != nil {
		return Figure{}, err
	}
	s, bs, err := pair(o.Reps, subject, baseline)
	if err != nil {
		return Figure{}, err
	}
	sm, bm := ms(s), ms(bs)
	f := timeFigure(Create, fmt.Sprintf("create %d files (one batch)", o.Files), sm, bm, "bare", fmt.Sprintf("%d bare appends", o.Files), CreateTarget)
	perSec := float64(o.Files) / (f.Value / 1e3)
	f.Target += fmt.Sprintf(", > %.0f files/s", CreateMinPerSec)
	f.OK = f.OK && perSec > CreateMinPerSec
	f.Detail = fmt.Sprintf("%.0f files/s, median ratio %.2fx", perSec, f.MedianRatio)
	return f, nil
}
