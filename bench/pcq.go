package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/famfs-go/famfs"
	"golang.org/x/sys/unix"
)

// Queue is the pcq figure: messages through a famfs.Queue between two
// processes (this one producing, a child consuming), for 64 B, 4 KiB and
// 1 MiB buckets, against a raw ring over the same device bytes in the same
// run. The raw ring copies each message into a slot and out again and hands
// the slot over through the same index words with the same flushes and
// invalidates, but has no sequence number and no CRC: what the queue's
// checks cost is the difference.
const Queue = "pcq"

// QueueTarget: the queue must carry at least this fraction of the raw
// ring's messages per second.
const QueueTarget = 0.8

// peerEnv, when set, makes a famfs binary (or this package's test binary)
// run the consumer side of the queue figure (Peer) instead of itself.
const peerEnv = "FAMFS_BENCH_PEER"

var queueSizes = []uint64{64, 4 << 10, 1 << 20}

// queueShape is one bucket size's run: how many buckets, how many messages.
func queueShape(bsize uint64) (nbuckets, n uint64) {
	nbuckets = min(max((32<<20)/bsize, 16), 4096)
	n = min(max((1<<30)/bsize, 2000), 300000)
	return nbuckets, n
}

// PeerMain runs the consumer side of the queue figure when this process was
// started as one (peerEnv set): it returns true, having done so, with the
// process's exit code. famfs's main and the package tests call it first.
func PeerMain() (bool, int) {
	spec := os.Getenv(peerEnv)
	if spec == "" {
		return false, 0
	}
	if err := peer(strings.Fields(spec), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench peer:", err)
		return true, 1
	}
	return true, 0
}

// peer consumes n messages: "pcq DEV NAME N" through a famfs.Queue, "raw
// DEV POFF CONF BSIZE NBUCKETS N" through the raw ring. It says "ready" once
// its side is open and "done" after the last message.
func peer(args []string, out io.Writer) error {
	num := func(s string) uint64 { v, _ := strconv.ParseUint(s, 10, 64); return v }
	switch {
	case len(args) == 4 && args[0] == "pcq":
		fsys, err := famfs.Open(args[1], famfs.OpenOptions{SystemUUID: clientUUID})
		if err != nil {
			return err
		}
		defer fsys.Close()
		q, err := openQueue(fsys, args[2], famfs.QueueConsumer)
		if err != nil {
			return err
		}
		defer q.Close()
		buf := make([]byte, q.PayloadSize())
		fmt.Fprintln(out, "ready")
		ctx := context.Background()
		for range num(args[3]) {
			if _, err := q.Get(ctx, buf); err != nil {
				return err
			}
		}
		fmt.Fprintln(out, "done")
		return nil
	case len(args) == 7 && args[0] == "raw":
		r, err := openRawRing(args[1], num(args[2]), num(args[3]), num(args[4]), num(args[5]))
		if err != nil {
			return err
		}
		defer r.close()
		buf := make([]byte, r.bsize)
		fmt.Fprintln(out, "ready")
		for range num(args[6]) {
			r.get(buf)
		}
		fmt.Fprintln(out, "done")
		return nil
	}
	return fmt.Errorf("bad peer arguments %q", args)
}

// rawRing is the baseline ring: slots and two index words in plain
// mappings of the device bytes behind a queue's two files.
type rawRing struct {
	f        *os.File
	p, c     []byte
	bsize, n uint64
}

func openRawRing(dev string, poff, coff, bsize, nbuckets uint64) (*rawRing, error) {
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	r := &rawRing{f: f, bsize: bsize, n: nbuckets}
	plen := int(allocUnit + bsize*nbuckets)
	if r.p, err = unix.Mmap(int(f.Fd()), int64(poff), (plen+int(allocUnit)-1)&^(int(allocUnit)-1), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != nil {
		f.Close()
		return nil, err
	}
	if r.c, err = unix.Mmap(int(f.Fd()), int64(coff), int(allocUnit), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != nil {
		unix.Munmap(r.p)
		f.Close()
		return nil, err
	}
	return r, nil
}

func (r *rawRing) close() {
	unix.Munmap(r.p)
	unix.Munmap(r.c)
	r.f.Close()
}

func (r *rawRing) pi() *uint64 { return (*uint64)(unsafe.Pointer(&r.p[32])) }
func (r *rawRing) ci() *uint64 { return (*uint64)(unsafe.Pointer(&r.c[8])) }
func (r *rawRing) slot(i uint64) []byte {
	off := allocUnit + i*r.bsize
	return r.p[off : off+r.bsize]
}

func (r *rawRing) put(msg []byte) {
	i := atomic.LoadUint64(r.pi())
	for {
		famfs.InvalidateCache(r.c[8:16])
		if (i+1)%r.n != atomic.LoadUint64(r.ci()) {
			break
		}
		runtime.Gosched()
	}
	s := r.slot(i)
	copy(s, msg)
	famfs.FlushCache(s)
	atomic.StoreUint64(r.pi(), (i+1)%r.n)
	famfs.FlushCache(r.p[32:40])
}

func (r *rawRing) get(buf []byte) {
	c := atomic.LoadUint64(r.ci())
	for {
		famfs.InvalidateCache(r.p[32:40])
		if atomic.LoadUint64(r.pi()) != c {
			break
		}
		runtime.Gosched()
	}
	copy(buf, r.slot(c))
	atomic.StoreUint64(r.ci(), (c+1)%r.n)
	famfs.FlushCache(r.c[8:16])
}

// child is a started peer process.
type child struct {
	cmd   *exec.Cmd
	lines *bufio.Scanner
	errb  strings.Builder
}

func startPeer(bin string, spec string) (*child, error) {
	c := &child{cmd: exec.Command(bin)}
	c.cmd.Env = append(os.Environ(), peerEnv+"="+spec)
	c.cmd.Stderr = &c.errb
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	c.lines = bufio.NewScanner(out)
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	if !c.lines.Scan() || c.lines.Text() != "ready" {
		c.cmd.Process.Kill()
		c.cmd.Wait()
		return nil, fmt.Errorf("bench peer did not start: %s", c.errb.String())
	}
	return c, nil
}

// wait reads the peer's "done" and reaps it.
func (c *child) wait() error {
	ok := c.lines.Scan() && c.lines.Text() == "done"
	err := c.cmd.Wait()
	if !ok || err != nil {
		return fmt.Errorf("bench peer failed (%v): %s", err, c.errb.String())
	}
	return nil
}

// queueRun times n messages of one bucket size through the queue (raw
// false) or the raw ring, a child process consuming.
func queueRun(o *Options, dev, name string, f *famfs.FS, bsize uint64, raw bool) (time.Duration, error) {
	nbuckets, n := queueShape(bsize)
	pf, err := f.Stat(name)
	if err != nil {
		return 0, err
	}
	cf, err := f.Stat(name + famfs.QueueConsumerSuffix)
	if err != nil {
		return 0, err
	}
	poff, coff := pf.Map.Extents[0].Offset, cf.Map.Extents[0].Offset
	spec := fmt.Sprintf("pcq %s %s %d", dev, name, n)
	if raw {
		spec = fmt.Sprintf("raw %s %d %d %d %d %d", dev, poff, coff, bsize, nbuckets, n)
	}
	var put func([]byte) error
	var payload int
	if raw {
		r, err := openRawRing(dev, poff, coff, bsize, nbuckets)
		if err != nil {
			return 0, err
		}
		defer r.close()
		atomic.StoreUint64(r.pi(), 0)
		atomic.StoreUint64(r.ci(), 0)
		payload = int(bsize)
		put = func(m []byte) error { r.put(m); return nil }
	} else {
		q, err := openQueue(f, name, famfs.QueueProducer)
		if err != nil {
			return 0, err
		}
		defer q.Close()
		payload = q.PayloadSize()
		ctx := context.Background()
		put = func(m []byte) error { return q.Put(ctx, m) }
	}
	c, err := startPeer(o.Binary, spec)
	if err != nil {
		return 0, err
	}
	msg := make([]byte, payload)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	start := time.Now()
	for range n {
		if err := put(msg); err != nil {
			c.cmd.Process.Kill()
			c.wait()
			return 0, err
		}
	}
	if err := c.wait(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func runQueue(o *Options) (Figure, error) {
	if o.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return Figure{}, err
		}
		o.Binary = exe
	}
	path := tempPath(o.Dir, "pcq")
	defer removeQuiet(path)
	if _, err := famfs.Mkfs(path, famfs.MkfsOptions{Size: famfs.Format().MinDeviceSize, Force: true, SystemUUID: masterUUID}); err != nil {
		return Figure{}, err
	}
	f, err := famfs.Open(path, famfs.OpenOptions{SystemUUID: masterUUID})
	if err != nil {
		return Figure{}, err
	}
	defer f.Close()
	var fig Figure
	var details []string
	for k, bsize := range queueSizes {
		nbuckets, n := queueShape(bsize)
		name := fmt.Sprintf("q%d", bsize)
		if err := f.CreateQueue(name, famfs.QueueOptions{BucketSize: bsize, Buckets: nbuckets}); err != nil {
			return Figure{}, err
		}
		// The queue's own runs leave its indexes where they are; the raw
		// ring resets them before each of its runs, and the queue's runs
		// come after on a fresh queue of its own.
		qname := name + "-raw"
		if err := f.CreateQueue(qname, famfs.QueueOptions{BucketSize: bsize, Buckets: nbuckets}); err != nil {
			return Figure{}, err
		}
		s, b, err := pair(o.Reps,
			func() (time.Duration, error) { return queueRun(o, path, name, f, bsize, false) },
			func() (time.Duration, error) { return queueRun(o, path, qname, f, bsize, true) })
		if err != nil {
			return Figure{}, fmt.Errorf("%d-byte buckets: %w", bsize, err)
		}
		rate := func(ds []time.Duration) []float64 {
			out := make([]float64, len(ds))
			for i, d := range ds {
				out[i] = float64(n) / d.Seconds()
			}
			return out
		}
		sr, br := rate(s), rate(b)
		best, base := slices.Max(sr), slices.Max(br)
		ratio := best / base
		details = append(details, fmt.Sprintf("%s buckets: %.0f vs %.0f msgs/s (%.2fx), %.2f vs %.2f GB/s",
			sizeName(bsize), best, base, ratio, best*float64(bsize)/1e9, base*float64(bsize)/1e9))
		if k == 0 || ratio < fig.Ratio {
			// The figure is the worst bucket size; the others are views.
			fig = Figure{ID: Queue, Name: fmt.Sprintf("pcq between two processes (%s buckets, worst of 3)", sizeName(bsize)),
				Value: best, Unit: "msgs/s", Baseline: base, BaseWord: "raw ring", BaseName: "copy + index handoff, same flushes",
				Ratio: ratio, MedianRatio: medianRatio(sr, br), Target: fmt.Sprintf(">= %gx", QueueTarget),
				Samples: sr, BaseSamples: br}
		}
	}
	fig.OK = fig.Ratio >= QueueTarget
	fig.Detail = strings.Join(details, "; ")
	return fig, nil
}

// openQueue opens the queue name of f for role.
func openQueue(f *famfs.FS, name string, role famfs.QueueRole) (*famfs.Queue, error) {
	p, err := f.OpenFile(name)
	if err != nil {
		return nil, err
	}
	c, err := f.OpenFile(name + famfs.QueueConsumerSuffix)
	if err != nil {
		return nil, err
	}
	return famfs.OpenQueue(p, c, role, famfs.QueueOpenOptions{})
}
