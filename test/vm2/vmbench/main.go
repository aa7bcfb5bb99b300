// Command vmbench measures the two figures of the VM scenarios (test/vm2)
// inside the guests, through the public library only:
//
//	vmbench read [-dev DEV] PATH
//	    sequential read of a famfs file through File.Map against a raw mmap
//	    of the same device bytes (the file's first extent) in the same run.
//	vmbench lat-master [-dev DEV] [-dir D] [-n N] [-ready FILE]
//	vmbench lat-client [-dev DEV] [-dir D] [-n N] -mount MNT
//	    master-create -> client-visible latency across two kernels. The
//	    master creates D/f001..N one at a time with the library; the client
//	    stats each name through its mount until it appears and acknowledges
//	    through a word of the shared file D/sync, which both map. Only the
//	    master's clock is read: a sample is the time from the start (and from
//	    the return) of the master's Create to the acknowledgement, less the
//	    one-way delay of the acknowledgement itself (half the median round
//	    trip of a ping-pong on the same words).
//
// Results are printed as lines starting with "FIGURE", which the harness
// collects. Exit codes: 0 done, 1 failure, 16 usage.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	famfs "github.com/famfs-go/famfs"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmd := os.Args[1]
	fl := flag.NewFlagSet(cmd, flag.ExitOnError)
	dev := fl.String("dev", "/dev/dax0.0", "famfs device")
	dir := fl.String("dir", "lat", "latency: directory of the files (relative to the root)")
	n := fl.Int("n", 40, "latency: number of files")
	mnt := fl.String("mount", "", "lat-client: the client's mount point")
	ready := fl.String("ready", "", "lat-master: create this file once the sync file exists")
	rounds := fl.Int("rounds", 24, "read: timed passes of each kind")
	fl.Parse(os.Args[2:])
	var err error
	switch cmd {
	case "read":
		if fl.NArg() != 1 {
			usage()
		}
		err = readBench(*dev, fl.Arg(0), *rounds)
	case "lat-master":
		err = latMaster(*dev, *dir, *n, *ready)
	case "lat-client":
		if *mnt == "" {
			usage()
		}
		err = latClient(*dev, *dir, *n, *mnt)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "vmbench %s: %v\n", cmd, err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: vmbench read|lat-master|lat-client [flags] (see the source)")
	os.Exit(16)
}

// sum reads b sequentially, eight words per step; b's length is a multiple of 64.
func sum(b []byte) uint64 {
	w := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/8)
	var s0, s1, s2, s3 uint64
	for i := 0; i+8 <= len(w); i += 8 {
		s0 += w[i] ^ w[i+4]
		s1 += w[i+1] ^ w[i+5]
		s2 += w[i+2] ^ w[i+6]
		s3 += w[i+3] ^ w[i+7]
	}
	return s0 + s1 + s2 + s3
}

func readBench(dev, path string, rounds int) error {
	fsys, err := famfs.Open(dev, famfs.OpenOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer fsys.Close()
	f, err := fsys.OpenFile(path)
	if err != nil {
		return err
	}
	m, err := f.Map(famfs.MapOptions{Access: famfs.MapReadOnly})
	if err != nil {
		return err
	}
	defer m.Unmap()
	seg := f.Segments()[0]
	n := min(seg.Len, f.Size()) &^ (2<<20 - 1)
	if n == 0 {
		return fmt.Errorf("%s: first extent shorter than 2 MiB", path)
	}
	d, err := os.Open(dev)
	if err != nil {
		return err
	}
	defer d.Close()
	raw, err := syscall.Mmap(int(d.Fd()), int64(seg.DevOff), int(n), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("raw mmap of %s at 0x%x+0x%x: %w", dev, seg.DevOff, n, err)
	}
	defer syscall.Munmap(raw)
	mapped := m.Bytes()[:n]
	// Warm both (page tables, host-side faults), and check they are the same memory.
	if a, b := sum(mapped), sum(raw); a != b {
		return fmt.Errorf("%s: mapped bytes differ from the device bytes at 0x%x (sum %x vs %x)", path, seg.DevOff, a, b)
	}
	// Short passes over the same window of both, in ABBA order, best of
	// many: on a busy host (and under TCG) a long pass rarely runs
	// undisturbed, and whichever kind ran second would pay for a trend.
	win := min(n, 64<<20)
	timed := func(b []byte) time.Duration {
		t0 := time.Now()
		sum(b)
		return time.Since(t0)
	}
	tm, tr := time.Duration(1<<62), time.Duration(1<<62)
	for i := 0; i < rounds; i++ {
		off := uint64(i) * win % (n - win + 1) &^ (2<<20 - 1)
		a, b := mapped[off:off+win], raw[off:off+win]
		if i%2 == 0 {
			tm = min(tm, timed(a))
			tr = min(tr, timed(b))
		} else {
			tr = min(tr, timed(b))
			tm = min(tm, timed(a))
		}
	}
	gbps := func(t time.Duration) float64 { return float64(win) / t.Seconds() / 1e9 }
	fmt.Printf("FIGURE mapread: File.Map %.2f GB/s, raw mmap of %s %.2f GB/s, ratio %.3f (best of %d passes of %d MiB over a %d MiB file)\n",
		gbps(tm), dev, gbps(tr), tr.Seconds()/tm.Seconds(), rounds, win>>20, n>>20)
	return nil
}

// words of the sync file, each in its own cache line
const (
	wMaster = 0  // master's sequence number
	wClient = 8  // client's acknowledgement
	wAttach = 16 // client has mapped the sync file
	attach  = 0xa77ac4
	pingN   = 50
	fileTag = 1_000_000
)

type syncWords struct {
	m *famfs.Mapping
}

func (s syncWords) p(w int) *uint64 {
	return (*uint64)(unsafe.Pointer(&s.m.Bytes()[w*8]))
}

func (s syncWords) store(w int, v uint64) {
	atomic.StoreUint64(s.p(w), v)
	s.m.FlushRange(uint64(w*8), 8)
}

func (s syncWords) load(w int) uint64 {
	s.m.InvalidateRange(uint64(w*8), 8)
	return atomic.LoadUint64(s.p(w))
}

// await spins until word w holds v.
func (s syncWords) await(w int, v uint64, limit time.Duration) error {
	t0 := time.Now()
	for i := 0; s.load(w) != v; i++ {
		if i%1024 == 0 && time.Since(t0) > limit {
			return fmt.Errorf("no %d in sync word %d after %v (it holds %d)", v, w, limit, s.load(w))
		}
		runtime.Gosched()
	}
	return nil
}

func syncFile(dir string) string { return dir + "/sync" }

func latMaster(dev, dir string, n int, ready string) error {
	fsys, err := famfs.Open(dev, famfs.OpenOptions{})
	if err != nil {
		return err
	}
	defer fsys.Close()
	if fsys.Role() != famfs.Master {
		return fmt.Errorf("%s: not the master (set FAMFS_SYSTEM_UUID)", dev)
	}
	if err := fsys.Mkdir(dir, famfs.MkdirOptions{Mode: 0o755, Parents: true}); err != nil {
		return err
	}
	sf, err := fsys.Create(syncFile(dir), famfs.CreateOptions{Size: 4096, Mode: 0o666})
	if err != nil {
		return err
	}
	m, err := sf.Map(famfs.MapOptions{Access: famfs.MapReadWrite})
	if err != nil {
		return err
	}
	defer m.Unmap()
	s := syncWords{m}
	for _, w := range []int{wMaster, wClient, wAttach} {
		s.store(w, 0)
	}
	if ready != "" {
		if err := os.WriteFile(ready, nil, 0o644); err != nil {
			return err
		}
	}
	if err := s.await(wAttach, attach, 2*time.Minute); err != nil {
		return fmt.Errorf("client never attached: %w", err)
	}
	rtt := make([]time.Duration, 0, pingN)
	for k := uint64(1); k <= pingN; k++ {
		t0 := time.Now()
		s.store(wMaster, k)
		if err := s.await(wClient, k, 10*time.Second); err != nil {
			return err
		}
		rtt = append(rtt, time.Since(t0))
	}
	oneWay := pct(rtt, 50) / 2
	lat := make([]time.Duration, 0, n)  // from the start of Create
	latR := make([]time.Duration, 0, n) // from its return
	mk := make([]time.Duration, 0, n)
	for i := 1; i <= n; i++ {
		// vary the phase against the client daemon's 2 ms poll
		time.Sleep(time.Duration(3+i%7) * time.Millisecond)
		t0 := time.Now()
		if _, err := fsys.Create(fmt.Sprintf("%s/f%03d", dir, i), famfs.CreateOptions{Size: 1 << 20, Mode: 0o644}); err != nil {
			return err
		}
		t1 := time.Now()
		s.store(wMaster, fileTag+uint64(i))
		if err := s.await(wClient, fileTag+uint64(i), 30*time.Second); err != nil {
			return fmt.Errorf("file %d never acknowledged: %w", i, err)
		}
		t2 := time.Now()
		lat = append(lat, max(t2.Sub(t0)-oneWay, 0))
		latR = append(latR, max(t2.Sub(t1)-oneWay, 0))
		mk = append(mk, t1.Sub(t0))
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Nanoseconds())/1e6) }
	fmt.Printf("FIGURE latency: master create -> client visible (stat through its mount), %d files: from the start of the master's Create p50 %s, p99 %s; from its return (the entry is logged) p50 %s, p99 %s; the Create itself p50 %s (it zeroes the file first); acknowledgement through shared memory, one way: %.1f us (subtracted)\n",
		n, ms(pct(lat, 50)), ms(pct(lat, 99)), ms(pct(latR, 50)), ms(pct(latR, 99)), ms(pct(mk, 50)), float64(oneWay.Nanoseconds())/1e3)
	return nil
}

func latClient(dev, dir string, n int, mnt string) error {
	fsys, err := famfs.Open(dev, famfs.OpenOptions{WritableData: true})
	if err != nil {
		return err
	}
	defer fsys.Close()
	sf, err := fsys.OpenFile(syncFile(dir))
	if err != nil {
		return err
	}
	m, err := sf.Map(famfs.MapOptions{Access: famfs.MapReadWrite})
	if err != nil {
		return err
	}
	defer m.Unmap()
	s := syncWords{m}
	s.store(wAttach, attach)
	for k := uint64(1); k <= pingN; k++ {
		if err := s.await(wMaster, k, 30*time.Second); err != nil {
			return err
		}
		s.store(wClient, k)
	}
	for i := 1; i <= n; i++ {
		p := filepath.Join(mnt, dir, fmt.Sprintf("f%03d", i))
		t0 := time.Now()
		for {
			if _, err := os.Stat(p); err == nil {
				break
			}
			if time.Since(t0) > 30*time.Second {
				return fmt.Errorf("%s never appeared", p)
			}
			time.Sleep(100 * time.Microsecond)
		}
		s.store(wClient, fileTag+uint64(i))
	}
	return nil
}

// pct is the p-th percentile (nearest rank) of d.
func pct(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	k := (len(s)*p + 99) / 100
	return s[max(k-1, 0)]
}
