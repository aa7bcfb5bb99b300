package famfs

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/famfs-go/famfs/internal/namespace"
	"github.com/famfs-go/famfs/internal/omf"
)

// A Batch is the atomic unit of namespace change: the new directories,
// files and symbolic links staged in it are logged together, in one append,
// or not at all. Nothing of it is visible to any host until the batch
// commits (the log's next index moves once, after every entry is in place),
// and a batch given up — an error, a crash, a source that ended early —
// leaves nothing in the log and no space taken.
//
// FS.Batch runs a function with a batch, holding the log lock, and commits
// the batch when the function returns nil. Each Create, Mkdir and Symlink
// checks what it can at once: the path (length, components, conflicts with
// the namespace and with the batch itself), a log slot for its entry, and,
// for a file, its space, which is allocated then. A failed check leaves the
// batch as it was, so a caller may go on with the next item. A file's data
// is written through its StagedFile before the commit, which zeroes every
// byte of a file's space that was not written — the slack after the end of
// the file included, which a mapping shows — so a new file never exposes
// what an earlier file left in that memory (CreateOptions.NoZero opts out).
//
// A Batch must not outlive its FS.Batch call, and the function must not call
// the FS's changing methods (Create, Mkdir, Symlink, Remove, AddDevice,
// CreateQueue, Batch): they wait for the log lock the batch holds, so such a
// call never returns. Reading (Stat, ReadDir, Lookup, OpenFile) is fine.
type Batch struct {
	tx      *txn
	paths   map[string]bool // staged paths; true for directories
	entries []omf.Entry
	files   []*StagedFile // by entry, nil for a directory
	done    bool
}

// Batch runs fn with a new batch, holding the log lock, and commits the
// batch when fn returns nil: every entry staged is logged in one append and
// the files are written back to memory first. When fn returns an error, or
// the commit fails, nothing is logged and the batch's space is free again;
// the error is returned. Only the master may make a batch (ErrNotMaster).
func (f *FS) Batch(fn func(b *Batch) error) error {
	return f.update(func(tx *txn) error {
		b := tx.batch()
		defer b.abandon()
		if err := fn(b); err != nil {
			return err
		}
		_, err := b.commit()
		return err
	})
}

// batch starts an empty batch.
func (tx *txn) batch() *Batch { return tx.batchFor(0) }

// batchFor starts a batch with room for about n entries.
func (tx *txn) batchFor(n int) *Batch {
	return &Batch{tx: tx, paths: make(map[string]bool, n), entries: make([]omf.Entry, 0, n), files: make([]*StagedFile, 0, n)}
}

// Grow makes room for about n more entries, for a large batch (as
// strings.Builder.Grow): staging then does not reallocate as it goes.
func (s *Batch) Grow(n int) {
	if n <= 0 {
		return
	}
	s.entries = slices.Grow(s.entries, n)
	s.files = slices.Grow(s.files, n)
	if len(s.paths) == 0 {
		s.paths = make(map[string]bool, n)
	}
}

// Len is the number of entries staged.
func (s *Batch) Len() int { return len(s.entries) }

// StagedFile is a file of a Batch: its space is allocated, its entry not yet
// logged. Its methods are safe for concurrent use.
type StagedFile struct {
	file   *File // the space, under the file's path and map (not yet in the namespace)
	noZero bool
	shared bool  // a clone: the space is another file's (CreateOptions.CloneOf)
	logged *File // the file in the namespace, once the batch committed

	mu      sync.Mutex
	written []span     // file byte ranges written, sorted, merged
	state   stageState // staging, then committed or given up
	maps    []*Mapping // made while staging: held at the commit, revoked if given up
}

type stageState int

const (
	staging stageState = iota
	committed
	givenUp
)

// target is the file sf's methods work on: the staged space while the batch
// is open, the logged file (whose Maps and writes take holds) once it
// committed; after the batch was given up the space may be another file's,
// and every method fails.
func (sf *StagedFile) target(op string) (*File, bool, error) {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	switch sf.state {
	case committed:
		return sf.logged, false, nil
	case givenUp:
		return nil, false, pathErr(op, sf.Path(), fmt.Errorf("%w: its batch was given up and its space freed", fs.ErrInvalid))
	}
	return sf.file, true, nil
}

// end records how sf's batch ended: a Mapping made while staging becomes a
// hold on the logged file, or, if the batch was given up, is made
// inaccessible (a store through it would land in another file's space).
func (sf *StagedFile) end(s stageState) {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	sf.state = s
	for _, m := range sf.maps {
		if m.closed {
			continue
		}
		if s == givenUp {
			m.m.Revoke()
			continue
		}
		if h, err := sf.logged.Hold(); err == nil && h.fs != nil {
			m.hold = h
			m.file = sf.logged
			sf.logged.fs.trackMapping(m, true)
		}
	}
	sf.maps = nil
}

type span struct{ from, to uint64 }

// File is the file in the namespace once its batch committed (nil before,
// and after a batch that was given up).
func (sf *StagedFile) File() *File { return sf.logged }

// Path is the file's path relative to the root.
func (sf *StagedFile) Path() string { return sf.file.info.Path }

// Size is the file's size.
func (sf *StagedFile) Size() uint64 { return sf.file.info.Size }

func (s *Batch) check(op, p string) error {
	if s.done {
		return pathErr(op, p, fmt.Errorf("%w: the batch was committed or given up", fs.ErrInvalid))
	}
	return nil
}

// parentLocked checks that c's parent is a directory (logged or staged) and
// that c is free in both. The caller holds f.mu.
func (s *Batch) parentLocked(c string) error {
	f := s.tx.f
	if isDir, ok := s.paths[c]; ok {
		if isDir {
			return &ExistError{Info: Info{Path: c, Name: path.Base(c), Mode: fs.ModeDir}}
		}
		return fmt.Errorf("%w: %s is already being created", fs.ErrExist, c)
	}
	if dir := path.Dir(c); dir != "." {
		if isDir, staged := s.paths[dir]; staged {
			if !isDir {
				return fmt.Errorf("%w: %s is a file being created", ErrNotDir, dir)
			}
			return nil // a staged directory holds only what the batch puts there
		}
	}
	return f.checkParentLocked(c)
}

// Mkdir stages a directory (with Parents, also its missing parents, each with
// the same mode and owner, and an existing directory is accepted).
func (s *Batch) Mkdir(p string, o MkdirOptions) error {
	if err := s.check("mkdir", p); err != nil {
		return err
	}
	f := s.tx.f
	c, err := cleanPath(p)
	if err != nil {
		return pathErr("mkdir", p, err)
	}
	if err := checkReserved(c); err != nil {
		if c == MetaDir && o.Parents {
			return nil
		}
		return pathErr("mkdir", p, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	missing, err := s.missingDirsLocked(c, o.Parents)
	if err != nil {
		return pathErr("mkdir", p, err)
	}
	if len(missing) == 0 {
		if o.Parents {
			return nil
		}
		return pathErr("mkdir", p, fs.ErrExist)
	}
	for _, d := range missing {
		if err := omf.CheckRelPath(d, true); err != nil {
			return pathErr("mkdir", p, fmt.Errorf("%w: %v", ErrBadPath, err))
		}
	}
	if err := f.checkSlotsLocked(uint64(len(s.entries) + len(missing))); err != nil {
		return pathErr("mkdir", p, err)
	}
	for _, d := range missing {
		s.paths[d] = true
		s.entries = append(s.entries, omf.Entry{Type: omf.EntryMkdir, UID: o.UID, GID: o.GID, Mode: o.Mode & 0o7777, Path: d})
		s.files = append(s.files, nil)
	}
	return nil
}

// SymlinkOptions describe a new symbolic link: its owner (its mode is
// always 0777, as in Linux).
type SymlinkOptions struct {
	UID, GID uint32
}

// Symlink stages a symbolic link at p pointing to target, which is only a
// string (docs/format.md, "SYMLINK"): anything but empty, at most
// Format().MaxSymlinkTarget (423) bytes, with no NUL.
func (s *Batch) Symlink(target, p string, o SymlinkOptions) error {
	if err := s.check("symlink", p); err != nil {
		return err
	}
	f := s.tx.f
	c, err := checkNewPath(p)
	if err != nil {
		return pathErr("symlink", p, err)
	}
	if err := omf.CheckSymlinkTarget(target); err != nil {
		return pathErr("symlink", p, fmt.Errorf("%w: %v", fs.ErrInvalid, err))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := s.parentLocked(c); err != nil {
		return pathErr("symlink", p, err)
	}
	if err := f.checkSlotsLocked(uint64(len(s.entries) + 1)); err != nil {
		return pathErr("symlink", p, err)
	}
	s.paths[c] = false
	s.entries = append(s.entries, omf.Entry{Type: omf.EntrySymlink, UID: o.UID, GID: o.GID, Mode: 0o777, Path: c, Target: target})
	s.files = append(s.files, nil)
	return nil
}

// missingDirsLocked lists the directories of c (c included) that neither the
// namespace nor the batch has, top down; without parents only c may be
// missing.
func (s *Batch) missingDirsLocked(c string, parents bool) ([]string, error) {
	f := s.tx.f
	var missing []string
	n := f.tree.Root()
	for rest, done := c, ""; rest != ""; {
		var comp string
		var last bool
		comp, rest, _ = strings.Cut(rest, "/")
		last = rest == ""
		if done == "" {
			done = comp
		} else {
			done += "/" + comp
		}
		if n != nil {
			if k := f.tree.Child(n, comp); k != nil {
				if !k.IsDir() {
					if last {
						return nil, &ExistError{Info: infoOf(k)}
					}
					return nil, fmt.Errorf("%w: %s is a %s", ErrNotDir, done, kindWord(k))
				}
				n = k
				continue
			}
			n = nil
		}
		if isDir, staged := s.paths[done]; staged {
			if !isDir {
				return nil, fmt.Errorf("%w: %s is a file being created", ErrNotDir, done)
			}
			continue
		}
		if !last && !parents {
			return nil, fmt.Errorf("%w: parent directory %s does not exist", fs.ErrNotExist, done)
		}
		missing = append(missing, done)
	}
	return missing, nil
}

// Create stages a new file of o.Size bytes and allocates its space (or,
// with o.CloneOf, shares another file's).
func (s *Batch) Create(p string, o CreateOptions) (*StagedFile, error) {
	if err := s.check("create", p); err != nil {
		return nil, err
	}
	f := s.tx.f
	c, err := checkNewPath(p)
	if err != nil {
		return nil, pathErr("create", p, err)
	}
	if o.Size == 0 && o.CloneOf == "" {
		return nil, pathErr("create", p, fmt.Errorf("%w: size must be at least 1 byte", fs.ErrInvalid))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := s.parentLocked(c); err != nil {
		return nil, pathErr("create", p, err)
	}
	if err := f.checkSlotsLocked(uint64(len(s.entries) + 1)); err != nil {
		return nil, pathErr("create", p, err)
	}
	var m omf.FMap
	if o.CloneOf != "" {
		if f.sb.Reclaim() {
			// A cross-link on a file system that frees space would free
			// it while the other file still uses it; replay then stops
			// freeing anything at all (docs/delete.md).
			return nil, pathErr("clone", p, fmt.Errorf("%w: a file system made for delete refuses cross-linked files", fs.ErrInvalid))
		}
		src, _, err := f.findLocked("clone", o.CloneOf)
		switch {
		case err != nil:
			return nil, err
		case !src.IsFile():
			return nil, pathErr("clone", o.CloneOf, regular(src))
		}
		m, o.Size, o.Mode, o.UID, o.GID, o.NoZero = src.FMap(), src.Size(), src.Mode(), src.UID(), src.GID(), true
	} else if m, err = f.allocLocked(o); err != nil {
		return nil, pathErr("create", p, err)
	}
	e := omf.Entry{Type: omf.EntryFile, Size: o.Size, Flags: omf.FileFlagsAllHostsRW,
		UID: o.UID, GID: o.GID, Mode: o.Mode & 0o7777, Path: c, FMap: m}
	sf := &StagedFile{file: &File{fs: f, info: stagedInfo(&e), fmap: e.FMap}, noZero: o.NoZero, shared: o.CloneOf != ""}
	s.paths[c] = false
	s.entries = append(s.entries, e)
	s.files = append(s.files, sf)
	return sf, nil
}

// allocLocked finds space for a file. The caller holds f.mu.
func (f *FS) allocLocked(o CreateOptions) (omf.FMap, error) {
	if o.FirstFit {
		f.alloc.FirstFit()
	}
	if o.Interleave.Enabled() {
		return f.alloc.Interleaved(o.Size, o.Interleave.internal())
	}
	e, err := f.alloc.Contiguous(o.Size)
	return omf.FMap{Type: omf.ExtSimple, Extents: []omf.Extent{e}}, err
}

// stagedInfo describes a file that is not in the namespace yet.
func stagedInfo(e *omf.Entry) Info {
	return Info{Path: e.Path, Name: path.Base(e.Path), Mode: fileMode(e.Mode, false), UID: e.UID, GID: e.GID,
		Size: e.Size, Index: -1}
}

// abandon gives the batch up: nothing is logged and its space is free again.
// It is safe to call after commit (it then does nothing).
func (s *Batch) abandon() {
	if s.done {
		return
	}
	s.done = true
	f := s.tx.f
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, sf := range s.files {
		if sf != nil && !sf.shared {
			f.alloc.Release(sf.file.fmap)
		}
	}
	for _, sf := range s.files {
		if sf != nil {
			sf.end(givenUp)
		}
	}
}

// commit zeroes what was not written of each staged file, writes the files'
// data back to memory, and logs every staged entry in one append. It returns
// the new files, in the order they were staged. If the append fails nothing
// is logged and the batch is given up.
func (s *Batch) commit() ([]*File, error) {
	if err := s.check("commit", ""); err != nil {
		return nil, err
	}
	f := s.tx.f
	for _, sf := range s.files {
		if sf == nil {
			continue
		}
		if err := sf.finish(); err != nil {
			s.abandon()
			return nil, pathErr("create", sf.Path(), err)
		}
	}
	if len(s.entries) == 0 {
		s.done = true
		return nil, nil
	}
	f.mu.Lock()
	nodes := make([]*namespace.Node, len(s.entries))
	err := f.appendLocked(s.entries, nodes)
	f.mu.Unlock()
	if err != nil {
		s.abandon()
		return nil, err
	}
	s.done = true
	var out []*File
	for i, sf := range s.files {
		if sf == nil {
			continue
		}
		if nodes[i] == nil {
			return out, pathErr("create", sf.Path(), fmt.Errorf("the entry was logged but not placed (see the replay problems)"))
		}
		sf.logged = &File{fs: f, info: infoAt(nodes[i], s.entries[i].Path), fmap: s.entries[i].FMap, node: nodes[i]}
		sf.end(committed)
		out = append(out, sf.logged)
	}
	return out, nil
}

// mark records that file bytes [from, to) were written.
func (sf *StagedFile) mark(from, to uint64) {
	if from >= to {
		return
	}
	sf.mu.Lock()
	defer sf.mu.Unlock()
	w := append(sf.written, span{from, to})
	slices.SortFunc(w, func(a, b span) int {
		switch {
		case a.from < b.from:
			return -1
		case a.from > b.from:
			return 1
		}
		return 0
	})
	merged := w[:1]
	for _, x := range w[1:] {
		last := &merged[len(merged)-1]
		if x.from <= last.to {
			last.to = max(last.to, x.to)
		} else {
			merged = append(merged, x)
		}
	}
	sf.written = merged
}

// WriteAt stores p at file offset off (io.WriterAt), within the file's size.
func (sf *StagedFile) WriteAt(p []byte, off int64) (int, error) {
	fl, staged, err := sf.target("write")
	if err != nil {
		return 0, err
	}
	n, err := fl.WriteAt(p, off)
	if n > 0 && staged {
		sf.mark(uint64(off), uint64(off)+uint64(n))
	}
	return n, err
}

// ReadFrom fills the whole file from r, straight into the shared memory. A
// source that ends before the file's size is an error (the batch should
// then be abandoned: nothing of it is logged).
func (sf *StagedFile) ReadFrom(r io.Reader) (int64, error) {
	fl, staged, err := sf.target("write")
	if err != nil {
		return 0, err
	}
	if err := fl.CopyFrom(r); err != nil {
		return 0, err
	}
	if staged {
		sf.mark(0, sf.Size())
	}
	return int64(sf.Size()), nil
}

// Fill fills the file with the reference's seeded data (see File.Fill).
func (sf *StagedFile) Fill(seed uint64) error {
	fl, staged, err := sf.target("fill")
	if err != nil {
		return err
	}
	if err := fl.Fill(seed); err != nil {
		return err
	}
	if staged {
		sf.mark(0, sf.Size())
	}
	return nil
}

// Map maps the staged file's space (see File.Map), for callers that write
// it through memory; call MarkWritten for what they wrote, or the rest is
// zeroed at the commit. A Mapping made while staging stays valid once the
// batch commits (on a file system made for delete it then holds the file,
// as a Map of the logged file does); if the batch is given up, it is made
// inaccessible: a load or store through it faults.
func (sf *StagedFile) Map() (*Mapping, error) {
	fl, staged, err := sf.target("map")
	if err != nil {
		return nil, err
	}
	m, err := fl.Map(MapOptions{Access: MapReadWrite})
	if err != nil || !staged {
		return m, err
	}
	sf.mu.Lock()
	defer sf.mu.Unlock()
	if sf.state != staging { // the batch ended meanwhile
		m.Unmap()
		return nil, pathErr("map", sf.Path(), fmt.Errorf("%w: its batch ended while it was being mapped", fs.ErrInvalid))
	}
	sf.maps = append(sf.maps, m)
	return m, nil
}

// MarkWritten records that the caller wrote file bytes [off, off+n) through
// a Map of the staged file.
func (sf *StagedFile) MarkWritten(off, n uint64) { sf.mark(off, min(off+n, sf.Size())) }

// finish zeroes the unwritten parts of the file's whole allocation, the
// slack after its end included (unless NoZero), and flushes them.
func (sf *StagedFile) finish() error {
	alloc := sf.file.fmap.Backing()
	if sf.noZero {
		return nil
	}
	sf.mu.Lock()
	written := slices.Clone(sf.written)
	sf.mu.Unlock()
	var holes []span
	at := uint64(0)
	for _, w := range written {
		if w.from > at {
			holes = append(holes, span{at, w.from})
		}
		at = max(at, w.to)
	}
	if at < alloc {
		holes = append(holes, span{at, alloc})
	}
	if len(holes) == 0 {
		return nil
	}
	data, err := sf.file.fs.dataMap()
	if err != nil {
		return err
	}
	mem := data.Bytes()
	for _, seg := range sf.file.fmap.Segments(alloc) {
		for _, h := range holes {
			from, to := max(h.from, seg.FileOff), min(h.to, seg.FileOff+seg.Len)
			if from >= to {
				continue
			}
			dev := seg.DevOff + (from - seg.FileOff)
			if err := sf.file.fs.dev.Zero(dev, mem[dev:dev+(to-from)]); err != nil {
				return err
			}
		}
	}
	return nil
}
