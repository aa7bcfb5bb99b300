// Package namespace owns the file tree a famfs log describes. A Tree is built
// by applying log entries in order; it keeps the allocation bitmap those
// entries imply, so that replay, the allocator and fsck share one view.
//
// Applying never fails: an entry that cannot be placed is reported as a
// Problem (with its log index and reason) and left out, never misplaced. The
// rules are stricter than the reference's (docs/format.md, "Paths" and
// "Replay"): a path whose parent is missing or is a file, a second entry for
// an existing path, a map outside the device, over the superblock and log, or
// not aligned to the allocation unit, a .meta at the root (MetaName), and an
// ADD_DAXDEV out of sequence are all reported and refused (Stats.Refused
// counts them). Extents of a valid map are marked allocated even when its path
// is rejected, so no space the log references is ever handed out again;
// overlaps are counted as collisions (cross-links).
//
// Inode numbers derive from the log index (InoBase + index), so every host
// gives a file the same number.
//
// Nodes hold no Go pointers: they live in chunks, refer to each other by id
// and keep their names in their chunk's byte blocks, so a tree of a whole log
// costs the garbage collector almost nothing and replay stores no pointers.
// A *Node is a handle into its chunk; its fields are read through methods.
// ApplyRaw decodes the common entries straight from the log's bytes.
//
// Concurrency: one writer (Apply, ApplyRaw, Grow) excludes readers of the
// tree's structure (Lookup, Child, Children, Problems: hold a read lock
// around them); a *Node already obtained may be read at any time, because
// nothing about it ever changes except a directory's list of children.
package namespace
