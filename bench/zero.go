package bench

import (
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/famfs-go/famfs"
	"golang.org/x/sys/unix"
)

// Zero is the figure of what zeroing new files costs (Options.Only).
const Zero = "zero"

// zeroFiles × zeroSize is the zeroing figure's batch (issue 10: 1,000 files
// of 2 MiB).
const (
	zeroFiles = 1000
	zeroSize  = 2 << 20
)

// runZero times creating zeroFiles files of zeroSize bytes in one batch
// with zeroing (the default) against the same with NoZero, on a device whose
// data area holds old bytes (its pages allocated, as a file system that
// mkfs -f replaced on a device that keeps them would leave it). On a
// regular-file device zeroing punches a hole per file; on a dax device it
// stores zeros at memory speed.
func runZero(o *Options) (Figure, error) {
	path := tempPath(o.Dir, "zero")
	defer removeQuiet(path)
	reqs := make([]createReq, zeroFiles)
	for i := range reqs {
		reqs[i] = createReq{Path: fmt.Sprintf("z-%04d", i), CreateOptions: famfs.CreateOptions{Size: zeroSize, Mode: 0o644}}
	}
	run := func(noZero bool) (time.Duration, error) {
		removeQuiet(path)
		size := DeviceSizeFor(famfs.Format().DefaultLogLen, zeroFiles)
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return 0, err
		}
		// Old bytes where the files go: allocate the data area's pages.
		meta := famfs.Format().LogOffset + famfs.Format().DefaultLogLen
		err = unix.Fallocate(int(f.Fd()), 0, int64(meta), int64(zeroFiles*zeroSize))
		f.Close()
		if err != nil {
			return 0, fmt.Errorf("%s: preallocating: %w", path, err)
		}
		if err := os.Truncate(path, int64(size)); err != nil {
			return 0, err
		}
		if _, err := famfs.Mkfs(path, famfs.MkfsOptions{SystemUUID: masterUUID}); err != nil {
			return 0, err
		}
		fsys, err := famfs.Open(path, famfs.OpenOptions{SystemUUID: masterUUID})
		if err != nil {
			return 0, err
		}
		defer fsys.Close()
		batch := slices.Clone(reqs)
		for i := range batch {
			batch[i].NoZero = noZero
		}
		return o.timer(func() error {
			_, err := createAll(fsys, batch)
			return err
		})()
	}
	s, b, err := pair(o.Reps, func() (time.Duration, error) { return run(false) }, func() (time.Duration, error) { return run(true) })
	if err != nil {
		return Figure{}, err
	}
	sm, bm := ms(s), ms(b)
	f := timeFigure(Zero, fmt.Sprintf("create %d x 2 MiB files, zeroed", zeroFiles), sm, bm, "vs", "NoZero (--no-zero)", 0)
	f.Detail = fmt.Sprintf("%.1f us per file of zeroing, median ratio %.2fx", (f.Value-f.Baseline)*1e3/zeroFiles, f.MedianRatio)
	return f, nil
}
