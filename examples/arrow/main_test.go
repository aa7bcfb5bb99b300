package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/mount"
	"github.com/google/uuid"
)

// The test binary is also the example program: with ARROWDEMO_CHILD=1 it
// runs arrowdemo, so each host of a test is a separate process with its own
// FAMFS_SYSTEM_UUID.
func TestMain(m *testing.M) {
	if os.Getenv("ARROWDEMO_CHILD") == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

const (
	masterID = "a0a0a0a0-0000-4000-8000-0000000000a0"
	clientID = "b1b1b1b1-0000-4000-8000-0000000000b1"
)

// hostCmd is arrowdemo as host id.
func hostCmd(id string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "ARROWDEMO_CHILD=1", "FAMFS_SYSTEM_UUID="+id)
	return cmd
}

// host runs arrowdemo as host id and returns its exit code and output.
func host(t *testing.T, id string, args ...string) (int, string, string) {
	t.Helper()
	cmd := hostCmd(id, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("arrowdemo %v: %v", args, err)
	}
	return code, out.String(), errb.String()
}

// mustHost runs arrowdemo as host id and fails the test unless it exits 0.
func mustHost(t *testing.T, id string, args ...string) string {
	t.Helper()
	code, out, errs := host(t, id, args...)
	if code != 0 {
		t.Fatalf("arrowdemo %v as %s: exit %d\nstdout: %s\nstderr: %s", args, id[:8], code, out, errs)
	}
	return out
}

// newDevice makes a sparse 4 GiB device file in /dev/shm with a file system
// whose master is masterID; it is removed when the test ends.
func newDevice(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "famfs-arrow-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	dev := filepath.Join(dir, "dax.img")
	if _, err := famfs.Mkfs(dev, famfs.MkfsOptions{Size: 4 << 30, SystemUUID: uuid.MustParse(masterID)}); err != nil {
		t.Fatal(err)
	}
	return dev
}

// session is a running "arrowdemo client": one host holding one mapping.
type session struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *json.Decoder
	stderr bytes.Buffer
	lines  chan []byte
}

func startClient(t *testing.T, id string, args ...string) *session {
	t.Helper()
	s := &session{cmd: hostCmd(id, append([]string{"client"}, args...)...), lines: make(chan []byte)}
	s.cmd.Stderr = &s.stderr
	var err error
	if s.in, err = s.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.in.Close()
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-done
		}
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			s.lines <- append([]byte(nil), sc.Bytes()...)
		}
		close(s.lines)
	}()
	return s
}

// ask sends one command line and decodes the one-line JSON answer into v.
func (s *session) ask(t *testing.T, line string, v any) {
	t.Helper()
	if _, err := fmt.Fprintln(s.in, line); err != nil {
		t.Fatalf("client: %q: %v\nstderr: %s", line, err, s.stderr.String())
	}
	select {
	case b, ok := <-s.lines:
		if !ok {
			t.Fatalf("client: %q: it exited\nstderr: %s", line, s.stderr.String())
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("client: %q: answer %s: %v", line, b, err)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("client: %q: no answer in 60 s\nstderr: %s", line, s.stderr.String())
	}
}

func (s *session) quit(t *testing.T) {
	t.Helper()
	fmt.Fprintln(s.in, "quit")
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("client: %v\nstderr: %s", err, s.stderr.String())
	}
}

type infoReply struct {
	PID      int     `json:"pid"`
	Role     string  `json:"role"`
	Host     string  `json:"host"`
	Base     uintptr `json:"base"`
	Size     int     `json:"size"`
	Writable bool    `json:"writable"`
	Batches  int     `json:"batches"`
	Rows     int64   `json:"rows"`
	Reader   string  `json:"reader"`
}

// The master writes Arrow IPC files into famfs; a client process maps them
// and reads them with Arrow's reader; every column buffer of every batch is
// inside the client's mapping and Arrow allocates nothing; a value the master
// changes in place is seen by the client's next read of that batch through
// the mapping it already had.
func TestZeroCopyAcrossHosts(t *testing.T) {
	dev := newDevice(t)
	const batches, rows = 6, 5000
	tables := []struct {
		file   string
		dict   bool
		reader string // which zero-copy reader the client uses
		// non-empty buffers per batch: id values; value validity + values;
		// name offsets + bytes; city indexes + its dictionary's offsets +
		// bytes (the one dictionary, shared by every batch)
		perBatch int
	}{
		{"arrow/table.arrow", true, "ipc.NewReaderFromMessageReader", 1 + 2 + 2 + 3},
		{"arrow/plain.arrow", false, "ipc.NewMappedFileReader", 1 + 2 + 2},
	}
	for _, tb := range tables {
		out := mustHost(t, masterID, "write", "-batches", fmt.Sprint(batches), "-rows", fmt.Sprint(rows),
			fmt.Sprintf("-dict=%v", tb.dict), dev, tb.file)
		if !strings.Contains(out, "(master)") {
			t.Fatalf("write: %s", out)
		}
	}
	for _, tb := range tables {
		t.Run(filepath.Base(tb.file), func(t *testing.T) {
			c := startClient(t, clientID, dev, tb.file)
			var info infoReply
			c.ask(t, "info", &info)
			if info.Role != "client" || info.Host != clientID || info.Writable || info.PID == os.Getpid() {
				t.Fatalf("client info %+v: want a read-only mapping of host %s in its own process", info, clientID)
			}
			if info.Batches != batches || info.Rows != batches*rows || !strings.HasPrefix(info.Reader, tb.reader) {
				t.Fatalf("client info %+v: want %d batches, %d rows, read with %s", info, batches, batches*rows, tb.reader)
			}

			var rep checkReport
			c.ask(t, "check", &rep)
			if rep.Buffers != batches*tb.perBatch {
				t.Fatalf("check %+v: %d buffers, want %d (%d per batch)", rep, rep.Buffers, batches*tb.perBatch, tb.perBatch)
			}
			if rep.Inside != rep.Buffers || rep.Outside != "" {
				t.Fatalf("check: %d of %d buffers inside the famfs mapping; first outside: %s", rep.Inside, rep.Buffers, rep.Outside)
			}
			if rep.Allocs != 0 || rep.AllocBytes != 0 || rep.CurrentAlloc != 0 {
				t.Fatalf("check: Arrow allocated %d bytes in %d allocations (%d held) while reading in place", rep.AllocBytes, rep.Allocs, rep.CurrentAlloc)
			}
			if rep.Differences != 0 || rep.Rows != batches*rows {
				t.Fatalf("check: %d rows, %d differences: %v", rep.Rows, rep.Differences, rep.First)
			}

			const k, r, v = 3, 17, 424242
			var before getReply
			c.ask(t, fmt.Sprintf("get %d %d", k, r), &before)
			if before.Error != "" || before.ID != k*rows+r || !before.Inside {
				t.Fatalf("get before the change: %+v, want id %d read from the mapping", before, k*rows+r)
			}

			// A client may not change the data (this example's rule).
			if code, out, errs := host(t, clientID, "poke", "-batch", fmt.Sprint(k), "-row", fmt.Sprint(r), "-value", "1", dev, tb.file); code != 1 || !strings.Contains(errs, "master only") {
				t.Fatalf("poke as a client: exit %d, want 1 and a message\nstdout: %s\nstderr: %s", code, out, errs)
			}
			out := mustHost(t, masterID, "poke", "-batch", fmt.Sprint(k), "-row", fmt.Sprint(r), "-value", fmt.Sprint(v), dev, tb.file)
			if want := fmt.Sprintf("id %d -> %d at file offset %d", k*rows+r, v, before.Offset); !strings.Contains(out, want) {
				t.Fatalf("poke: %q, want %q (the offset the client reads)", out, want)
			}

			var after getReply
			c.ask(t, fmt.Sprintf("get %d %d", k, r), &after)
			if after.Error != "" || after.ID != v || after.Offset != before.Offset || !after.Inside {
				t.Fatalf("get after the master's change: %+v, want id %d at offset %d", after, v, before.Offset)
			}
			var again infoReply
			c.ask(t, "info", &again)
			if again != info {
				t.Fatalf("the client's mapping changed: %+v, was %+v", again, info)
			}
			c.ask(t, "check", &rep)
			want := fmt.Sprintf("batch %d row %d id: %d, written %d", k, r, v, k*rows+r)
			if rep.Differences != 1 || len(rep.First) != 1 || rep.First[0] != want || rep.Inside != rep.Buffers {
				t.Fatalf("check after the change: %d differences %v, want only %q", rep.Differences, rep.First, want)
			}
			// The neighbours in the same batch did not move.
			var next getReply
			c.ask(t, fmt.Sprintf("get %d %d", k, r+1), &next)
			if next.ID != k*rows+r+1 || next.Offset != before.Offset+8 {
				t.Fatalf("get of the next row: %+v", next)
			}
			c.quit(t)
		})
	}
}

// The one-shot read and the command line's errors.
func TestReadAndErrors(t *testing.T) {
	dev := newDevice(t)
	mustHost(t, masterID, "write", "-batches", "3", "-rows", "100", dev, "t.arrow")
	out := mustHost(t, clientID, "read", dev, "t.arrow")
	for _, want := range []string{"(client)", "zero copy: 24 of 24 column buffers", "0 allocations, 0 bytes", "all 300 rows as written"} {
		if !strings.Contains(out, want) {
			t.Fatalf("read: %q lacks %q", out, want)
		}
	}
	for _, c := range []struct {
		id   string
		code int
		args []string
		msg  string
	}{
		{clientID, 16, nil, "usage"},
		{clientID, 16, []string{"frobnicate"}, "unknown command"},
		{clientID, 16, []string{"read"}, "got 0 arguments"},
		{clientID, 16, []string{"write", "-rows", "x", dev, "u.arrow"}, "invalid value"},
		{clientID, 16, []string{"poke", dev, "t.arrow"}, "needs -batch and -row"},
		{clientID, 1, []string{"write", dev, "u.arrow"}, "not the master"},
		{masterID, 1, []string{"write", dev, "t.arrow"}, "exists"},
		{masterID, 1, []string{"write", "-rows", "0", dev, "u.arrow"}, "at least 1"},
		{clientID, 1, []string{"read", dev, "nosuch.arrow"}, "nosuch.arrow"},
		{clientID, 1, []string{"read", dev + ".nosuch", "t.arrow"}, "no such file"},
		{clientID, 1, []string{"read", "/"}, "not inside a famfs mount"},
		{masterID, 1, []string{"poke", "-batch", "3", "-row", "0", dev, "t.arrow"}, "the file has 3"},
		{masterID, 1, []string{"poke", "-batch", "0", "-row", "100", dev, "t.arrow"}, "has 100 rows"},
	} {
		code, out, errs := host(t, c.id, c.args...)
		if code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("arrowdemo %v as %s: exit %d, want %d with %q\nstdout: %s\nstderr: %s", c.args, c.id[:8], code, c.code, c.msg, out, errs)
		}
	}
	// A famfs file that is not Arrow: an error, not a panic.
	fsys, err := famfs.Open(dev, famfs.OpenOptions{SystemUUID: uuid.MustParse(masterID)})
	if err != nil {
		t.Fatal(err)
	}
	f, err := fsys.Create("junk", famfs.CreateOptions{Size: 4096, Mode: 0o644})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Fill(7); err != nil {
		t.Fatal(err)
	}
	fsys.Close()
	if code, _, errs := host(t, clientID, "read", dev, "junk"); code != 1 || !strings.Contains(errs, "not an Arrow IPC file") {
		t.Fatalf("read of a non-Arrow file: exit %d, stderr %s", code, errs)
	}
}

// A client names the file by its path in a famfs mount: the library finds the
// device behind the mount (famfs.OpenMounted) and maps the file just the same.
func TestThroughMount(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (FUSE mount)")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("no /dev/fuse")
	}
	dev := newDevice(t)
	mustHost(t, masterID, "write", "-batches", "4", "-rows", "1000", dev, "dir/t.arrow")

	bin := filepath.Join(t.TempDir(), "famfs")
	build := exec.Command("go", "build", "-o", bin, "./cmd/famfs")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building famfs: %v\n%s", err, out)
	}
	mpt := filepath.Join(filepath.Dir(dev), "mnt")
	if err := os.Mkdir(mpt, 0o755); err != nil {
		t.Fatal(err)
	}
	famfsCmd := func(args ...string) ([]byte, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "FAMFS_SYSTEM_UUID="+clientID)
		return cmd.CombinedOutput()
	}
	if out, err := famfsCmd("mount", dev, mpt); err != nil {
		t.Fatalf("famfs mount: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := famfsCmd("umount", mpt); err != nil {
			t.Errorf("famfs umount: %v\n%s", err, out)
			syscall.Unmount(mpt, syscall.MNT_DETACH)
		}
		// The daemon keeps its log after unmount; this one was ours.
		os.Remove(mount.LogPath(mpt))
		mount.RemoveSockets(mpt)
	})
	out := mustHost(t, clientID, "read", filepath.Join(mpt, "dir/t.arrow"))
	for _, want := range []string{"(client)", "zero copy: 32 of 32 column buffers", "0 allocations, 0 bytes", "all 4000 rows as written"} {
		if !strings.Contains(out, want) {
			t.Fatalf("read through the mount: %q lacks %q", out, want)
		}
	}
}
