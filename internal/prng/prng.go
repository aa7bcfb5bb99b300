// Package prng is the seeded data generator of the reference famfs tools
// (`creat --randomize --seed`, `verify`): SplitMix64 seeding of a
// xoroshiro128+ generator whose outputs fill a buffer 4 bytes at a time. The
// same seed gives byte-identical data in either implementation
// (docs/format.md, "Seeded data").
package prng

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Gen is a xoroshiro128+ generator seeded the reference's way.
type Gen struct{ s0, s1 uint64 }

// CheckSeed rejects seeds that cannot reproduce data: the reference truncates
// the seed to 32 bits and falls back to a time-based seed when that is zero.
func CheckSeed(seed uint64) error {
	if uint32(seed) == 0 {
		return fmt.Errorf("seed %#x is 0 modulo 2^32: the reference would use a random seed, so the data could not be verified", seed)
	}
	return nil
}

// New seeds a generator. Only the low 32 bits of seed matter.
func New(seed uint64) *Gen {
	x := uint64(uint32(seed))
	next := func() uint64 {
		x += 0x9E3779B97F4A7C15
		z := x
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
		z = (z ^ (z >> 27)) * 0x94D049BB133111EB
		return z ^ (z >> 31)
	}
	g := &Gen{}
	g.s0 = next()
	g.s1 = next()
	return g
}

// Next returns the next 64-bit output.
func (g *Gen) Next() uint64 {
	s0, s1 := g.s0, g.s1
	r := s0 + s1
	s1 ^= s0
	g.s0 = bits.RotateLeft64(s0, 55) ^ s1 ^ (s1 << 14)
	g.s1 = bits.RotateLeft64(s1, 36)
	return r
}

// Fill writes the next len(b) bytes of the stream into b: the low 32 bits of
// one output per 4 bytes, little-endian; a 1–3 byte tail takes the first bytes
// of one more output. A stream is only continuous across calls whose lengths
// are multiples of 4.
func (g *Gen) Fill(b []byte) {
	n := len(b) &^ 3
	for i := 0; i < n; i += 4 {
		binary.LittleEndian.PutUint32(b[i:], uint32(g.Next()))
	}
	if tail := len(b) - n; tail > 0 {
		var w [4]byte
		binary.LittleEndian.PutUint32(w[:], uint32(g.Next()))
		copy(b[n:], w[:tail])
	}
}
