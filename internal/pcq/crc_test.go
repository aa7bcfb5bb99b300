package pcq

import (
	"hash/crc32"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// crcUpdate is crc32.Update for every length, start and starting CRC.
func TestCRCUpdate(t *testing.T) {
	if !wideFold {
		t.Log("this CPU has no VPCLMULQDQ: crcUpdate is hash/crc32's")
	}
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 70000)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	for _, n := range []int{0, 1, 127, 128, 255, 256, 257, 511, 512, 513, 767, 768, 1000, 4080, 16384, 65536 - 16, 70000} {
		for _, start := range []int{0, 1, 7} {
			if start+n > len(buf) {
				continue
			}
			for _, crc := range []uint32{0, 0xffffffff, r.Uint32()} {
				p := buf[start : start+n]
				want := crc32.Update(crc, crc32.IEEETable, p)
				if got := crcUpdate(crc, p); got != want {
					t.Fatalf("n %d start %d crc %#x: %#x, want %#x", n, start, crc, got, want)
				}
				out := make([]byte, n+64)
				for _, at := range []int{0, 32, 1} { // aligned (non-temporal) and not
					d := out[at : at+n+1]
					d[n] = 0x5a
					got, done := crcCopyOut(crc, d[:n], p)
					if got != want || string(d[:n]) != string(p) || d[n] != 0x5a || done > n || done%foldBlock != 0 {
						t.Fatalf("crcCopyOut n %d start %d at %d: %#x, want %#x (copy right: %v, done %d)", n, start, at, got, want, string(d[:n]) == string(p), done)
					}
				}
				dst := make([]byte, n+1)
				dst[n] = 0x5a
				if got := crcCopy(crc, dst[:n], p); got != want || string(dst[:n]) != string(p) || dst[n] != 0x5a {
					t.Fatalf("crcCopy n %d start %d crc %#x: %#x, want %#x (copy right: %v, byte after %#x)", n, start, crc, got, want, string(dst[:n]) == string(p), dst[n])
				}
			}
		}
	}
}

func FuzzCRCUpdate(f *testing.F) {
	f.Add(uint32(0), make([]byte, 300))
	f.Fuzz(func(t *testing.T, crc uint32, p []byte) {
		if got, want := crcUpdate(crc, p), crc32.Update(crc, crc32.IEEETable, p); got != want {
			t.Fatalf("%d bytes: %#x, want %#x", len(p), got, want)
		}
	})
}

// The fold constants are x^(2048±32) mod P, bit-reflected, shifted left one.
func TestFoldConstants(t *testing.T) {
	xnmod := func(n int) uint64 {
		const p = 0x04c11db7 // CRC-32's polynomial, x^32 implied
		r := uint32(1)
		for range n {
			top := r & 0x80000000
			r <<= 1
			if top != 0 {
				r ^= p
			}
		}
		return uint64(bits.Reverse32(r)) << 1
	}
	// hash/crc32's own 512-bit fold constants check the derivation.
	if xnmod(512+32) != 0x154442bd4 || xnmod(512-32) != 0x1c6e41596 {
		t.Fatal("the derivation does not give the known 512-bit constants")
	}
	if xnmod(2048+32) != 0x11542778a || xnmod(2048-32) != 0x1322d1430 {
		t.Fatalf("2048-bit constants: %#x %#x", xnmod(2048+32), xnmod(2048-32))
	}
}

func BenchmarkCRC(b *testing.B) {
	p := make([]byte, 16<<10)
	b.Run("crc32", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			crc32.ChecksumIEEE(p)
		}
	})
	dst := make([]byte, len(p))
	b.Run("copy+crc32", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			copy(dst, p)
			crc32.ChecksumIEEE(dst)
		}
	})
	b.Run("crcCopy", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			crcCopy(0, dst, p)
		}
	})
	b.Run("crcOf", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			crcOf(p)
		}
	})
}
