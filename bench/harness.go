package bench

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/famfs-go/famfs"
	"golang.org/x/sys/unix"
)

// The reference's performance regression tests 001–007 (docs/bench.md,
// "The reference's harness"), run against this implementation through its
// command line and a real mount, printing the reference's lines so that the
// two implementations' logs can be put side by side. Every line also
// carries the same work measured on tmpfs in the same run, and the ratio.

// HarnessOptions are the reference harness's knobs, under its names (read
// from the environment by HarnessFromEnv).
type HarnessOptions struct {
	Binary       string // the famfs binary (default: this executable)
	Dir          string // scratch directory: the device file, the mount, the tmpfs baseline (default /dev/shm)
	MaxFiles     int    // MAX_FILES: tests 004/005 are skipped above it (reference default 10000)
	MmapSizeGB   int    // MMAP_SIZE_GB (reference default 100)
	MmapIOSizes  []int  // MMAP_IO_SIZES (default 4K, 64K, 1M)
	MmapRandSecs int    // MMAP_RAND_SECS per random test (reference default 60)
	MmapSeed     uint64 // MMAP_SEED (default: the time)
	Out          io.Writer
}

// HarnessFromEnv reads MAX_FILES, MMAP_SIZE_GB, MMAP_IO_SIZES,
// MMAP_RAND_SECS and MMAP_SEED; unset ones get this implementation's
// defaults, smaller than the reference's (1000 files, 1 GiB, 5 s) so that a
// run takes minutes on a small machine; set them to the reference's to
// compare like with like.
func HarnessFromEnv() (HarnessOptions, error) {
	o := HarnessOptions{MaxFiles: 1000, MmapSizeGB: 1, MmapIOSizes: []int{4 << 10, 64 << 10, 1 << 20}, MmapRandSecs: 5}
	num := func(name string, p *int) error {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return fmt.Errorf("%s=%q is not a count", name, v)
			}
			*p = n
		}
		return nil
	}
	for _, k := range []struct {
		name string
		p    *int
	}{{"MAX_FILES", &o.MaxFiles}, {"MMAP_SIZE_GB", &o.MmapSizeGB}, {"MMAP_RAND_SECS", &o.MmapRandSecs}} {
		if err := num(k.name, k.p); err != nil {
			return o, err
		}
	}
	if v := os.Getenv("MMAP_IO_SIZES"); v != "" {
		o.MmapIOSizes = nil
		for _, s := range strings.Split(v, ",") {
			n, err := parseHarnessSize(strings.TrimSpace(s))
			if err != nil {
				return o, fmt.Errorf("MMAP_IO_SIZES: %w", err)
			}
			o.MmapIOSizes = append(o.MmapIOSizes, n)
		}
	}
	if v := os.Getenv("MMAP_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 0, 64)
		if err != nil {
			return o, fmt.Errorf("MMAP_SEED=%q is not a number", v)
		}
		o.MmapSeed = n
	}
	return o, nil
}

func parseHarnessSize(s string) (int, error) {
	mult := 1
	switch {
	case strings.HasSuffix(strings.ToUpper(s), "K"):
		mult = 1 << 10
	case strings.HasSuffix(strings.ToUpper(s), "M"):
		mult = 1 << 20
	case strings.HasSuffix(strings.ToUpper(s), "G"):
		mult = 1 << 30
	}
	if mult > 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	return n * mult, nil
}

// harness is one run's state.
type harness struct {
	o        HarnessOptions
	dev, mnt string
	tmp      string // the tmpfs baseline directory
	uuid     string
	mounted  bool
	failures int
}

// RunHarness runs tests 001–007 and prints their lines to o.Out. It needs
// root (it mounts). It returns an error when the set-up fails; a test that
// fails prints rc != 0 and the run goes on.
func RunHarness(o HarnessOptions) error {
	if os.Geteuid() != 0 {
		return errors.New("the harness needs root (it mounts famfs and a tmpfs)")
	}
	if o.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		o.Binary = exe
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Dir == "" {
		o.Dir = "/dev/shm"
	}
	root, err := os.MkdirTemp(o.Dir, "famfs-harness-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	h := &harness{o: o, dev: filepath.Join(root, "dax.img"), mnt: filepath.Join(root, "mnt"), tmp: filepath.Join(root, "tmpfs"),
		uuid: masterUUID.String()}
	for _, d := range []string{h.mnt, h.tmp} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
	}
	if err := unix.Mount("tmpfs", h.tmp, "tmpfs", 0, "size=90%"); err != nil {
		return fmt.Errorf("mount the tmpfs baseline: %w", err)
	}
	defer unix.Unmount(h.tmp, unix.MNT_DETACH)
	defer h.unmount()
	size := uint64(8<<30) + uint64(o.MaxFiles)*(2<<20)*2 + uint64(o.MmapSizeGB)<<30
	if err := os.WriteFile(h.dev, nil, 0o600); err != nil {
		return err
	}
	if err := os.Truncate(h.dev, int64(size)); err != nil {
		return err
	}
	h.logf("famfs harness: device %s (%d GiB, sparse), mount %s, baseline tmpfs %s; MAX_FILES=%d MMAP_SIZE_GB=%d MMAP_RAND_SECS=%d",
		h.dev, size>>30, h.mnt, h.tmp, o.MaxFiles, o.MmapSizeGB, o.MmapRandSecs)
	h.test001()
	for _, n := range []int{100, 1000, 10000} {
		h.testCreateN(n)
	}
	h.test005()
	h.test006()
	h.test007()
	if h.failures > 0 {
		return fmt.Errorf("%d harness steps failed (rc != 0 above)", h.failures)
	}
	return nil
}

func (h *harness) logf(format string, args ...any) { fmt.Fprintf(h.o.Out, format+"\n", args...) }

// famfs runs the famfs binary as the master.
func (h *harness) famfs(args ...string) error {
	cmd := exec.Command(h.o.Binary, args...)
	cmd.Env = append(os.Environ(), "FAMFS_SYSTEM_UUID="+h.uuid)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("famfs %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (h *harness) unmount() {
	if h.mounted {
		h.famfs("umount", h.mnt)
		h.mounted = false
	}
}

// fresh is every test's start but 006's: unmount, mkfs -f -k, mkfs, mount;
// and an empty tmpfs baseline.
func (h *harness) fresh() error {
	h.unmount()
	entries, _ := os.ReadDir(h.tmp)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(h.tmp, e.Name()))
	}
	for _, args := range [][]string{{"mkfs", "-f", "-k", h.dev}, {"mkfs", "-f", h.dev}, {"mount", h.dev, h.mnt}} {
		if err := h.famfs(args...); err != nil {
			return err
		}
	}
	h.mounted = true
	return nil
}

// line prints a measured step: the reference's "LABEL, elapsed_sec=S, rc=R"
// with the tmpfs baseline and the ratio after it.
func (h *harness) line(label string, d, base time.Duration, err error) {
	rc := 0
	if err != nil {
		rc = 1
		h.failures++
	}
	fmt.Fprintf(h.o.Out, "%s, elapsed_sec=%.6f, rc=%d, tmpfs_sec=%.6f, ratio=%.2fx\n", label, d.Seconds(), rc, base.Seconds(), ratio(d, base))
	if err != nil {
		h.logf("%s: %v", label, err)
	}
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return a.Seconds() / b.Seconds()
}

// createEach makes n 2 MiB files, one process each: famfs creat in the
// mount, and as the baseline truncate(1) on tmpfs (a process that makes a
// 2 MiB file).
func (h *harness) createEach(prefix string, n int) (d, base time.Duration, err error) {
	start := time.Now()
	for i := range n {
		if err = h.famfs("creat", "-s", "2m", filepath.Join(h.mnt, fmt.Sprintf("%s%d", prefix, i))); err != nil {
			return time.Since(start), 0, err
		}
	}
	d = time.Since(start)
	start = time.Now()
	for i := range n {
		if out, err := exec.Command("truncate", "-s", "2M", filepath.Join(h.tmp, fmt.Sprintf("%s%d", prefix, i))).CombinedOutput(); err != nil {
			return d, 0, fmt.Errorf("truncate: %v: %s", err, out)
		}
	}
	return d, time.Since(start), nil
}

func (h *harness) test001() {
	h.logf("==== 001: create one 2 MiB file")
	if err := h.fresh(); err != nil {
		h.line("CREATE_2M", 0, 0, err)
		return
	}
	d, b, err := h.createEach("file2m-", 1)
	h.line("CREATE_2M", d, b, err)
}

func (h *harness) testCreateN(n int) {
	id := map[int]string{100: "002", 1000: "003", 10000: "004"}[n]
	h.logf("==== %s: create %d files of 2 MiB, one command each", id, n)
	if n > h.o.MaxFiles {
		h.logf("%s: skipped: %d files is above MAX_FILES=%d", id, n, h.o.MaxFiles)
		return
	}
	if err := h.fresh(); err != nil {
		h.line(fmt.Sprintf("CREATE_%d_FILES", n), 0, 0, err)
		return
	}
	d, b, err := h.createEach("f", n)
	h.line(fmt.Sprintf("CREATE_%d_FILES", n), d, b, err)
}

func (h *harness) test005() {
	h.logf("==== 005: create MAX_FILES=%d files of 2 MiB", h.o.MaxFiles)
	if err := h.fresh(); err != nil {
		h.line(fmt.Sprintf("CREATE_%d_FILES_MAX", h.o.MaxFiles), 0, 0, err)
		return
	}
	d, b, err := h.createEach("max", h.o.MaxFiles)
	h.line(fmt.Sprintf("CREATE_%d_FILES_MAX", h.o.MaxFiles), d, b, err)
}

// test006 opens (read-only, else read-write) and closes every file 005
// made, in the mount and on tmpfs.
func (h *harness) test006() {
	h.logf("==== 006: open and close the %d files of 005", h.o.MaxFiles)
	openClose := func(dir string) (time.Duration, error) {
		start := time.Now()
		for i := range h.o.MaxFiles {
			p := filepath.Join(dir, fmt.Sprintf("max%d", i))
			fd, err := unix.Open(p, unix.O_RDONLY, 0)
			if err != nil {
				if fd, err = unix.Open(p, unix.O_RDWR, 0); err != nil {
					return time.Since(start), fmt.Errorf("%s: %w", p, err)
				}
			}
			unix.Close(fd)
		}
		return time.Since(start), nil
	}
	d, err := openClose(h.mnt)
	b, berr := openClose(h.tmp)
	err = errors.Join(err, berr)
	rc := 0
	if err != nil {
		rc = 1
		h.failures++
	}
	n := max(h.o.MaxFiles, 1)
	fmt.Fprintf(h.o.Out, "OPENCLOSE, files=%d, elapsed_sec=%.6f, avg_ms=%.4f, rc=%d, tmpfs_sec=%.6f, ratio=%.2fx\n",
		h.o.MaxFiles, d.Seconds(), d.Seconds()*1e3/float64(n), rc, b.Seconds(), ratio(d, b))
	if err != nil {
		h.logf("OPENCLOSE: %v", err)
	}
}

// test007 makes one MMAP_SIZE_GB file and runs the mmap tests over it: the
// famfs file mapped zero-copy (famfs.OpenMounted and Map, as a program under
// famfs run maps it), against a tmpfs file of the same size mapped with
// mmap(2).
func (h *harness) test007() {
	h.logf("==== 007: mmap tests over one %d GiB file", h.o.MmapSizeGB)
	size := h.o.MmapSizeGB << 30
	if err := h.fresh(); err != nil {
		h.line("CREATE_MMAP_FILE", 0, 0, err)
		return
	}
	path := filepath.Join(h.mnt, "mmapfile")
	start := time.Now()
	err := h.famfs("creat", "-s", strconv.Itoa(size), path)
	d := time.Since(start)
	bpath := filepath.Join(h.tmp, "mmapfile")
	start = time.Now()
	berr := os.Truncate(bpath, int64(size))
	if berr != nil {
		if f, e := os.Create(bpath); e == nil {
			f.Close()
			berr = os.Truncate(bpath, int64(size))
		}
	}
	h.line("CREATE_MMAP_FILE", d, time.Since(start), errors.Join(err, berr))
	if err != nil || berr != nil {
		return
	}
	fsys, file, err := famfs.OpenMounted(path, true, famfs.OpenOptions{})
	if err != nil {
		h.line("MMAP", 0, 0, err)
		return
	}
	defer fsys.Close()
	m, err := file.Map(famfs.MapOptions{Access: famfs.MapReadWrite})
	if err != nil {
		h.line("MMAP", 0, 0, err)
		return
	}
	defer m.Unmap()
	bf, err := os.OpenFile(bpath, os.O_RDWR, 0)
	if err != nil {
		h.line("MMAP", 0, 0, err)
		return
	}
	defer bf.Close()
	bm, err := unix.Mmap(int(bf.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		h.line("MMAP", 0, 0, err)
		return
	}
	defer unix.Munmap(bm)
	unix.Madvise(bm, unix.MADV_SEQUENTIAL)
	seed := h.o.MmapSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	h.logf("MMAP_BEGIN, %s, seed=%d", time.Now().Format(time.RFC3339), seed)
	for _, bs := range h.o.MmapIOSizes {
		for _, t := range []struct {
			name string
			run  func(mem []byte, bs int, sync func()) (bytes int64, ops int64, d time.Duration)
		}{
			{"MMAP_SEQ_WRITE", seqWrite},
			{"MMAP_SEQ_READ", seqRead},
			{"MMAP_RAND_WRITE", h.randOps(seed, true)},
			{"MMAP_RAND_READ", h.randOps(seed, false)},
		} {
			b, ops, d := t.run(m.Bytes(), bs, m.Flush)
			bb, bops, bd := t.run(bm, bs, func() { unix.Msync(bm, unix.MS_SYNC) })
			mib := float64(b) / (1 << 20) / d.Seconds()
			bmib := float64(bb) / (1 << 20) / bd.Seconds()
			fmt.Fprintf(h.o.Out, "%s, bs=%s, throughput=%.1f MiB/s, iops=%.0f, elapsed_sec=%.6f, rc=0, tmpfs_throughput=%.1f MiB/s, tmpfs_iops=%.0f, ratio=%.2fx\n",
				t.name, ioSize(bs), mib, float64(ops)/d.Seconds(), d.Seconds(), bmib, float64(bops)/bd.Seconds(), mib/bmib)
		}
	}
	h.logf("MMAP_END, %s", time.Now().Format(time.RFC3339))
}

// ioSize writes a block size as MMAP_IO_SIZES does: 4K, 64K, 1M.
func ioSize(n int) string {
	switch {
	case n%(1<<30) == 0:
		return fmt.Sprintf("%dG", n>>30)
	case n%(1<<20) == 0:
		return fmt.Sprintf("%dM", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%dK", n>>10)
	}
	return strconv.Itoa(n)
}

// seqWrite copies a block over every block of mem, then syncs.
func seqWrite(mem []byte, bs int, sync func()) (int64, int64, time.Duration) {
	src := make([]byte, bs)
	for i := range src {
		src[i] = byte(i*31 + 7)
	}
	n := len(mem) / bs
	start := time.Now()
	for i := range n {
		copy(mem[i*bs:(i+1)*bs], src)
	}
	sync()
	return int64(n) * int64(bs), int64(n), time.Since(start)
}

// seqRead touches one byte per 4 KiB of every block.
func seqRead(mem []byte, bs int, _ func()) (int64, int64, time.Duration) {
	n := len(mem) / bs
	var x byte
	start := time.Now()
	for i := range n {
		blk := mem[i*bs : (i+1)*bs]
		for o := 0; o < len(blk); o += 4096 {
			x ^= blk[o]
		}
	}
	runtime.KeepAlive(x)
	return int64(n) * int64(bs), int64(n), time.Since(start)
}

// randOps writes (a block copy) or reads (a byte per 4 KiB) random aligned
// blocks for MMAP_RAND_SECS, picked by xorshift64*.
func (h *harness) randOps(seed uint64, write bool) func([]byte, int, func()) (int64, int64, time.Duration) {
	return func(mem []byte, bs int, sync func()) (int64, int64, time.Duration) {
		src := make([]byte, bs)
		n := uint64(len(mem) / bs)
		x := seed | 1
		limit := time.Duration(max(h.o.MmapRandSecs, 1)) * time.Second
		var ops int64
		var acc byte
		start := time.Now()
		for time.Since(start) < limit {
			for range 256 {
				x ^= x >> 12
				x ^= x << 25
				x ^= x >> 27
				i := int((x * 2685821657736338717) % n)
				blk := mem[i*bs : (i+1)*bs]
				if write {
					copy(blk, src)
				} else {
					for o := 0; o < bs; o += 4096 {
						acc ^= blk[o]
					}
				}
				ops++
			}
		}
		if write {
			sync()
		}
		runtime.KeepAlive(acc)
		return ops * int64(bs), ops, time.Since(start)
	}
}
