package metalog

// Media is the memory a log lives in. Offsets are relative to the start of the
// log (the header). Loads return what this host's view of the memory holds:
// call Invalidate first to see other hosts' flushed stores. Stores stay in this
// host's cache until Flush.
type Media interface {
	ReadAt(p []byte, off uint64) error
	WriteAt(p []byte, off uint64) error
	LoadU64(off uint64) (uint64, error)
	StoreU64(off uint64, v uint64) error
	Flush(off, n uint64)
	Invalidate(off, n uint64)
}

// Viewer is a Media whose bytes can be read in place: View runs fn on the
// bytes [off, off+n) and turns a memory fault into an error. Replay uses it
// when the Media offers it, instead of copying the log out (device.Mapping
// does; the test models of shared memory do not).
type Viewer interface {
	View(off, n uint64, fn func(b []byte)) error
}

// viewer returns m as a Viewer, looking through Sub.
func viewer(m Media) (Viewer, bool) {
	if s, ok := m.(sub); ok {
		v, ok := s.m.(Viewer)
		if !ok {
			return nil, false
		}
		return subViewer{v, s.off}, true
	}
	v, ok := m.(Viewer)
	return v, ok
}

type subViewer struct {
	v   Viewer
	off uint64
}

func (s subViewer) View(off, n uint64, fn func([]byte)) error { return s.v.View(s.off+off, n, fn) }

// Sub returns the part of m starting at off, for example the log inside a
// mapping of the whole metadata region.
func Sub(m Media, off uint64) Media {
	if off == 0 {
		return m
	}
	return sub{m, off}
}

type sub struct {
	m   Media
	off uint64
}

func (s sub) ReadAt(p []byte, off uint64) error   { return s.m.ReadAt(p, s.off+off) }
func (s sub) WriteAt(p []byte, off uint64) error  { return s.m.WriteAt(p, s.off+off) }
func (s sub) LoadU64(off uint64) (uint64, error)  { return s.m.LoadU64(s.off + off) }
func (s sub) StoreU64(off uint64, v uint64) error { return s.m.StoreU64(s.off+off, v) }
func (s sub) Flush(off, n uint64)                 { s.m.Flush(s.off+off, n) }
func (s sub) Invalidate(off, n uint64)            { s.m.Invalidate(s.off+off, n) }
