//go:build !amd64 && !arm64

package device

// On other architectures the cache operations are no-ops: correct on hosts
// whose shared memory is cache coherent (a regular file on one host), not on
// non-coherent CXL memory. famfs' on-media format is little-endian 64-bit only.

func flushRange(p, n uintptr)      {}
func invalidateRange(p, n uintptr) {}
func hardFlushRange(p, n uintptr)  {}
func cacheOps() string             { return "none (no cache maintenance on this architecture)" }
