// Package namespace owns the file tree a famfs log describes. A Tree is built
// by applying log entries in order; it keeps the allocation bitmap those
// entries imply, so that replay, the allocator and fsck share one view.
//
// Applying never fails: an entry that cannot be placed is reported as a
// Problem (with its log index and reason) and left out, never misplaced. The
// rules are stricter than the reference's (spec/omf.md §6.4, §9): a path
// whose parent is missing or is a file, a second entry for an existing path,
// a map outside the device or not aligned to the allocation unit, and an
// ADD_DAXDEV out of sequence are all reported. Extents of a valid map are
// marked allocated even when its path is rejected, so no space the log
// references is ever handed out again; overlaps are counted as collisions
// (cross-links).
//
// Inode numbers derive from the log index (InoBase + index), so every host
// gives a file the same number. A Tree is not safe for concurrent use.
package namespace
