package pcq

import (
	"hash/crc32"
	"unsafe"
)

// The bucket trailer's CRC is zlib's CRC-32 (IEEE), the one the C tools
// check (docs/pcq.md). Every message pays it once on each side, over the
// whole payload, so it sets the queue's speed on large buckets; crcUpdate
// is crc32.Update(crc, crc32.IEEETable, p), faster where the CPU lets it
// (crc_amd64.go).
func crcUpdate(crc uint32, p []byte) uint32 {
	if n := len(p) &^ (foldBlock - 1); wideFold && n >= 2*foldBlock {
		var state [foldBlock]byte
		fold(^crc, p[:n], &state)
		crc = stateCRC(&state)
		p = p[n:]
	}
	return crc32.Update(crc, crc32.IEEETable, p)
}

// stateCRC is the CRC a fold leaves: its state is a 256-byte message with
// the same CRC, from a zero register, as everything folded.
func stateCRC(state *[foldBlock]byte) uint32 {
	return crc32.Update(0xffffffff, crc32.IEEETable, state[:])
}

// crcCopy copies src into dst (which must be at least as long) and returns
// crcUpdate(crc, src): one pass over the bytes, where a copy and then a CRC
// would read them twice.
func crcCopy(crc uint32, dst, src []byte) uint32 {
	crc, _ = copyCRC(crc, dst, src, false)
	return crc
}

// crcCopyOut is crcCopy for a destination in shared memory that the caller
// would write back anyway: where it can, it stores with non-temporal stores,
// which bypass the caches and leave nothing to write back. It returns how
// many leading bytes of dst it stored so (already in memory and fenced); the
// rest went through the cache.
func crcCopyOut(crc uint32, dst, src []byte) (uint32, int) { return copyCRC(crc, dst, src, true) }

// copyCRC is crcCopy, with non-temporal stores when out is set and dst is
// 32-byte aligned; done is how many bytes went so.
func copyCRC(crc uint32, dst, src []byte, out bool) (_ uint32, done int) {
	if len(dst) < len(src) {
		panic("pcq: crcCopy into a shorter slice")
	}
	dst = dst[:len(src)]
	if n := len(src) &^ (foldBlock - 1); wideFold && n >= 2*foldBlock {
		var state [foldBlock]byte
		if out && uintptr(unsafe.Pointer(unsafe.SliceData(dst)))%32 == 0 {
			foldCopyNT(^crc, dst[:n], src[:n], &state)
			done = n
		} else {
			foldCopy(^crc, dst[:n], src[:n], &state)
		}
		crc = stateCRC(&state)
		dst, src = dst[n:], src[n:]
	}
	copy(dst, src)
	return crc32.Update(crc, crc32.IEEETable, src), done
}

// crcOf is the CRC-32 of p.
func crcOf(p []byte) uint32 { return crcUpdate(0, p) }

// foldBlock is what one step of fold consumes.
const foldBlock = 256
