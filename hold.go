package famfs

// Hold keeps a file's bytes from being given to another file after the file
// is deleted, until Release (docs/delete.md, "Holds"). A Mapping holds its
// file until Unmap; ReadAt and WriteAt hold it for the call. The mount's
// daemon holds a file for each open handle and each preload lease.
//
// On a file system made without delete, holds cost nothing and do nothing.
type Hold struct {
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

// hold is File.Hold; the participant machinery fills it in (participant.go).
func (f *FS) hold(fl *File) (*Hold, error) {
	return &Hold{}, nil
}
