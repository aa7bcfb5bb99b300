package cli

import (
	"bytes"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	famfs "github.com/famfs-go/famfs"
	"golang.org/x/sys/unix"
)

// openPty returns the two ends of a new pseudo-terminal.
func openPty(t *testing.T) (ptm, pts *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skip("no pseudo-terminals:", err)
	}
	t.Cleanup(func() { ptm.Close() })
	if err := unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptm.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	pts, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pts.Close() })
	if err := unix.IoctlSetWinsize(int(pts.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 30, Col: 100}); err != nil {
		t.Fatal(err)
	}
	return ptm, pts
}

// The bar is for a user watching: stdout and stderr both terminals, and a
// copy big enough to take a while.
func TestCpProgressOnlyOnTerminal(t *testing.T) {
	_, tty := openPty(t)
	_, sizeless := openPty(t)
	unix.IoctlSetWinsize(int(sizeless.Fd()), unix.TIOCSWINSZ, &unix.Winsize{})
	pipe := new(bytes.Buffer)
	for _, c := range []struct {
		out, err io.Writer
		total    int64
		want     bool
	}{
		{tty, tty, 1 << 30, true},
		{pipe, tty, 1 << 30, false}, // stdout redirected: a script
		{tty, pipe, 1 << 30, false},
		{pipe, pipe, 1 << 30, false},
		{tty, tty, 1 << 20, false},           // over before a bar could say anything
		{sizeless, sizeless, 1 << 30, false}, // no width to draw a bar in
	} {
		e := &env{stdout: c.out, stderr: c.err}
		p := newCpProgress(e, c.total)
		if (p != nil) != c.want {
			t.Errorf("stdout %T, stderr %T, %d bytes: bar %v, want %v", c.out, c.err, c.total, p != nil, c.want)
		}
		if p != nil {
			p.bar.SetTotal(-1, true)
			p.wait()
		}
	}
}

// Progress counts bytes as they are copied, not files as they finish, and
// -v names each file as it is done.
func TestCpProgressCountsBytes(t *testing.T) {
	dev := newDevice(t)
	fsys, err := famfs.Open(dev, famfs.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	const size = 32 << 20
	src := filepath.Join(t.TempDir(), "src")
	data := make([]byte, size)
	rand.Read(data)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	file, err := fsys.Create("big", famfs.CreateOptions{Size: size, Mode: 0o644})
	if err != nil {
		t.Fatal(err)
	}
	var calls, sum int
	prog := &cpProgress{onAdd: func(n int) { calls++; sum += n }}
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb}
	jobs := []*cpJob{{src: src, dst: "big", shown: "mnt/big", size: size, file: file}}
	if copyJobsShowing(e, jobs, 1, 1, prog) {
		t.Fatalf("copy failed: %s", errb.String())
	}
	if sum != size || calls < 4 {
		t.Errorf("progress saw %d bytes in %d steps; want %d bytes, in steps as the copy goes", sum, calls, size)
	}
	if got := out.String(); got != "famfs cp: "+src+" -> mnt/big (33554432 bytes)\n" {
		t.Errorf("-v printed %q", got)
	}
	got := make([]byte, size)
	if _, err := file.ReadAt(got, 0); err != nil || !bytes.Equal(got, data) {
		t.Errorf("copied data differs (%v)", err)
	}
}
