package metalog

import (
	"errors"
	"testing"
)

// An Image reads in place within its bounds, refuses reads past its end and
// every store.
func TestImage(t *testing.T) {
	m := Image{1, 2, 3, 4, 5, 6, 7, 8, 9}
	if v, err := m.LoadU64(1); err != nil || v != 0x0908070605040302 {
		t.Fatalf("LoadU64: %#x %v", v, err)
	}
	if _, err := m.LoadU64(2); err == nil {
		t.Error("a load past the end succeeded")
	}
	b := make([]byte, 3)
	if err := m.ReadAt(b, 6); err != nil || b[0] != 7 || b[2] != 9 {
		t.Errorf("ReadAt: %v %v", b, err)
	}
	if err := m.ReadAt(b, 7); err == nil {
		t.Error("a read past the end succeeded")
	}
	if !errors.Is(m.WriteAt(b, 0), ErrImageReadOnly) || !errors.Is(m.StoreU64(0, 1), ErrImageReadOnly) {
		t.Error("a store to an image succeeded")
	}
	if _, ok := viewer(m); !ok {
		t.Error("replay would copy an image instead of reading it in place")
	}
}
