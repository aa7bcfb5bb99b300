package device

import (
	"bytes"
	"path/filepath"
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
