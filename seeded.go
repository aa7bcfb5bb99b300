package famfs

import (
	"bytes"

	"github.com/famfs-go/famfs/internal/device"
	"github.com/famfs-go/famfs/internal/prng"
)

// CheckSeed reports whether seed can reproduce data: the reference keeps only
// its low 32 bits and picks a random seed when those are zero, so such a seed
// could never be verified.
func CheckSeed(seed uint64) error { return prng.CheckSeed(seed) }

// SeededBytes fills b with the reference's seeded pseudo-random stream from
// its start: the bytes `famfs creat -S seed` writes at a file's offset 0, and
// the payload of every message of a seeded pcq run.
func SeededBytes(seed uint64, b []byte) { prng.New(seed).Fill(b) }

// Fill writes the reference's seeded pseudo-random stream over the whole file
// (`famfs creat --randomize --seed`) and flushes it. Seeds that are 0 modulo
// 2^32 are refused: the reference would not reproduce them.
func (fl *File) Fill(seed uint64) error {
	if err := prng.CheckSeed(seed); err != nil {
		return pathErr("fill", fl.info.Path, err)
	}
	if !fl.fs.dataWritable() {
		return pathErr("fill", fl.info.Path, fl.fs.readOnlyReason())
	}
	g := prng.New(seed)
	// Runs are whole allocation units except the last, so the 4-byte stream
	// stays continuous across them.
	err := fl.each(0, fl.info.Size, func(_, mem []byte) error {
		if err := device.Guard(func() { g.Fill(mem) }); err != nil {
			return err
		}
		device.Flush(mem)
		return nil
	}, nil)
	if err != nil {
		return pathErr("fill", fl.info.Path, err)
	}
	return nil
}

// Verify invalidates the file's cache lines and compares its contents with
// the seeded stream. A mismatch is a *VerifyError.
func (fl *File) Verify(seed uint64) error {
	if err := prng.CheckSeed(seed); err != nil {
		return pathErr("verify", fl.info.Path, err)
	}
	g := prng.New(seed)
	want := make([]byte, 1<<20)
	var pos uint64
	err := fl.each(0, fl.info.Size, func(_, mem []byte) error {
		device.Invalidate(mem)
		for off := 0; off < len(mem); {
			n := min(len(want), len(mem)-off)
			g.Fill(want[:n])
			var eq bool
			if err := device.Guard(func() { eq = bytes.Equal(mem[off:off+n], want[:n]) }); err != nil {
				return err
			}
			if !eq {
				i := 0
				device.Guard(func() {
					for i < n && mem[off+i] == want[i] {
						i++
					}
				})
				return &VerifyError{Path: fl.info.Path, Offset: (pos + uint64(off+i)) &^ 3, Size: fl.info.Size}
			}
			off += n
		}
		pos += uint64(len(mem))
		return nil
	}, nil)
	if ve, ok := err.(*VerifyError); ok {
		return ve
	}
	if err != nil {
		return pathErr("verify", fl.info.Path, err)
	}
	return nil
}
