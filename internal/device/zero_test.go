package device

import (
	"bytes"
	"path/filepath"

	"golang.org/x/sys/unix"
	"testing"
)

// Zero clears exactly the range it is given, by punching a hole or through
// memory, and leaves the bytes around it alone (unaligned ends included).
func TestZero(t *testing.T) {
	for _, punch := range []bool{true, false} {
		d, err := Create(filepath.Join(t.TempDir(), "dev"), 8<<20)
		if err != nil {
			t.Fatal(err)
		}
		d.punch = d.punch && punch
		m, err := d.Map(0, 8<<20, true)
		if err != nil {
			t.Fatal(err)
		}
		b := m.Bytes()
		for i := range b {
			b[i] = 0xa5
		}
		from, to := uint64(2<<20+123), uint64(6<<20+4097)
		if err := d.Zero(from, b[from:to]); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b[from:to], make([]byte, to-from)) {
			t.Errorf("punch=%v: the range is not zero", punch)
		}
		if b[from-1] != 0xa5 || b[to] != 0xa5 || b[0] != 0xa5 || b[len(b)-1] != 0xa5 {
			t.Errorf("punch=%v: bytes outside the range changed", punch)
		}
		m.Unmap()
		d.Close()
	}
}

// Release punches the range out of a regular file: its blocks are freed and
// it reads as zero.
func TestRelease(t *testing.T) {
	d, err := Create(filepath.Join(t.TempDir(), "dev"), 16<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.File().WriteAt(bytes.Repeat([]byte{7}, 16<<20), 0); err != nil {
		t.Fatal(err)
	}
	blocks := func() int64 {
		var st unix.Stat_t
		unix.Fstat(int(d.Fd()), &st)
		return st.Blocks
	}
	before := blocks()
	if ok, err := d.Release(4<<20, 12<<20); err != nil || !ok {
		t.Skipf("no hole punching here: %v", err)
	}
	if after := blocks(); after*512 > before*512-(11<<20) {
		t.Errorf("blocks %d -> %d: the memory was not given back", before, after)
	}
	b := make([]byte, 12<<20)
	d.File().ReadAt(b, 4<<20)
	if !bytes.Equal(b, make([]byte, len(b))) {
		t.Error("the released range does not read as zero")
	}
}
