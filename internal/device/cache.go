package device

import "unsafe"

// CacheLine is the line size the flush loops step by on amd64; arm64 reads
// its own from CTR_EL0.
const CacheLine = 64

// Flush writes back to memory every cache line that holds a byte of b (CLWB,
// else CLFLUSHOPT, else CLFLUSH, then SFENCE on amd64; DC CVAC then DSB on
// arm64). Use it after storing to shared memory that another host will read.
func Flush(b []byte) {
	if len(b) > 0 {
		flushRange(uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	}
}

// Invalidate drops every cache line that holds a byte of b, writing dirty
// lines back first (CLFLUSHOPT, else CLFLUSH, then SFENCE on amd64; DC CIVAC
// then DSB on arm64), so that the next loads read memory. Use it before
// reading shared memory another host may have written.
func Invalidate(b []byte) {
	if len(b) > 0 {
		invalidateRange(uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	}
}

// HardFlush fences, then writes back and drops every line of b, then fences
// again (the reference's `famfs flush`).
func HardFlush(b []byte) {
	if len(b) > 0 {
		hardFlushRange(uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	}
}

// CacheOps describes the instructions Flush and Invalidate use on this CPU.
func CacheOps() string { return cacheOps() }
