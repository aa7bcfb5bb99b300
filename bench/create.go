package bench

import (
	"fmt"
	"slices"
	"time"

	"github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/internal/device"
	"github.com/famfs-go/famfs/internal/metalog"
	"github.com/famfs-go/famfs/omf"
)

// Creation targets: at most this many times the bare appends, and at least
// this many files per second.
const (
	CreateTarget     = 2.0
	CreateMinPerSec  = 10000.0
	createDirsTop    = 10
	createDirsNested = 10
)

// CreateBatch is one creation workload: the directories to make first (not
// timed) and the files to create in one batch.
type CreateBatch struct {
	Dirs  []string
	Files []famfs.CreateRequest
}

// NewCreateBatch returns n files of 4 KiB to 2 MiB spread over 100 nested
// directories, directory by directory (as a recursive copy creates them).
func NewCreateBatch(n int) CreateBatch {
	var b CreateBatch
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
		b.Files = append(b.Files, famfs.CreateRequest{
			Path: fmt.Sprintf("batch-%02d/set-%02d/file-%05d.dat", leaf/createDirsNested, leaf%createDirsNested, i),
			CreateOptions: famfs.CreateOptions{Size: 4096 + uint64(i)*7919*4096%(omf.AllocUnit-4096),
				Mode: 0o644, UID: 1000, GID: 1000},
		})
	}
	return b
}

// NewFS makes a fresh file system sized for the batch at path and opens it as
// the master, with the batch's directories made.
func (b CreateBatch) NewFS(path string) (*famfs.FS, error) {
	if _, err := famfs.Mkfs(path, famfs.MkfsOptions{Size: DeviceSizeFor(omf.DefaultLogLen, len(b.Files)), Force: true, SystemUUID: MasterUUID}); err != nil {
		return nil, err
	}
	f, err := famfs.Open(path, famfs.OpenOptions{SystemUUID: MasterUUID})
	if err != nil {
		return nil, err
	}
	err = f.Update(func(tx *famfs.Tx) error {
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

// Run creates the batch's files in one CreateMany and returns the entries
// they were logged with. Any failed file is an error.
func (b CreateBatch) Run(f *famfs.FS) ([]omf.Entry, error) {
	res, err := f.CreateMany(b.Files)
	if err != nil {
		return nil, err
	}
	out := make([]omf.Entry, len(res))
	for i, r := range res {
		if r.Err != nil {
			return nil, r.Err
		}
		in := r.File.Info()
		out[i] = omf.Entry{Type: omf.EntryFile, Size: in.Size, Flags: omf.FileFlagsAllHostsRW,
			UID: in.UID, GID: in.GID, Mode: uint32(in.Mode.Perm()), Path: in.Path, FMap: in.FMap}
	}
	return out, nil
}

// AppendLog is a bare log for the creation baseline: a fresh file system whose
// log holds the batch's directories, with its metadata mapped writable.
type AppendLog struct {
	Dev  *device.Device
	Meta *device.Mapping
	Log  *metalog.Log
}

// NewAppendLog makes the baseline's file system at path.
func (b CreateBatch) NewAppendLog(path string) (*AppendLog, error) {
	sb, err := famfs.Mkfs(path, famfs.MkfsOptions{Size: DeviceSizeFor(omf.DefaultLogLen, len(b.Files)), Force: true, SystemUUID: MasterUUID})
	if err != nil {
		return nil, err
	}
	dirs := make([]omf.Entry, len(b.Dirs))
	for i, d := range b.Dirs {
		dirs[i] = omf.Entry{Type: omf.EntryMkdir, UID: 1000, GID: 1000, Mode: 0o755, Path: d}
	}
	if err := appendAll(path, sb, dirs); err != nil {
		return nil, err
	}
	dev, err := device.Open(path, true)
	if err != nil {
		return nil, err
	}
	meta, err := dev.Map(0, sb.MetaSize(), true)
	if err != nil {
		dev.Close()
		return nil, err
	}
	return &AppendLog{Dev: dev, Meta: meta, Log: metalog.New(metalog.Sub(meta, sb.LogOffset), sb.LogLen)}, nil
}

// AppendEach appends es one entry per metalog.Append call.
func (a *AppendLog) AppendEach(es []omf.Entry) error {
	for k := range es {
		if _, err := a.Log.Append(es[k : k+1]); err != nil {
			return err
		}
	}
	return nil
}

// Close unmaps and closes the device.
func (a *AppendLog) Close() {
	a.Meta.Unmap()
	a.Dev.Close()
}

func runCreate(o *Options) (Figure, error) {
	pf, pa := tempPath(o.Dir, "create"), tempPath(o.Dir, "append")
	defer removeQuiet(pf)
	defer removeQuiet(pa)
	b := NewCreateBatch(o.Files)
	var entries []omf.Entry
	subject := func() (time.Duration, error) {
		f, err := b.NewFS(pf)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		return o.timer(func() (err error) { entries, err = b.Run(f); return err })()
	}
	baseline := func() (time.Duration, error) {
		a, err := b.NewAppendLog(pa)
		if err != nil {
			return 0, err
		}
		defer a.Close()
		return o.timer(func() error { return a.AppendEach(entries) })()
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
	best, base := slices.Min(sm), slices.Min(bm)
	perSec := float64(o.Files) / (best / 1e3)
	f := Figure{ID: Create, Name: fmt.Sprintf("create %d files (one CreateMany)", o.Files),
		Value: best, Unit: "ms", Baseline: base, BaseWord: "bare", BaseName: fmt.Sprintf("%d metalog.Append", o.Files),
		Ratio: best / base, MedianRatio: medianRatio(sm, bm),
		Target: fmt.Sprintf("<= %gx, > %.0f files/s", CreateTarget, CreateMinPerSec), Samples: sm, BaseSamples: bm}
	f.OK = f.Ratio <= CreateTarget && perSec > CreateMinPerSec
	f.Detail = fmt.Sprintf("%.0f files/s, median ratio %.2fx", perSec, f.MedianRatio)
	return f, nil
}
