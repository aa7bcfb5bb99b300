// Package fusefs owns the FUSE node tree of a famfs mount (go-fuse v2's fs
// API): the directory, file and symbolic-link nodes over the replayed
// namespace, .meta and its two raw regions, the chmod/chown overrides kept in
// memory for the life of the mount, the refusals of every namespace change
// but delete, the kernel's unlink permission rules when the kernel does not
// apply them, statfs, and telling the kernel which entries and pages replay
// made stale. Errors become errnos through errmap.
//
// A Tree does not mount itself: the caller hands Root and Options to
// fs.Mount (or, in tests, fs.NewNodeFS) and tells it of changes through
// Notify, Invalidate and MarkGone.
package fusefs
