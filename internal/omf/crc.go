package omf

import (
	"bytes"
	"hash/crc32"
)

// EntryCRC computes the CRC of an encoded entry: CRC-32 (IEEE) of bytes
// [0, 536).
//
// Most entries end in a long run of zeros (paths are short and most maps
// have one extent), and the CRC register's progress through n zero bytes is
// a fixed linear map of the register. So when bytes [crcSplit, 536) are all
// zero, only [0, crcSplit) goes through crc32 and the zeros are applied with
// four table lookups: the same value at about half the cost, which matters
// because replay checks every entry of the log.
func EntryCRC(b []byte) uint64 {
	b = b[:enCRC]
	if bytes.Equal(b[crcSplit:], zeroTail[:]) {
		return uint64(^zeroOp.apply(^crc32.Update(0, crc32.IEEETable, b[:crcSplit])))
	}
	return uint64(crc32.ChecksumIEEE(b))
}

// crcSplit covers MKDIR entries and FILE entries with one simple extent
// (which ends at 0x78+16+24 = 160).
const crcSplit = 160

var zeroTail [enCRC - crcSplit]byte

// zeroOp advances a CRC register through enCRC-crcSplit zero bytes.
var zeroOp = newZeroOp(enCRC - crcSplit)

// crcOp is a linear map of the (reflected, uninverted) CRC-32 register,
// applied byte by byte: t[k][v] is the image of v<<8k.
type crcOp [4][256]uint32

func (t *crcOp) apply(r uint32) uint32 {
	return t[0][r&0xff] ^ t[1][r>>8&0xff] ^ t[2][r>>16&0xff] ^ t[3][r>>24]
}

// newZeroOp builds the map that feeds n zero bytes to the register.
func newZeroOp(n int) *crcOp {
	feed := func(r uint32) uint32 {
		for range n {
			r = crc32.IEEETable[r&0xff] ^ r>>8
		}
		return r
	}
	var bit [32]uint32 // images of the basis vectors
	for i := range bit {
		bit[i] = feed(1 << i)
	}
	t := new(crcOp)
	for k := range t {
		for v := range 256 {
			var r uint32
			for i := range 8 {
				if v&(1<<i) != 0 {
					r ^= bit[8*k+i]
				}
			}
			t[k][v] = r
		}
	}
	return t
}
