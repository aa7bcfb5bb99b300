package famfs

import "github.com/famfs-go/famfs/internal/device"

// Shared memory that is not cache coherent between hosts (CXL memory shared
// by several hosts may not be) needs explicit cache maintenance: the writer
// writes its lines back, the reader drops its stale copies before loading.
// File and Mapping have range methods for their own bytes; these functions
// serve any slice of mapped device memory (for example part of
// Mapping.Bytes). On coherent memory they only cost the instructions.

// FlushCache writes the cache lines holding b back to memory, so that other
// hosts can see what this host stored there.
func FlushCache(b []byte) { device.Flush(b) }

// InvalidateCache drops this host's cached copies of the lines holding b, so
// that the next loads read memory.
func InvalidateCache(b []byte) { device.Invalidate(b) }

// FlushInvalidateCache fences, writes back and drops every line of b, then
// fences again (what `famfs flush` does to a file).
func FlushInvalidateCache(b []byte) { device.HardFlush(b) }

// CacheOps names the instructions this build uses for FlushCache and
// InvalidateCache on this CPU.
func CacheOps() string { return device.CacheOps() }
