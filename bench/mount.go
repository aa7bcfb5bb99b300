package bench

// The mount figures measure the famfs FUSE mount against same-run baselines
// on tmpfs: cold sequential read() throughput, how soon a file the master
// creates is visible on a client mount, warm stat and ls -lR of many files,
// mount time and the daemon's anonymous memory. They run the famfs binary for
// real (mkfs, mount daemons), so they need root and /dev/fuse.

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/mount"
	"github.com/google/uuid"
)

// MountOptions tune RunMount.
type MountOptions struct {
	Binary   string // the famfs binary (default: this executable)
	Dir      string // scratch directory; a tmpfs with huge=always is mounted under it
	ReadSize int64  // bytes read for the throughput figure (default 1 GiB)
	Files    int    // files for stat/ls (default 10,000)
	MountN   int    // files for mount time and daemon memory (default 15,000)
	Visible  int    // creations timed for visibility (default 200)
	Repeat   int    // runs per timed figure; the best is kept (default 5)
	Log      io.Writer
}

// Mount figure IDs.
const (
	MountRead    = "mount-read"
	MountVisible = "mount-visible"
	MountStat    = "mount-stat"
	MountLs      = "mount-ls"
	MountTime    = "mount-time"
	MountRSS     = "mount-rss"
)

var (
	mbMaster = uuid.MustParse("d0d0d0d0-0000-4000-8000-0000000000d0")
	mbClient = uuid.MustParse("e1e1e1e1-0000-4000-8000-0000000000e1")
)

type mountEnv struct {
	o       MountOptions
	hp      string // huge-page tmpfs mount
	dev     string
	mounts  []string
	cleanup []func()
}

func (e *mountEnv) logf(format string, args ...any) {
	if e.o.Log != nil {
		fmt.Fprintf(e.o.Log, format+"\n", args...)
	}
}

func (e *mountEnv) famfs(id uuid.UUID, args ...string) error {
	cmd := exec.Command(e.o.Binary, args...)
	if len(args) > 0 && args[0] == "mkfs.famfs" {
		cmd.Args = args
	}
	cmd.Env = append(os.Environ(), "FAMFS_SYSTEM_UUID="+id.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("famfs %v: %v: %s", args, err, out)
	}
	return nil
}

func (e *mountEnv) mount(id uuid.UUID, name string) (string, error) {
	mpt := filepath.Join(e.o.Dir, name)
	os.MkdirAll(mpt, 0o755)
	if err := e.famfs(id, "mount", e.dev, mpt); err != nil {
		return "", err
	}
	e.mounts = append(e.mounts, mpt)
	return mpt, nil
}

func (e *mountEnv) unmountAll() {
	for _, m := range e.mounts {
		e.famfs(mbMaster, "umount", m)
	}
	e.mounts = nil
}

// RunMount measures the mount figures. It needs root.
func RunMount(o MountOptions) ([]Figure, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("the mount benchmarks need root (FUSE mounts, a huge-page tmpfs, dropping caches)")
	}
	if o.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		o.Binary = exe
	}
	if o.Dir == "" {
		o.Dir = os.TempDir()
	}
	if o.ReadSize == 0 {
		o.ReadSize = 1 << 30
	}
	if o.Files == 0 {
		o.Files = 10000
	}
	if o.MountN == 0 {
		o.MountN = 15000
	}
	if o.Visible == 0 {
		o.Visible = 200
	}
	if o.Repeat == 0 {
		o.Repeat = 5
	}
	dir, err := os.MkdirTemp(o.Dir, "famfs-mountbench-")
	if err != nil {
		return nil, err
	}
	o.Dir = dir
	e := &mountEnv{o: o, hp: filepath.Join(dir, "hp")}
	defer func() {
		e.unmountAll()
		for i := len(e.cleanup) - 1; i >= 0; i-- {
			e.cleanup[i]()
		}
		for _, name := range []string{"m", "c"} {
			os.Remove(mount.LogPath(filepath.Join(dir, name)))
		}
		os.RemoveAll(dir)
	}()
	os.MkdirAll(e.hp, 0o755)
	if err := syscall.Mount("tmpfs", e.hp, "tmpfs", 0, "huge=always,size=8g"); err != nil {
		return nil, fmt.Errorf("mount a huge-page tmpfs: %w", err)
	}
	e.cleanup = append(e.cleanup, func() { syscall.Unmount(e.hp, syscall.MNT_DETACH) })

	var figs []Figure
	for _, step := range []func() ([]Figure, error){e.readThroughput, e.visibility, e.manyFiles, e.preloadFigures} {
		f, err := step()
		if err != nil {
			return figs, err
		}
		figs = append(figs, f...)
		e.unmountAll()
	}
	return figs, nil
}

// newDevice makes a fresh sparse device of size bytes on the huge tmpfs.
func (e *mountEnv) newDevice(size string) error {
	e.dev = filepath.Join(e.hp, "dax.img")
	os.Remove(e.dev)
	return e.famfs(mbMaster, "mkfs.famfs", "--size", size, e.dev)
}

func dropCaches() { os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0) }

// readAll reads path sequentially with 1 MiB read() calls and returns the
// elapsed time.
func readAll(path string, buf []byte) (time.Duration, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	t0 := time.Now()
	var n int64
	for {
		k, err := f.Read(buf)
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, n, err
		}
	}
	return time.Since(t0), n, nil
}

// readThroughput: a seeded file read through a client mount, cold, against
// the same bytes in a file on the same tmpfs.
func (e *mountEnv) readThroughput() ([]Figure, error) {
	e.logf("mount figures: cold read through a client mount vs tmpfs")
	m, c, size, err := e.masterClientBig()
	if err != nil {
		return nil, err
	}
	base := filepath.Join(e.hp, "tmpfs.big")
	if err := copyFile(m+"/big", base); err != nil {
		return nil, err
	}
	buf := make([]byte, 1<<20)
	best := func(path string, cold bool) (float64, error) {
		var bestT time.Duration
		for i := 0; i < e.o.Repeat; i++ {
			if cold {
				dropCaches()
			}
			t, n, err := readAll(path, buf)
			if err != nil {
				return 0, err
			}
			if n != size {
				return 0, fmt.Errorf("%s: read %d of %d bytes", path, n, size)
			}
			if bestT == 0 || t < bestT {
				bestT = t
			}
		}
		return float64(size) / bestT.Seconds() / (1 << 30), nil
	}
	// interleave the runs so that noise hits both sides alike
	fuseBW, err := best(c+"/big", true)
	if err != nil {
		return nil, err
	}
	tmpBW, err := best(base, false)
	if err != nil {
		return nil, err
	}
	if f2, err := best(c+"/big", true); err == nil && f2 > fuseBW {
		fuseBW = f2
	}
	if t2, err := best(base, false); err == nil && t2 > tmpBW {
		tmpBW = t2
	}
	os.Remove(base)
	r := fuseBW / tmpBW
	return []Figure{{ID: MountRead, Name: "cold FUSE sequential read(), 1 MiB blocks", Value: fuseBW, Unit: "GiB/s",
		Baseline: tmpBW, BaseName: "tmpfs read()", BaseWord: "vs", Ratio: r, Target: ">= 0.6x", OK: r >= 0.6}}, nil
}

// visibility: the master creates files through the library (no
// notification: the client's daemon must find them by polling) while this
// process stats the path on the client mount in a loop.
func (e *mountEnv) visibility() ([]Figure, error) {
	e.logf("mount figures: master create -> client visible")
	if err := e.newDevice("8g"); err != nil {
		return nil, err
	}
	if _, err := e.mount(mbMaster, "m"); err != nil {
		return nil, err
	}
	c, err := e.mount(mbClient, "c")
	if err != nil {
		return nil, err
	}
	fsys, err := famfs.Open(e.dev, famfs.OpenOptions{SystemUUID: mbMaster})
	if err != nil {
		return nil, err
	}
	defer fsys.Close()
	var lat []time.Duration
	for i := 0; i < e.o.Visible; i++ {
		name := fmt.Sprintf("v%04d", i)
		path := c + "/" + name
		if _, err := fsys.Create(name, famfs.CreateOptions{Size: 4096, Mode: 0o644}); err != nil {
			return nil, err
		}
		t0 := time.Now()
		for {
			var st syscall.Stat_t
			if syscall.Stat(path, &st) == nil {
				break
			}
			if time.Since(t0) > 5*time.Second {
				return nil, fmt.Errorf("%s never appeared on the client", name)
			}
		}
		lat = append(lat, time.Since(t0))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	st, _ := mount.NewClient(c).Status()
	return []Figure{{ID: MountVisible, Name: "master create -> client visible, p99", Value: p(0.99), Unit: "ms", Target: "<= 20 ms", OK: p(0.99) <= 20,
		Detail: fmt.Sprintf("%d creates through the library (no notification: the client's daemon polls every %g ms); p50 %.2f ms, max %.2f ms", len(lat), st.PollInterval, p(0.5), p(1))}}, nil
}

// manyFiles: stat and ls -lR of many files on a client mount against tmpfs,
// then mount time and daemon memory with MountN files.
func (e *mountEnv) manyFiles() ([]Figure, error) {
	e.logf("mount figures: stat, ls -lR, mount time and daemon memory with many files")
	if err := e.newDevice("40g"); err != nil {
		return nil, err
	}
	fsys, err := famfs.Open(e.dev, famfs.OpenOptions{SystemUUID: mbMaster})
	if err != nil {
		return nil, err
	}
	per := 1000
	ndirs := (e.o.MountN + per - 1) / per
	var reqs []createReq
	var statPaths []string
	base := filepath.Join(e.hp, "tmpfs-tree")
	for d := 0; d < ndirs; d++ {
		dir := fmt.Sprintf("d%02d", d)
		if err := fsys.Mkdir(dir, famfs.MkdirOptions{Mode: 0o755}); err != nil {
			return nil, err
		}
		os.MkdirAll(filepath.Join(base, dir), 0o755)
		for i := 0; i < per && d*per+i < e.o.MountN; i++ {
			p := fmt.Sprintf("%s/f%04d", dir, i)
			reqs = append(reqs, createReq{Path: p, CreateOptions: famfs.CreateOptions{Size: 4096, Mode: 0o644}})
			if len(statPaths) < e.o.Files {
				statPaths = append(statPaths, p)
				os.WriteFile(filepath.Join(base, p), nil, 0o644)
			}
		}
	}
	_, err = createAll(fsys, reqs)
	fsys.Close()
	if err != nil {
		return nil, err
	}
	// Mount time: famfs mount returns once the daemon serves.
	mpt := filepath.Join(e.o.Dir, "c")
	os.MkdirAll(mpt, 0o755)
	var bestMount time.Duration
	for i := 0; i < e.o.Repeat; i++ {
		t0 := time.Now()
		if err := e.famfs(mbClient, "mount", e.dev, mpt); err != nil {
			return nil, err
		}
		el := time.Since(t0)
		if bestMount == 0 || el < bestMount {
			bestMount = el
		}
		if i < e.o.Repeat-1 {
			e.famfs(mbClient, "umount", mpt)
		}
	}
	e.mounts = append(e.mounts, mpt)
	// Warm stat: one pass to fill the caches, then the timed pass.
	statPass := func(root string) (time.Duration, error) {
		t0 := time.Now()
		var st syscall.Stat_t
		for _, p := range statPaths {
			if err := syscall.Stat(root+"/"+p, &st); err != nil {
				return 0, fmt.Errorf("stat %s: %w", p, err)
			}
		}
		return time.Since(t0), nil
	}
	bestOf := func(f func() (time.Duration, error)) (time.Duration, error) {
		var b time.Duration
		for i := 0; i < e.o.Repeat; i++ {
			t, err := f()
			if err != nil {
				return 0, err
			}
			if b == 0 || t < b {
				b = t
			}
		}
		return b, nil
	}
	statPass(mpt)
	statPass(base)
	fuseStat, err := bestOf(func() (time.Duration, error) { return statPass(mpt) })
	if err != nil {
		return nil, err
	}
	tmpStat, err := bestOf(func() (time.Duration, error) { return statPass(base) })
	if err != nil {
		return nil, err
	}
	// ls -lR over the same number of files: famfs (after one warm-up run)
	// against the tmpfs tree.
	lsDirs := func(root string) []string {
		var ds []string
		for d := 0; d < (e.o.Files+per-1)/per; d++ {
			ds = append(ds, fmt.Sprintf("%s/d%02d", root, d))
		}
		return ds
	}
	ls := func(root string) (time.Duration, error) {
		cmd := exec.Command("ls", append([]string{"-lR"}, lsDirs(root)...)...)
		var out bytes.Buffer
		cmd.Stdout = &out
		t0 := time.Now()
		err := cmd.Run()
		el := time.Since(t0)
		if err != nil {
			return 0, fmt.Errorf("ls -lR %s: %w", root, err)
		}
		if n := strings.Count(out.String(), "\n-rw"); n != len(statPaths) {
			return 0, fmt.Errorf("ls -lR %s listed %d files, want %d", root, n, len(statPaths))
		}
		return el, nil
	}
	ls(mpt)
	ls(base)
	fuseLs, err := bestOf(func() (time.Duration, error) { return ls(mpt) })
	if err != nil {
		return nil, err
	}
	tmpLs, err := bestOf(func() (time.Duration, error) { return ls(base) })
	if err != nil {
		return nil, err
	}
	// Daemon memory with every file looked up.
	var st syscall.Stat_t
	for _, r := range reqs {
		syscall.Stat(mpt+"/"+r.Path, &st)
	}
	pid := 0
	if s, err := mount.NewClient(mpt).Status(); err == nil {
		pid = s.PID
	}
	rss := rssAnon(pid)
	statRatio := float64(tmpStat) / float64(fuseStat)
	lsRatio := float64(fuseLs) / float64(tmpLs)
	mountMs := float64(bestMount.Microseconds()) / 1000
	return []Figure{
		{ID: MountStat, Name: fmt.Sprintf("warm stat of %d files (speed vs tmpfs)", len(statPaths)), Value: msOf(fuseStat), Unit: "ms", Baseline: msOf(tmpStat), BaseName: "tmpfs", BaseWord: "vs",
			Ratio: statRatio, Target: ">= 0.9x", OK: statRatio >= 0.9},
		{ID: MountLs, Name: fmt.Sprintf("ls -lR of %d files, warm (time vs tmpfs)", len(statPaths)), Value: msOf(fuseLs), Unit: "ms", Baseline: msOf(tmpLs), BaseName: "tmpfs", BaseWord: "vs",
			Ratio: lsRatio, Target: "<= 1.2x", OK: lsRatio <= 1.2},
		{ID: MountTime, Name: fmt.Sprintf("famfs mount of %d files, until it serves", len(reqs)), Value: mountMs, Unit: "ms", Target: "<= 150 ms", OK: mountMs <= 150},
		{ID: MountRSS, Name: fmt.Sprintf("daemon RssAnon, %d files looked up", len(reqs)), Value: float64(rss) / 1024, Unit: "MiB", Target: "<= 64 MiB", OK: rss > 0 && rss <= 64<<10},
	}, nil
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// rssAnon returns a process's RssAnon in KiB.
func rssAnon(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// masterClientBig makes a new device with a master and a client mount and a
// seeded file of ReadSize bytes, big, made on the master.
func (e *mountEnv) masterClientBig() (m, c string, size int64, err error) {
	if err := e.newDevice("8g"); err != nil {
		return "", "", 0, err
	}
	if m, err = e.mount(mbMaster, "m"); err != nil {
		return "", "", 0, err
	}
	if c, err = e.mount(mbClient, "c"); err != nil {
		return "", "", 0, err
	}
	size = e.o.ReadSize
	err = e.famfs(mbMaster, "creat", "-s", strconv.FormatInt(size, 10), "-r", "-S", "7", m+"/big")
	return m, c, size, err
}
