package famfs

// Hold keeps a file's bytes from being given to another file after the file
// is deleted, until Release (docs/delete.md, "Holds"). A Mapping holds its
// file until Unmap; ReadAt and WriteAt hold it for the call. The mount's
// daemon holds a file for each open handle and each preload lease.
//
// On a file system made without delete, holds cost nothing and do nothing.
type Hold struct {
	fs      *FS
	epoch   uint64
	release func()
}

// Hold takes a hold on the file. It fails with an error wrapping ErrDeleted
// when the file is already deleted (in this FS's view, or in a DELETE entry
// logged since), and with ErrEvicted when this FS's participant slot was
// evicted.
func (fl *File) Hold() (*Hold, error) {
	return fl.fs.hold(fl)
}

// Release ends the hold. It is safe to call more than once.
func (h *Hold) Release() {
	if h == nil || h.release == nil {
		return
	}
	r := h.release
	h.release = nil
	r()
}

// Valid reports whether the hold still protects its file: false once this
// FS was evicted from the participant table (docs/delete.md), when the file's
// memory may already belong to another file. A reader that kept a hold from
// before must then stop (the mount answers EIO).
func (h *Hold) Valid() bool { return h == nil || h.fs == nil || h.fs.validHold(h.epoch) }
