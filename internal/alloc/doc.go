// Package alloc owns famfs space allocation: the free-space bitmap (rebuilt
// from the log on every open, never stored), the contiguous allocator the
// reference uses (first fit for a session's first allocation, next fit after
// that, so our layouts match the reference's), the interleaved ("strided")
// allocator with nbuckets / nstrips / chunk size, and capacity accounting.
//
// One bit covers one allocation unit (2 MiB). The superblock and log are
// reserved first; every extent the log references is marked, and marking a
// bit twice counts an allocation collision (a cross-link), which fsck reports.
package alloc
