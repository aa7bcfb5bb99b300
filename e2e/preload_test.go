package e2e

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The zero-copy preload library with unmodified programs, run through
// `famfs run` on a client host (its own FAMFS_SYSTEM_UUID and mount).

var (
	preloadOnce sync.Once
	preloadErr  error
)

// preloadLib builds libfamfs-preload.so beside the test's famfs binary
// (where `famfs run` looks for it), once.
func preloadLib(t testing.TB) string {
	t.Helper()
	lib := filepath.Join(filepath.Dir(famfsBin), "libfamfs-preload.so")
	preloadOnce.Do(func() {
		srcs, _ := filepath.Glob("../preload/*.c")
		if len(srcs) == 0 {
			preloadErr = fmt.Errorf("no preload sources in ../preload")
			return
		}
		args := append([]string{"-O2", "-fPIC", "-shared", "-Wall", "-Wextra", "-Werror", "-fvisibility=hidden", "-o", lib}, srcs...)
		if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
			preloadErr = fmt.Errorf("gcc %v: %v\n%s", args, err, out)
		}
	})
	if preloadErr != nil {
		t.Fatalf("building the preload library (gcc is needed; .ci/run installs it): %v", preloadErr)
	}
	return lib
}

// debianPython is Debian's python3 (with python3-numpy), not a pyenv shim.
func debianPython(t testing.TB) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import numpy").CombinedOutput(); err != nil {
		missingTool(t, "%s with numpy is needed (.ci/run installs python3-numpy): %v %s", py, err, out)
	}
	return py
}

// preloaded is a finished `famfs run -d -- ...`.
type preloaded struct {
	code   int
	stdout []byte
	stderr string
	stats  preloadStats
}

// preloadStats sums the library's exit counters over every process.
type preloadStats struct {
	grants, refused, mmaps, reads, readBytes, writes, writeBytes, mount uint64
	procs                                                               int
}

var statsRE = regexp.MustCompile(`served: (\d+) grants, (\d+) refused, (\d+) mmaps, (\d+) reads \((\d+) bytes\), (\d+) writes \((\d+) bytes\); (\d+) calls passed to the mount`)

func parseStats(stderr string) preloadStats {
	var s preloadStats
	for _, m := range statsRE.FindAllStringSubmatch(stderr, -1) {
		v := make([]uint64, 8)
		for i := range v {
			v[i], _ = strconv.ParseUint(m[i+1], 10, 64)
		}
		s.grants += v[0]
		s.refused += v[1]
		s.mmaps += v[2]
		s.reads += v[3]
		s.readBytes += v[4]
		s.writes += v[5]
		s.writeBytes += v[6]
		s.mount += v[7]
		s.procs++
	}
	return s
}

// runPreloaded runs args through `famfs run -d --` with extra environment
// and stdin; the library explains on stderr and prints its counters.
func runPreloaded(t testing.TB, stdin []byte, env []string, args ...string) preloaded {
	t.Helper()
	preloadLib(t)
	cmd := exec.Command(famfsBin, append([]string{"run", "-d", "--"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	r := preloaded{stdout: out.Bytes(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("famfs run %v: %v", args, err)
	}
	r.stats = parseStats(r.stderr)
	return r
}

func mustPreloaded(t testing.TB, stdin []byte, env []string, args ...string) preloaded {
	t.Helper()
	r := runPreloaded(t, stdin, env, args...)
	if r.code != 0 {
		t.Fatalf("famfs run %v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

// liveProc is a preloaded program the test talks to while it runs.
type liveProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	out   []string
	errb  bytes.Buffer
}

func startPreloaded(t testing.TB, args ...string) *liveProc {
	t.Helper()
	preloadLib(t)
	p := &liveProc{cmd: exec.Command(famfsBin, append([]string{"run", "-d", "--"}, args...)...), lines: make(chan string, 64)}
	p.cmd.Stderr = &p.errb
	p.stdin, _ = p.cmd.StdinPipe()
	stdout, _ := p.cmd.StdoutPipe()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	return p
}

// waitFor reads output lines until one starts with prefix.
func (p *liveProc) waitFor(t testing.TB, prefix string) {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				p.cmd.Wait()
				t.Fatalf("the program ended before printing %q:\n%s\n%s", prefix, strings.Join(p.out, "\n"), p.errb.String())
			}
			p.out = append(p.out, l)
			if strings.HasPrefix(l, prefix) {
				return
			}
		case <-timeout:
			t.Fatalf("no %q from the program:\n%s", prefix, strings.Join(p.out, "\n"))
		}
	}
}

// finish sends line on stdin, closes it and waits for the program's end;
// it returns everything the program printed on stdout and stderr.
func (p *liveProc) finish(t testing.TB, line string) (string, string) {
	t.Helper()
	p.stdin.Write([]byte(line))
	p.stdin.Close()
	for l := range p.lines {
		p.out = append(p.out, l)
	}
	out := strings.Join(p.out, "\n") + "\n"
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("%v: %v\n%s\n%s", p.cmd.Args, err, out, p.errb.String())
	}
	return out, p.errb.String()
}

// daemonCounter reads one of the mount daemon's counters.
func daemonCounter(t testing.TB, mpt, name string) uint64 {
	t.Helper()
	return daemonAlive(t, mpt).Counters[name]
}

func sum256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// preloadCluster: a master and a client mount, and on the master a simple
// file of an odd size (EOF inside a page) and an interleaved one; returns
// the mount points and the files' bytes.
func preloadCluster(t *testing.T) (c *cluster, m, c1 string, simple, striped []byte) {
	t.Helper()
	preloadLib(t)
	c = newCluster(t)
	m = c.mount(masterID)
	c1 = c.mount(client1ID)
	src := filepath.Join(c.dir, "simple")
	simple = make([]byte, 9_437_187) // 9 MiB + 3: past the 2 MiB units, EOF mid-page
	rand.New(rand.NewSource(5)).Read(simple)
	if err := os.WriteFile(src, simple, 0o644); err != nil {
		t.Fatal(err)
	}
	must(t, masterID, "cp", src, m+"/simple")
	must(t, masterID, "creat", "-s", "70m", "-N", "4", "-B", "8", "-r", "-S", "9", m+"/striped")
	eventually(t, 5*time.Second, "replay on the client", func() bool {
		_, err := os.Stat(c1 + "/striped")
		return err == nil
	})
	var err error
	if striped, err = os.ReadFile(m + "/striped"); err != nil {
		t.Fatal(err)
	}
	return c, m, c1, simple, striped
}

// cat, dd, cmp and sha256sum read the same bytes through the preload on a
// client (and on a non-coherent client mount), served from the device: the
// client daemon serves no read.
func TestPreloadUnmodifiedTools(t *testing.T) {
	c, m, c1, simple, striped := preloadCluster(t)
	c2 := c.mount(client2ID, "-o", "coherence=on")
	eventually(t, 5*time.Second, "replay on client 2", func() bool { _, err := os.Stat(c2 + "/striped"); return err == nil })
	for _, mp := range []string{c1, c2} {
		for _, f := range []struct {
			name string
			data []byte
		}{{"simple", simple}, {"striped", striped}} {
			p := mp + "/" + f.name
			want := sum256(f.data)
			r := mustPreloaded(t, nil, nil, "cat", p)
			if sum256(r.stdout) != want {
				t.Fatalf("cat %s: %d bytes differ", p, len(r.stdout))
			}
			if r.stats.grants != 1 || r.stats.readBytes != uint64(len(f.data)) || r.stats.mount != 0 {
				t.Fatalf("cat %s not served from the device: %+v\n%s", p, r.stats, r.stderr)
			}
			if mp == c2 && !strings.Contains(r.stderr, "non-coherent") {
				t.Errorf("coherence=on mount: the grant is not marked non-coherent: %s", r.stderr)
			}
			r = mustPreloaded(t, nil, nil, "dd", "if="+p, "bs=1M", "status=none")
			if sum256(r.stdout) != want || r.stats.readBytes != uint64(len(f.data)) {
				t.Fatalf("dd bs=1M %s: %d bytes, %+v", p, len(r.stdout), r.stats)
			}
			r = mustPreloaded(t, nil, nil, "dd", "if="+p, "bs=4097", "skip=3", "count=100", "status=none")
			if !bytes.Equal(r.stdout, f.data[3*4097:103*4097]) {
				t.Fatalf("dd bs=4097 skip=3 %s: wrong bytes", p)
			}
			r = mustPreloaded(t, nil, nil, "cmp", p, m+"/"+f.name)
			if r.stats.readBytes != 2*uint64(len(f.data)) {
				t.Fatalf("cmp %s: not served from the device: %+v", p, r.stats)
			}
			// a descriptor inherited across exec (the shell opens it, cat reads it)
			r = mustPreloaded(t, nil, nil, "sh", "-c", "exec cat <"+p)
			if sum256(r.stdout) != want || r.stats.readBytes != uint64(len(f.data)) || r.stats.mount != 0 {
				t.Fatalf("cat <%s: %d bytes, %+v\n%s", p, len(r.stdout), r.stats, r.stderr)
			}
			// sha256sum reads through stdio (glibc's internal read): the
			// mount serves it, same bytes.
			r = mustPreloaded(t, nil, nil, "sha256sum", p)
			if !strings.HasPrefix(string(r.stdout), want+" ") {
				t.Fatalf("sha256sum %s: %s", p, r.stdout)
			}
		}
	}
	// The preloaded readers sent the client daemon no read at all.
	reads := daemonCounter(t, c1, "read")
	mustPreloaded(t, nil, nil, "sh", "-c", "cat "+c1+"/striped >/dev/null; dd if="+c1+"/simple of=/dev/null bs=1M status=none")
	if got := daemonCounter(t, c1, "read"); got != reads {
		t.Errorf("the client daemon served %d reads for preloaded cat and dd", got-reads)
	}
}

// Debian's python3 maps a file with mmap and numpy.memmap through the
// preload on a client: the device is behind the mapping in /proc/pid/maps,
// the mount's page cache stays empty (cachestat of the FUSE file), a
// read-only descriptor never yields a writable mapping, and a change the
// master makes later is seen by the existing mapping and the next read.
func TestPreloadPythonMmapNumpy(t *testing.T) {
	py := debianPython(t)
	c, m, c1, simple, striped := preloadCluster(t)
	script := `import sys, os, mmap, hashlib, ctypes, numpy
libc = ctypes.CDLL(None, use_errno=True)
class Rng(ctypes.Structure): _fields_ = [("off", ctypes.c_uint64), ("len", ctypes.c_uint64)]
class CS(ctypes.Structure): _fields_ = [(n, ctypes.c_uint64) for n in ("cache", "dirty", "wb", "ev", "rev")]
def cached(fd):
    r, cs = Rng(0, 0), CS()
    if libc.syscall(451, fd, ctypes.byref(r), ctypes.byref(cs), 0) != 0:  # cachestat(2)
        raise OSError(ctypes.get_errno(), "cachestat")
    return cs.cache
p = sys.argv[1]
f = open(p, 'rb')
m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
a = numpy.frombuffer(m, dtype=numpy.uint8)
print("mmap", hashlib.sha256(m[:]).hexdigest())
print("read", hashlib.sha256(f.read()).hexdigest())
print("cached", cached(f.fileno()))  # before another open drops the mount's cache
mm = numpy.memmap(p, dtype=numpy.uint8, mode='r', offset=12345, shape=(len(m) - 12345 - 7,))
print("memmap", hashlib.sha256(mm.tobytes()).hexdigest())
print("u64sum", int(numpy.memmap(p, dtype=numpy.uint64, mode='r', offset=4096 * 5, shape=(100000,)).sum(dtype=numpy.uint64)))
addr = a.ctypes.data
for line in open('/proc/self/maps'):
    lo, hi = [int(x, 16) for x in line.split()[0].split('-')]
    if lo <= addr < hi:
        print("maps", line.strip())
try:
    mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    print("rw mapping of a read-only descriptor: granted")
except PermissionError:
    print("rw mapping of a read-only descriptor: EACCES")
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
if libc.mprotect(addr - addr % 4096, 4096, 3) != 0:
    print("mprotect write: errno", ctypes.get_errno())
else:
    print("mprotect write: allowed")
sys.stdout.flush()
sys.stdin.readline()  # the master changes the file now
print("after", bytes(m[100:108]).hex(), os.pread(f.fileno(), 8, 100).hex())
f.seek(100)
print("after-read", f.read(8).hex())
`
	parse := func(out []byte) map[string]string {
		kv := map[string]string{}
		for _, l := range strings.Split(string(out), "\n") {
			if k, v, ok := strings.Cut(l, " "); ok {
				kv[k] = v
			}
		}
		return kv
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{"simple", simple}, {"striped", striped}} {
		p := c1 + "/" + f.name
		// The master overwrites 8 bytes at 100 while the client holds its mapping.
		newBytes := []byte{0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04}
		proc := startPreloaded(t, py, "-c", script, p)
		proc.waitFor(t, "mprotect")
		wf, err := os.OpenFile(m+"/"+f.name, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := wf.WriteAt(newBytes, 100); err != nil {
			t.Fatal(err)
		}
		wf.Close()
		out, errs := proc.finish(t, "go\n")
		kv := parse([]byte(out))
		want := sum256(f.data)
		if kv["mmap"] != want || kv["read"] != want {
			t.Errorf("%s: mmap %s read %s, want %s", p, kv["mmap"], kv["read"], want)
		}
		if kv["memmap"] != sum256(f.data[12345:len(f.data)-7]) {
			t.Errorf("%s: numpy.memmap at offset 12345 differs", p)
		}
		var u64 uint64
		for i := 0; i < 100000; i++ {
			u64 += binary.LittleEndian.Uint64(f.data[4096*5+8*i:])
		}
		if kv["u64sum"] != strconv.FormatUint(u64, 10) {
			t.Errorf("%s: numpy uint64 sum %s, want %d", p, kv["u64sum"], u64)
		}
		if !strings.HasSuffix(kv["maps"], " "+c.dev) || strings.Contains(kv["maps"], c1) {
			t.Errorf("%s: /proc/pid/maps does not show the device behind the mapping: %q", p, kv["maps"])
		}
		if kv["cached"] != "0" {
			t.Errorf("%s: the client mount's page cache holds %s pages of the file", p, kv["cached"])
		}
		if !strings.Contains(out, "read-only descriptor: EACCES") || !strings.Contains(out, "mprotect write: errno 13") {
			t.Errorf("%s: a read-only descriptor gave a writable mapping:\n%s", p, out)
		}
		nb := hex.EncodeToString(newBytes)
		if kv["after"] != nb+" "+nb || kv["after-read"] != nb {
			t.Errorf("%s: the master's change is not seen: after %q after-read %q, want %s", p, kv["after"], kv["after-read"], nb)
		}
		if st := parseStats(errs); st.mmaps < 3 || st.mount != 0 {
			t.Errorf("%s: python not served from the device: %+v\n%s", p, st, errs)
		}
		copy(f.data[100:], newBytes)
	}
	// The measure is live: without the preload, the same mapping fills the
	// client mount's page cache.
	r, err := exec.Command(py, "-c", script, c1+"/striped").Output()
	if err != nil {
		t.Fatalf("python without the preload: %v", err)
	}
	if n, _ := strconv.Atoi(parse(r)["cached"]); n < len(striped)/4096/2 {
		t.Errorf("without the preload the page cache holds only %d pages: the measure is not live", n)
	}
}

// fio's psync and mmap engines (--thread: the library prints its counters
// at exit(3), which fio's forked jobs do not call) through the preload: the master writes with
// verify headers (psync: the preload's write path on a writable grant), the
// client verifies every block with both engines.
func TestPreloadFio(t *testing.T) {
	fio, err := exec.LookPath("fio")
	if err != nil {
		missingTool(t, "fio is needed (.ci/run installs it)")
	}
	_, m, c1, _, _ := preloadCluster(t)
	must(t, masterID, "creat", "-s", "64m", "-N", "4", "-B", "8", m+"/fio")
	eventually(t, 5*time.Second, "replay", func() bool { _, err := os.Stat(c1 + "/fio"); return err == nil })
	common := []string{"--thread", "--bs=1M", "--size=64M", "--verify=crc32c", "--verify_state_save=0", "--fallocate=none", "--output-format=terse"}
	writes := daemonCounter(t, m, "write")
	r := mustPreloaded(t, nil, nil, append([]string{fio, "--name=w", "--filename=" + m + "/fio", "--rw=write",
		"--ioengine=psync", "--do_verify=0"}, common...)...)
	if r.stats.writeBytes != 64<<20 {
		t.Fatalf("fio write through the preload: %+v\n%s", r.stats, r.stderr)
	}
	if got := daemonCounter(t, m, "write"); got != writes {
		t.Errorf("the master daemon served %d writes for the preloaded fio", got-writes)
	}
	for _, engine := range []string{"psync", "mmap"} {
		r := mustPreloaded(t, nil, nil, append([]string{fio, "--name=r", "--filename=" + c1 + "/fio", "--rw=read",
			"--readonly", "--ioengine=" + engine}, common...)...)
		served := r.stats.readBytes >= 64<<20
		if engine == "mmap" {
			served = r.stats.mmaps > 0
		}
		if !served || r.stats.mount != 0 {
			t.Errorf("fio %s on the client: not served from the device: %+v\n%s", engine, r.stats, r.stderr)
		}
	}
	// The check bites: a corrupted block fails fio's verification.
	wf, _ := os.OpenFile(m+"/fio", os.O_WRONLY, 0)
	wf.WriteAt([]byte("corrupt!"), 5<<20+4096)
	wf.Close()
	r = runPreloaded(t, nil, nil, append([]string{fio, "--name=r", "--filename=" + c1 + "/fio", "--rw=read",
		"--readonly", "--ioengine=mmap"}, common...)...)
	if r.code == 0 {
		t.Errorf("fio verified a corrupted file")
	}
}

// Two threads and a forked child read and seek one open file description
// (dup, dup2, F_DUPFD) of an interleaved file and get what read(2) would
// give; a descriptor closed behind the library's back and reused is served
// as the new file.
func TestPreloadDescriptorsThreadsFork(t *testing.T) {
	_, m, c1, _, _ := preloadCluster(t)
	bin := filepath.Join(t.TempDir(), "fdtest")
	if out, err := exec.Command("gcc", "-O2", "-Wall", "-pthread", "-o", bin, "testdata/preload_fdtest.c").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	// every 8-byte word holds its own offset
	const size = 70<<20 - 4096*3 - 8
	must(t, masterID, "creat", "-s", strconv.Itoa(size), "-N", "4", "-B", "8", m+"/pattern")
	buf := make([]byte, size)
	for i := 0; i < size; i += 8 {
		binary.LittleEndian.PutUint64(buf[i:], uint64(i))
	}
	wf, err := os.OpenFile(m+"/pattern", os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wf.WriteAt(buf, 0); err != nil {
		t.Fatal(err)
	}
	wf.Close()
	eventually(t, 5*time.Second, "replay", func() bool { _, err := os.Stat(c1 + "/pattern"); return err == nil })
	other := filepath.Join(t.TempDir(), "other")
	os.WriteFile(other, []byte("not the famfs file"), 0o644)
	r := mustPreloaded(t, nil, nil, bin, c1+"/pattern", other)
	out := string(r.stdout)
	if !strings.Contains(out, "ok") {
		t.Fatalf("fdtest: %s\n%s", out, r.stderr)
	}
	if r.stats.grants < 1 || r.stats.reads < 100 || r.stats.mmaps < 1 {
		t.Errorf("fdtest not served from the device: %+v\n%s", r.stats, r.stderr)
	}
	if !strings.Contains(r.stderr, "no longer the famfs file") {
		t.Errorf("the reused descriptor was not noticed:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "behind the library's back") || r.stats.mount != 0 {
		t.Errorf("close_range closed the library's device descriptor:\n%s", r.stderr)
	}
	// The same program without the preload passes too (the test is of read(2)'s meaning).
	if out, err := exec.Command(bin, c1+"/pattern", other).CombinedOutput(); err != nil {
		t.Fatalf("fdtest without the preload: %v\n%s", err, out)
	}
}

// Writes through the preload on the master: in place within the file,
// EFBIG at the end and for O_APPEND, short across the end; the client sees
// them; the master daemon serves none.
func TestPreloadWrites(t *testing.T) {
	py := debianPython(t)
	_, m, c1, simple, _ := preloadCluster(t)
	script := `import os, sys, errno
p = sys.argv[1]
size = os.stat(p).st_size
fd = os.open(p, os.O_RDWR)
os.lseek(fd, 4096, 0)
print("write", os.write(fd, b"A" * 5000), os.lseek(fd, 0, 1))
print("pwrite", os.pwrite(fd, b"B" * 10, size - 4))
for what, f in (("pwrite-eof", lambda: os.pwrite(fd, b"C", size)), ("write-eof", lambda: (os.lseek(fd, size, 0), os.write(fd, b"C")))):
    try:
        f(); print(what, "ok")
    except OSError as e:
        print(what, errno.errorcode[e.errno])
a = os.open(p, os.O_RDWR | os.O_APPEND)
try:
    os.write(a, b"D"); print("append ok")
except OSError as e:
    print("append", errno.errorcode[e.errno])
os.lseek(fd, size - 3, 0)
os.writev(fd, [b"x", b"yz"])
print("pos", os.lseek(fd, 0, 1))
`
	writes := daemonCounter(t, m, "write")
	r := mustPreloaded(t, nil, nil, py, "-c", script, m+"/simple")
	want := fmt.Sprintf("write 5000 9096\npwrite 4\npwrite-eof EFBIG\nwrite-eof EFBIG\nappend EFBIG\npos %d\n", len(simple))
	if string(r.stdout) != want {
		t.Errorf("python writes:\n%s\nwant:\n%s\n%s", r.stdout, want, r.stderr)
	}
	if r.stats.writes < 2 || r.stats.mount != 0 {
		t.Errorf("writes not served from the device: %+v\n%s", r.stats, r.stderr)
	}
	if got := daemonCounter(t, m, "write"); got != writes {
		t.Errorf("the master daemon served %d writes", got-writes)
	}
	copy(simple[4096:], bytes.Repeat([]byte("A"), 5000))
	copy(simple[len(simple)-4:], "Bxyz")
	got, err := os.ReadFile(c1 + "/simple")
	if err != nil || !bytes.Equal(got, simple) {
		t.Errorf("the client reads other bytes after the master's preloaded writes (%v)", err)
	}
}

// A user who is not trusted with the device reads correct bytes through
// the mount; the library says why.
func TestPreloadUntrustedFallsBack(t *testing.T) {
	c, m, c1, simple, _ := preloadCluster(t)
	os.Chmod(c.dir, 0o755)
	os.Chmod(c.dev, 0o600) // nobody may open the device: no grant
	_ = m
	// famfs and the library where the unprivileged user can reach them
	dir := filepath.Join(c.dir, "bin")
	os.Mkdir(dir, 0o755)
	copyFile(t, famfsBin, filepath.Join(dir, "famfs"))
	copyFile(t, preloadLib(t), filepath.Join(dir, "libfamfs-preload.so"))
	os.Chmod(filepath.Join(dir, "famfs"), 0o755)
	reads := daemonCounter(t, c1, "read")
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
		filepath.Join(dir, "famfs"), "run", "-d", "--", "cat", c1+"/simple")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("cat as nobody: %v\n%s", err, errb.String())
	}
	if !bytes.Equal(out.Bytes(), simple) {
		t.Fatalf("cat as nobody: %d bytes, not the file's", out.Len())
	}
	st := parseStats(errb.String())
	if st.grants != 0 || st.refused != 1 || !strings.Contains(errb.String(), "EACCES") {
		t.Errorf("an untrusted user got a grant: %+v\n%s", st, errb.String())
	}
	if daemonCounter(t, c1, "read") == reads {
		t.Errorf("the mount did not serve the untrusted user's reads")
	}
}

// Re-making the file system under a client: a descriptor granted before
// gets EIO from the mount (the library drops the grant), never the new file
// system's bytes.
func TestPreloadRemadeFileSystem(t *testing.T) {
	py := debianPython(t)
	c, _, c1, _, _ := preloadCluster(t)
	script := `import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
print(len(os.pread(fd, 4096, 0)), flush=True)
sys.stdin.readline()
try:
    print("read", len(os.pread(fd, 4096, 0)))
except OSError as e:
    print("error", e.errno)
try:
    os.open(sys.argv[1], os.O_RDONLY); print("reopen ok")
except OSError as e:
    print("reopen error", e.errno)
`
	proc := startPreloaded(t, py, "-c", script, c1+"/simple")
	proc.waitFor(t, "4096")
	alias := filepath.Join(c.dir, "alias.img")
	if err := os.Link(c.dev, alias); err != nil {
		t.Fatal(err)
	}
	must(t, masterID, "mkfs.famfs", "-f", alias)
	eventually(t, 5*time.Second, "EIO on the client", func() bool {
		_, err := os.ReadFile(c1 + "/simple")
		return err != nil
	})
	out, errs := proc.finish(t, "go\n")
	if !strings.Contains(out, "error 5\n") {
		t.Errorf("a granted descriptor read after re-mkfs: %s\n%s", out, errs)
	}
	if !strings.Contains(errs, "re-made") {
		t.Errorf("the library did not notice the re-made file system:\n%s", errs)
	}
}

// famfs run: a clear error when the library is missing, env(1)'s codes for
// a command that is not there.
func TestRunErrors(t *testing.T) {
	preloadLib(t)
	dir := t.TempDir()
	lone := filepath.Join(dir, "famfs")
	copyFile(t, famfsBin, lone)
	os.Chmod(lone, 0o755)
	out, err := exec.Command(lone, "run", "--", "true").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "libfamfs-preload.so") {
		t.Errorf("famfs run without the library: %v %s", err, out)
	}
	out, err = exec.Command(famfsBin, "run", "--", "no-such-command-here").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 127 {
		t.Errorf("famfs run of a missing command: %v %s", err, out)
	}
	out, err = exec.Command(famfsBin, "run").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 16 {
		t.Errorf("famfs run without a command: %v %s", err, out)
	}
	// LD_PRELOAD reaches the command, the library first, an existing value kept.
	cmd := exec.Command(famfsBin, "run", "--", "sh", "-c", "echo $LD_PRELOAD")
	cmd.Env = append(os.Environ(), "LD_PRELOAD=/nonexistent/other.so")
	out, _ = cmd.Output()
	lib := filepath.Join(filepath.Dir(famfsBin), "libfamfs-preload.so")
	if got := strings.TrimSpace(string(out)); got != lib+":/nonexistent/other.so" {
		t.Errorf("LD_PRELOAD in the command: %q", got)
	}
}
