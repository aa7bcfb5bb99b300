package famfs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/famfs-go/famfs/internal/omf"
)

// Tests that run several processes on one device re-execute the test binary;
// TestMain turns it into a child when childEnv is set.
const (
	childEnv      = "FAMFS_TEST_CHILD" // mode: "creator" (runs until killed) or "concurrent"
	childDevEnv   = "FAMFS_TEST_DEV"
	childNameEnv  = "FAMFS_TEST_PREFIX"
	childSeedEnv  = "FAMFS_TEST_SEED"
	childCountEnv = "FAMFS_TEST_COUNT"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		if err := runChild(mode); err != nil {
			fmt.Fprintf(os.Stderr, "child %s: %v\n", mode, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChild opens the device as the master and creates files with a creator,
// writing "F path" or "D path" to stdout (one write each) after the call that
// made it returned. "creator" starts at once and runs until it is killed,
// slowly once its budget is spent; "concurrent" waits for a line on stdin,
// then exits when its budget is spent.
func runChild(mode string) error {
	seed, _ := strconv.ParseUint(os.Getenv(childSeedEnv), 10, 64)
	count, _ := strconv.Atoi(os.Getenv(childCountEnv))
	f, err := Open(os.Getenv(childDevEnv), OpenOptions{SystemUUID: masterID, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	if f.Role() != Master {
		return errors.New("not the master")
	}
	c := &creator{f: f, prefix: os.Getenv(childNameEnv), rng: rand.New(rand.NewPCG(seed, 1)),
		report: func(kind byte, p string) error {
			_, err := os.Stdout.Write([]byte(string(kind) + " " + p + "\n"))
			return err
		}}
	switch mode {
	case "creator":
		os.Stdout.Write([]byte("ready\n"))
		for {
			if c.files >= count && c.pause == 0 {
				// Budget spent: trickle on, so a late kill still meets
				// work, without filling the device.
				os.Stdout.Write([]byte("budget\n"))
				c.pause = time.Millisecond
			}
			if err := c.step(); err != nil {
				return err
			}
		}
	case "concurrent":
		c.shared = true
		c.pause = 100 * time.Microsecond // so that the processes' runs overlap
		os.Stdout.Write([]byte("ready\n"))
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			return err
		}
		for c.files < count {
			if err := c.step(); err != nil {
				return err
			}
		}
		return f.Close()
	}
	return fmt.Errorf("unknown mode %q", mode)
}

// creator makes distinct files under its prefix with a random mix of the
// library's creation calls: Create, a Batch, an update with txn.Mkdir and
// Tx.Create, and (with shared) mkdir -p of directories every creator also
// makes, with a file of its own inside. Each file's name carries its size.
type creator struct {
	f      *FS
	prefix string
	rng    *rand.Rand
	shared bool
	pause  time.Duration // between calls
	// excl, if set, is shared by creators whose Update sessions must
	// exclude one another (same process: the mutex and the flock).
	excl   *atomic.Int32
	report func(kind byte, path string) error

	files, dirs int
	mine        []string // this creator's directories
}

// sizedName makes a file name that records its size.
func sizedName(dir string, n int, size uint64) string {
	return fmt.Sprintf("%s/f%d.%d", dir, n, size)
}

// nameSize recovers the size from a sizedName.
func nameSize(p string) (uint64, bool) {
	k := strings.LastIndexByte(p, '.')
	if k < 0 {
		return 0, false
	}
	s, err := strconv.ParseUint(p[k+1:], 10, 64)
	return s, err == nil && s > 0
}

func (c *creator) size() uint64 {
	switch r := c.rng.IntN(20); {
	case r == 0:
		return 1
	case r < 15:
		return 1 + c.rng.Uint64N(omf.AllocUnit) // one unit
	default:
		return omf.AllocUnit + 1 + c.rng.Uint64N(2*omf.AllocUnit) // two or three
	}
}

func (c *creator) dir() string {
	if len(c.mine) == 0 {
		return ""
	}
	return c.mine[c.rng.IntN(len(c.mine))]
}

func (c *creator) file(dir string) (string, uint64) {
	size := c.size()
	p := sizedName(dir, c.files, size)
	c.files++
	return p, size
}

func (c *creator) step() error {
	if c.pause > 0 {
		time.Sleep(c.pause)
	}
	if len(c.mine) == 0 || c.rng.IntN(8) == 0 {
		// a new directory of our own, two levels below the prefix, with
		// Tx.Mkdir (-p) and Tx.Create in one hold of the lock
		d := fmt.Sprintf("%s/d%d/e%d", c.prefix, c.dirs, c.dirs)
		c.dirs++
		var made []string
		err := c.f.update(func(tx *txn) error {
			if c.excl != nil {
				if n := c.excl.Add(1); n != 1 {
					return fmt.Errorf("%d Update sessions at once", n)
				}
				defer c.excl.Add(-1)
			}
			if err := tx.Mkdir(d, MkdirOptions{Mode: 0o755, Parents: true}); err != nil {
				return err
			}
			for range 1 + c.rng.IntN(4) {
				runtime.Gosched()
				p, size := c.file(d)
				if _, err := tx.Create(p, CreateOptions{Size: size, Mode: 0o644}); err != nil {
					return err
				}
				made = append(made, p)
			}
			return nil
		})
		if err != nil {
			return err
		}
		c.mine = append(c.mine, d)
		return c.confirm('D', []string{d}, 'F', made)
	}
	switch r := c.rng.IntN(10); {
	case r < 3:
		p, size := c.file(c.dir())
		if _, err := c.f.Create(p, CreateOptions{Size: size, Mode: 0o644}); err != nil {
			return err
		}
		return c.confirm('F', []string{p}, 0, nil)
	case r < 7 || !c.shared:
		dir := c.dir()
		type req struct {
			path string
			size uint64
		}
		reqs := make([]req, 2+c.rng.IntN(11))
		for i := range reqs {
			reqs[i].path, reqs[i].size = c.file(dir)
		}
		staged := make([]*StagedFile, len(reqs))
		err := c.f.Batch(func(b *Batch) error {
			for i, r := range reqs {
				var err error
				if staged[i], err = b.Create(r.path, CreateOptions{Size: r.size, Mode: 0o600}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		var made []string
		for i, sf := range staged {
			f := sf.File()
			if f == nil || f.Size() != reqs[i].size || f.Path() != reqs[i].path {
				return fmt.Errorf("a batch made %v, asked %s of %d bytes", f, reqs[i].path, reqs[i].size)
			}
			made = append(made, reqs[i].path)
		}
		return c.confirm('F', made, 0, nil)
	default:
		// mkdir -p of a directory other creators make too, then a file of
		// our own in it
		d := fmt.Sprintf("shared/s%d/t%d", c.rng.IntN(3), c.rng.IntN(3))
		if err := c.f.Mkdir(d, MkdirOptions{Mode: 0o755, Parents: true}); err != nil {
			return err
		}
		p, size := c.file(d)
		p = strings.Replace(p, "/f", "/"+strings.ReplaceAll(c.prefix, "/", "-")+"-f", 1)
		if _, err := c.f.Create(p, CreateOptions{Size: size, Mode: 0o644}); err != nil {
			return err
		}
		return c.confirm('D', []string{d}, 'F', []string{p})
	}
}

func (c *creator) confirm(k1 byte, l1 []string, k2 byte, l2 []string) error {
	for _, p := range l1 {
		if err := c.report(k1, p); err != nil {
			return err
		}
	}
	for _, p := range l2 {
		if err := c.report(k2, p); err != nil {
			return err
		}
	}
	return nil
}

// child is a re-executed test binary.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	ready  chan struct{}
	eof    chan struct{}
	stderr bytes.Buffer

	mu     sync.Mutex
	lines  []string
	waited bool
	state  *os.ProcessState
}

// startChild runs the test binary as a child in mode; it is killed and reaped
// when the test ends, whatever happens.
func startChild(t *testing.T, mode, dev, prefix string, seed uint64, count int) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, childDevEnv+"="+dev, childNameEnv+"="+prefix,
		childSeedEnv+"="+strconv.FormatUint(seed, 10), childCountEnv+"="+strconv.Itoa(count))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	c := &child{cmd: cmd, ready: make(chan struct{}), eof: make(chan struct{})}
	cmd.Stderr = &c.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		c.wait()
	})
	go func() {
		defer close(c.eof)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "ready" {
				close(c.ready)
				continue
			}
			c.mu.Lock()
			c.lines = append(c.lines, sc.Text())
			c.mu.Unlock()
		}
	}()
	return c
}

// waitReady waits for the child to have opened the device.
func (c *child) waitReady(t *testing.T) {
	t.Helper()
	select {
	case <-c.ready:
	case <-c.eof:
		t.Fatalf("child exited before it was ready: %s", c.wait())
	case <-time.After(30 * time.Second):
		t.Fatal("child not ready after 30 s")
	}
}

// wait reaps the child after its stdout is drained and describes how it ended.
func (c *child) wait() string {
	<-c.eof
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.waited {
		c.cmd.Wait()
		c.waited, c.state = true, c.cmd.ProcessState
	}
	return fmt.Sprintf("%v; stderr: %q", c.state, c.stderr.String())
}

func (c *child) killed() bool {
	ws, ok := c.state.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// output returns the child's report lines.
func (c *child) output() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.lines)
}

// confirmed collects what creators reported.
type confirmed struct {
	mu    sync.Mutex
	files map[string]bool
	dirs  map[string]bool
}

func newConfirmed() *confirmed {
	return &confirmed{files: map[string]bool{}, dirs: map[string]bool{}}
}

func (c *confirmed) add(kind byte, p string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch kind {
	case 'F':
		if c.files[p] {
			return fmt.Errorf("file %s confirmed twice", p)
		}
		c.files[p] = true
	case 'D':
		c.dirs[p] = true
	default:
		return fmt.Errorf("unknown report %c %s", kind, p)
	}
	return nil
}

func (c *confirmed) addLines(lines []string) error {
	for _, l := range lines {
		if l == "budget" {
			continue
		}
		if len(l) < 3 || l[1] != ' ' {
			return fmt.Errorf("bad report line %q", l)
		}
		if err := c.add(l[0], l[2:]); err != nil {
			return err
		}
	}
	return nil
}

// checkShared opens the device as the master and as a client and checks:
// both replay the whole log without stopping and see the same namespace;
// every confirmed file is there with the size its name records, every
// confirmed directory is a directory; every file in the namespace has a
// well-formed name and size (no stray entries); the log holds one entry per
// path (exact: the confirmed files are all the files there are); fsck is
// clean with no collisions, on the open FS and through famfs.Fsck; the bitmap
// rebuilt from the log equals the sum of the files' allocations; and a new
// creation works and reaches the client.
func checkShared(t *testing.T, dev string, conf *confirmed, exact bool, newFile string) {
	t.Helper()
	m := openAs(t, dev, masterID)
	c := openAs(t, dev, clientID)
	if m.Role() != Master || c.Role() != Client {
		t.Fatalf("roles %v %v", m.Role(), c.Role())
	}
	for _, f := range []*FS{m, c} {
		if next, _, stuck := f.LogStatus(); stuck != nil {
			t.Fatalf("%v replay stopped at %v (entry %d)", f.Role(), stuck, next)
		}
	}
	for p := range conf.files {
		want, _ := nameSize(p)
		i, err := m.Stat(p)
		if err != nil || i.IsDir() || i.Size != want {
			t.Fatalf("confirmed file %s: %+v %v", p, i, err)
		}
	}
	for p := range conf.dirs {
		if i, err := m.Stat(p); err != nil || !i.IsDir() {
			t.Fatalf("confirmed directory %s: %+v %v", p, i, err)
		}
	}
	nfiles := 0
	m.Walk("", func(i Info) error {
		if i.IsDir() {
			return nil
		}
		nfiles++
		if size, ok := nameSize(i.Path); !ok || size != i.Size {
			t.Errorf("file %s has %d bytes; its name says %d", i.Path, i.Size, size)
		}
		if exact && !conf.files[i.Path] {
			t.Errorf("file %s was never confirmed", i.Path)
		}
		return nil
	})
	if exact && nfiles != len(conf.files) {
		t.Errorf("%d files in the namespace, %d confirmed", nfiles, len(conf.files))
	}
	// one log entry per path
	count := map[string]int{}
	h, err := m.log.Header()
	if err != nil {
		t.Fatal(err)
	}
	m.log.Scan(0, h.NextIndex, func(i uint64, e *omf.Entry, err error) {
		if err != nil {
			t.Errorf("log entry %d: %v", i, err)
		}
		count[e.Path]++
	})
	for p, n := range count {
		if n != 1 {
			t.Errorf("%s has %d log entries", p, n)
		}
	}
	r := m.fsck()
	if err := fsckClean(r); err != nil {
		t.Fatal(err)
	}
	if err := checkAllocation(m, r); err != nil {
		t.Fatal(err)
	}
	if r.Files != uint64(nfiles) || r.EntriesUsed != h.NextIndex {
		t.Fatalf("fsck counts %d files in %d entries; the tree has %d files, the log %d entries", r.Files, r.EntriesUsed, nfiles, h.NextIndex)
	}
	rc, err := Fsck(dev, FsckOptions{SystemUUID: clientID})
	if err != nil {
		t.Fatal(err)
	}
	if err := fsckClean(rc); err != nil || rc.Role != "Client" || rc.Allocated != r.Allocated {
		t.Fatalf("famfs.Fsck as a client: %v, role %s, %d bytes allocated (open fs: %d)", err, rc.Role, rc.Allocated, r.Allocated)
	}
	if ms, cs := snapshot(m), snapshot(c); !slices.Equal(ms, cs) {
		t.Fatalf("the client sees another namespace than the master (%d and %d nodes)", len(cs), len(ms))
	}
	// a new creation works, and the client sees it
	if err := m.Mkdir(filepath.Dir(newFile), MkdirOptions{Mode: 0o755, Parents: true}); err != nil {
		t.Fatal(err)
	}
	size, _ := nameSize(newFile)
	if _, err := m.Create(newFile, CreateOptions{Size: size, Mode: 0o644}); err != nil {
		t.Fatalf("creating after the others: %v", err)
	}
	conf.add('F', newFile)
	if _, err := c.Refresh(); err != nil {
		t.Fatal(err)
	}
	if i, err := c.Stat(newFile); err != nil || i.Size != size {
		t.Fatalf("client after refresh: %+v %v", i, err)
	}
	if err := fsckClean(m.fsck()); err != nil {
		t.Fatalf("after the new creation: %v", err)
	}
	m.Close()
	c.Close()
}

// mkfsShared makes a sparse device of size bytes in the test's directory.
func mkfsShared(t *testing.T, size uint64) string {
	t.Helper()
	dev := filepath.Join(t.TempDir(), "famfs.img")
	if _, err := Mkfs(dev, MkfsOptions{Size: size, SystemUUID: masterID}); err != nil {
		t.Fatal(err)
	}
	return dev
}

// TestKillDuringBatchCreation runs a child that creates files in batches as
// the master (a Batch, Create, and an update with txn.Mkdir and txn.Create) and
// kills it with SIGKILL after a random delay, several rounds on one device.
// After each kill every creation the child reported (after the call returned)
// must be present with its size, the file system must fsck clean, and the
// next creation (and the next round's child) must work.
func TestKillDuringBatchCreation(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("FAMFS_TEST_KILL_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (set FAMFS_TEST_KILL_SEED to repeat)", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	dev := mkfsShared(t, 64<<30)
	conf := newConfirmed()
	const rounds, budget = 10, 1000
	for round := range rounds {
		ch := startChild(t, "creator", dev, fmt.Sprintf("r%d", round), seed+uint64(round), budget)
		ch.waitReady(t)
		delay := time.Duration(100+rng.IntN(3000)) * time.Microsecond
		time.Sleep(delay)
		ch.cmd.Process.Signal(syscall.SIGKILL)
		how := ch.wait()
		if !ch.killed() {
			t.Fatalf("round %d: the child was not killed by us: %s", round, how)
		}
		lines := ch.output()
		finished := slices.Contains(lines, "budget")
		if err := conf.addLines(lines); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: killed after %v; %d files confirmed so far (budget spent: %v)%s", round, delay, len(conf.files), finished, leftover(t, dev))
		checkShared(t, dev, conf, false, sizedName(fmt.Sprintf("r%d/after", round), 0, 3<<20))
	}
}

// leftover describes an unpublished entry in the first free log slot: the
// trace of a kill during an append.
func leftover(t *testing.T, dev string) string {
	f := openAs(t, dev, clientID)
	defer f.Close()
	h, err := f.log.Header()
	if err != nil || h.NextIndex > h.LastIndex {
		return ""
	}
	raw := make([]byte, omf.EntrySize)
	f.log.Media().ReadAt(raw, omf.EntryOffset(h.NextIndex))
	if bytes.Equal(raw, make([]byte, omf.EntrySize)) {
		return ""
	}
	if omf.CheckEntry(raw, h.NextIndex) != nil {
		return fmt.Sprintf("; slot %d holds a partly written entry", h.NextIndex)
	}
	return fmt.Sprintf("; slot %d holds a whole entry not yet published", h.NextIndex)
}

// runCreators runs one creator per goroutine, n goroutines per FS, each making
// count files, while a client polls the log; it returns the first error.
func runCreators(t *testing.T, dev string, conf *confirmed, fss []*FS, n, count int, seed uint64, start <-chan struct{}) <-chan error {
	t.Helper()
	errc := make(chan error, len(fss)*n+1)
	var excl atomic.Int32
	var wg sync.WaitGroup
	for k, f := range fss {
		for j := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := &creator{f: f, prefix: fmt.Sprintf("g%d/%d", k, j), shared: true,
					rng: rand.New(rand.NewPCG(seed, uint64(k*100+j))), report: conf.add, excl: &excl}
				<-start
				for c.files < count {
					if err := c.step(); err != nil {
						errc <- fmt.Errorf("goroutine %d of fs %d: %w", j, k, err)
						return
					}
				}
			}()
		}
	}
	// While they work, a client on the same device polls and reads: it must
	// never meet a torn entry, and what it sees must be whole.
	client := openAs(t, dev, clientID)
	stop := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		<-start
		for {
			select {
			case <-stop:
				return
			default:
			}
			st, err := client.Refresh()
			if err == nil && len(st.Problems) > 0 {
				err = fmt.Errorf("problems: %v", st.Problems)
			}
			if err == nil {
				client.Walk("", func(i Info) error {
					if size, ok := nameSize(i.Path); !i.IsDir() && (!ok || size != i.Size) {
						err = fmt.Errorf("client sees %s with %d bytes", i.Path, i.Size)
					}
					return nil
				})
			}
			if err != nil {
				errc <- fmt.Errorf("polling client: %w", err)
				return
			}
			// and the writers' own FS is read and refreshed concurrently
			// with their updates
			m := fss[0]
			if _, err = m.Refresh(); err == nil {
				_, err = m.Changed()
			}
			if r := m.fsck(); err == nil && (!r.Clean() || r.Collisions != 0) {
				err = fmt.Errorf("fsck during the updates: %v", fsckClean(r))
			}
			if err != nil {
				errc <- fmt.Errorf("reading the master's FS: %w", err)
				return
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	done := make(chan error, 1)
	go func() {
		wg.Wait()
		close(stop)
		<-polled
		close(errc)
		var first error
		for err := range errc {
			if first == nil {
				first = err
			}
		}
		done <- first
	}()
	return done
}

// TestConcurrentGoroutines: goroutines sharing one FS, and two FS on the same
// device in one process (so the flock, not only the mutex, serialises them),
// create distinct files with Create, Batch, update/txn and concurrent
// mkdir -p of shared directories, while a client polls. Nothing is lost or
// duplicated, nothing is cross-linked. Meant for -race.
func TestConcurrentGoroutines(t *testing.T) {
	dev := mkfsShared(t, 8<<30)
	fss := []*FS{openAs(t, dev, masterID), openAs(t, dev, masterID)}
	conf := newConfirmed()
	start := make(chan struct{})
	done := runCreators(t, dev, conf, fss, 3, 150, 1, start)
	close(start)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d files, %d directories confirmed", len(conf.files), len(conf.dirs))
	checkShared(t, dev, conf, true, sizedName("end", 0, 1))
}

// TestConcurrentProcesses: separate processes, each with its own FS on the
// same device file as the master, and goroutines of this process on two more
// FS, create distinct files concurrently (Create, Batch, update/txn,
// mkdir -p of directories they all make). Afterwards every confirmed file
// exists exactly once with its size, nothing else exists, fsck is clean with
// no collisions, and the bitmap rebuilt from the log is the sum of the
// allocations.
func TestConcurrentProcesses(t *testing.T) {
	dev := mkfsShared(t, 8<<30)
	const procs, count = 3, 300
	var children []*child
	for i := range procs {
		ch := startChild(t, "concurrent", dev, fmt.Sprintf("p%d", i), uint64(1000+i), count)
		children = append(children, ch)
	}
	for _, ch := range children {
		ch.waitReady(t)
	}
	conf := newConfirmed()
	start := make(chan struct{})
	fss := []*FS{openAs(t, dev, masterID), openAs(t, dev, masterID)}
	done := runCreators(t, dev, conf, fss, 2, 150, 2, start)
	for _, ch := range children {
		if _, err := ch.stdin.Write([]byte("go\n")); err != nil {
			t.Fatal(err)
		}
	}
	close(start)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for i, ch := range children {
		how := ch.wait()
		if !ch.state.Success() {
			t.Fatalf("child %d: %s", i, how)
		}
		if err := conf.addLines(ch.output()); err != nil {
			t.Fatal(err)
		}
	}
	switches, interleaved := writerSwitches(t, dev)
	t.Logf("%d files, %d directories confirmed; the writer changes %d times along the log", len(conf.files), len(conf.dirs), switches)
	if !interleaved {
		t.Error("no two processes' entries interleave in the log: the creators did not run concurrently")
	}
	checkShared(t, dev, conf, true, sizedName("end", 0, 1))
}

// writerSwitches reads the log in order and counts how often the process
// that wrote the file entries changes (a child's creator is named p<i>, this
// process's g<k>/<j>; the first path component, or for a file in a shared
// directory the prefix of its name), and whether the entries of two
// processes interleave.
func writerSwitches(t *testing.T, dev string) (switches int, interleaved bool) {
	f := openAs(t, dev, clientID)
	defer f.Close()
	h, err := f.log.Header()
	if err != nil {
		t.Fatal(err)
	}
	last := ""
	finished := map[string]bool{} // processes whose run of entries ended
	f.log.Scan(0, h.NextIndex, func(i uint64, e *omf.Entry, err error) {
		if err != nil || e.Type != omf.EntryFile {
			return
		}
		w, _, _ := strings.Cut(e.Path, "/")
		if w == "shared" {
			w, _, _ = strings.Cut(filepath.Base(e.Path), "-")
		}
		if strings.HasPrefix(w, "g") {
			w = "parent"
		}
		if w == last {
			return
		}
		switches++
		finished[last] = true
		if finished[w] {
			interleaved = true
		}
		last = w
	})
	return switches, interleaved
}
