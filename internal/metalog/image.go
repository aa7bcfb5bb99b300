package metalog

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrImageReadOnly is returned by stores to an Image.
var ErrImageReadOnly = errors.New("a log image is read-only")

// Image is a log held in ordinary memory (a copy of a device's log, such as a
// mount's .meta/.log), read in place and never written.
type Image []byte

// View runs fn on bytes [off, off+n) of the image.
func (m Image) View(off, n uint64, fn func(b []byte)) error {
	if off > uint64(len(m)) || n > uint64(len(m))-off {
		return fmt.Errorf("log image: %d bytes at %d past its end (%d)", n, off, len(m))
	}
	fn(m[off : off+n])
	return nil
}

func (m Image) ReadAt(p []byte, off uint64) error {
	return m.View(off, uint64(len(p)), func(b []byte) { copy(p, b) })
}

func (m Image) LoadU64(off uint64) (v uint64, err error) {
	err = m.View(off, 8, func(b []byte) { v = binary.LittleEndian.Uint64(b) })
	return v, err
}

func (m Image) WriteAt(p []byte, off uint64) error  { return ErrImageReadOnly }
func (m Image) StoreU64(off uint64, v uint64) error { return ErrImageReadOnly }
func (m Image) Flush(off, n uint64)                 {}
func (m Image) Invalidate(off, n uint64)            {}
