package omf

import (
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

// EntryCRC must be CRC-32 (IEEE) of [0, 536) whatever the bytes, whether
// they end in zeros (the fast path) or not.
func TestEntryCRCMatchesCRC32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, EntrySize)
	for i := range 5000 {
		for k := range b {
			b[k] = byte(r.Uint32())
		}
		switch i % 4 {
		case 0: // zeros from anywhere
			clear(b[r.IntN(enCRC+1):enCRC])
		case 1: // zeros from around the split
			clear(b[crcSplit-8+r.IntN(17) : enCRC])
		case 2: // zeros but one byte past the split
			clear(b[crcSplit:enCRC])
			b[crcSplit+r.IntN(enCRC-crcSplit)] = byte(r.Uint32()) | 1
		}
		if got, want := EntryCRC(b), uint64(crc32.ChecksumIEEE(b[:enCRC])); got != want {
			t.Fatalf("case %d: EntryCRC %#x, crc32 %#x", i, got, want)
		}
	}
}

func FuzzEntryCRC(f *testing.F) {
	f.Add(make([]byte, EntrySize))
	f.Add(make([]byte, crcSplit))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < EntrySize {
			b = append(b, make([]byte, EntrySize-len(b))...)
		}
		if got, want := EntryCRC(b), uint64(crc32.ChecksumIEEE(b[:enCRC])); got != want {
			t.Fatalf("EntryCRC %#x, crc32 %#x", got, want)
		}
	})
}
