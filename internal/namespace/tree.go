package namespace

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/famfs-go/famfs/internal/alloc"
	"github.com/famfs-go/famfs/internal/omf"
)

// Inode numbers: the root is 1; numbers below InoBase are reserved for the
// mount's own files (.meta and its contents); entry i gets InoBase+i.
const (
	RootIno = 1
	InoBase = 16
)

// MaxDaxdevs bounds the ADD_DAXDEV table (slot 0 is the primary device).
const MaxDaxdevs = 64

// Kind is a node's type.
type Kind uint8

const (
	Dir Kind = iota
	File
	Symlink
)

// ProblemKind classifies a Problem.
type ProblemKind uint8

const (
	Torn          ProblemKind = iota // bad sequence number or CRC (fsck; replay stops instead)
	Malformed                        // intact entry that cannot be decoded
	BadMap                           // file map unusable on this device
	MissingParent                    // parent directory not in the tree
	NotDir                           // a path component is a file
	Duplicate                        // the path already exists
	Collision                        // extents overlap space already allocated
	BadDaxdev                        // ADD_DAXDEV out of sequence, duplicate or beyond the table
	Reserved                         // the path is MetaName at the root, which every mount serves itself
	DoubleDelete                     // a DELETE of a node already deleted
	UnknownDelete                    // a DELETE of a path that is not in the tree, or was made by another entry
	NotEmpty                         // a DELETE of a directory that still has entries
	BadDelete                        // a DELETE whose kind or size is not its target's
)

var problemNames = [...]string{"torn entry", "malformed entry", "bad file map", "missing parent", "not a directory", "duplicate path", "allocation collision", "bad add_daxdev", "reserved name",
	"double delete", "delete of unknown path", "delete of non-empty directory", "bad delete"}

// MetaName is the directory at the root of every mount that holds the raw
// superblock and log. An entry of that name at the root is refused: every
// mount would hide it behind its own.
const MetaName = ".meta"

func (k ProblemKind) String() string {
	if int(k) < len(problemNames) {
		return problemNames[k]
	}
	return fmt.Sprintf("problem(%d)", k)
}

// Problem is an entry that was reported rather than (fully) applied.
type Problem struct {
	Index  uint64
	Kind   ProblemKind
	Path   string // when known
	Reason string
}

func (p Problem) String() string {
	if p.Path != "" {
		return fmt.Sprintf("log entry %d (%s): %s: %s", p.Index, Printable(p.Path), p.Kind, Printable(p.Reason))
	}
	return fmt.Sprintf("log entry %d: %s: %s", p.Index, p.Kind, Printable(p.Reason))
}

// Stats counts what the applied entries hold, as fsck reports it.
type Stats struct {
	Entries     uint64 // entries applied (any outcome)
	FileEntries uint64 // intact FILE entries, placed or not (the reference's "files")
	DirEntries  uint64 // intact MKDIR entries
	Files       uint64 // files in the tree
	Dirs        uint64 // directories in the tree, root excluded
	Symlinks    uint64 // symbolic links in the tree
	LinkEntries uint64 // intact SYMLINK entries
	Refused     uint64 // intact entries reported and left out (bad map or path, duplicate, ...); a cross-linked file is placed, not refused
	SumSizes    uint64 // fm_size summed over decodable FILE entries
	Collisions  uint64 // allocation units claimed twice
	Torn        uint64 // entries with a bad sequence number or CRC
	DelEntries  uint64 // intact DELETE entries
	Deleted     uint64 // nodes deleted
	FreedBytes  uint64 // allocated bytes of the files deleted (pending frees)
}

// Pending is the space a DELETE freed: the allocator may hand it out again
// only once every participant has released past Index (docs/delete.md).
type Pending struct {
	Index   uint64 // the DELETE entry
	Target  uint64 // the entry that made the file
	Path    string
	Extents []omf.Extent
	Bytes   uint64
}

// Tree is the namespace of one famfs file system.
type Tree struct {
	root     *Node
	bm       *alloc.Bitmap
	devSize  uint64
	au       uint64
	metaSize uint64 // device bytes of the superblock and log: no extent may start below
	stats    Stats
	problems []Problem
	daxdevs  []omf.Daxdev // slot 0: the primary device
	reclaim  bool         // DELETE entries are applied (a version-49 file system)
	pending  []Pending    // space deletes freed, in log order
	removed  []*Node      // nodes deleted since the last TakeRemoved

	// the last directory Apply resolved (see parent)
	lastDir     []byte
	lastDirNode *Node

	// node storage (node.go): the writer's chunk list, the table readers
	// use, and where the next node and name go in the last chunk
	chunks           []*chunk
	spare            []chunk // allocated, not yet used
	hint             int     // entries Grow expects (sizes the next allocation of chunks)
	table            atomic.Pointer[[]*chunk]
	slot             int
	nameBlk, nameOff int

	index index
}

// Grow prepares the tree for about n more entries (e.g. the part of the log
// a replay is about to apply), so that applying them allocates little. The
// index it sizes is bounded, so that a hint that overstates (a damaged
// header's next_index, a replay that stops at a torn entry) costs little.
func (t *Tree) Grow(n int) {
	t.hint = max(n, 0)
	t.index.reserve(min(t.hint, maxIndexHint))
}

const maxIndexHint = 1 << 16

// New returns an empty tree for a device of devSize bytes (the superblock's
// dd_size) with allocation unit au and the superblock and log (metaSize
// bytes) already reserved in its bitmap.
func New(devSize, au, metaSize uint64) *Tree {
	t := &Tree{
		bm:       alloc.NewBitmap(devSize, au),
		devSize:  devSize,
		au:       au,
		metaSize: metaSize,
		daxdevs:  []omf.Daxdev{{Size: devSize}},
	}
	t.bm.Mark(0, metaSize)
	t.root = t.newNode(-1, "", Dir, 0o755, 0, 0)
	return t
}

// SetReclaim makes the tree apply DELETE entries, as on a file system made
// for delete; otherwise they are reported and ignored.
func (t *Tree) SetReclaim(on bool) { t.reclaim = on }

// Pending returns the space deletes freed so far, in log order (the slice is
// the tree's: read it under the tree's lock and do not change it).
func (t *Tree) Pending() []Pending { return t.pending }

// TakeRemoved returns the nodes deleted since the last call.
func (t *Tree) TakeRemoved() []*Node {
	r := t.removed
	t.removed = nil
	return r
}

// Root returns the root directory.
func (t *Tree) Root() *Node { return t.root }

// Bitmap returns the allocation bitmap the applied entries imply.
func (t *Tree) Bitmap() *alloc.Bitmap { return t.bm }

// Stats returns the counters so far.
func (t *Tree) Stats() Stats { return t.stats }

// Problems returns every problem reported so far, in log order.
func (t *Tree) Problems() []Problem { return t.problems }

// Daxdevs returns the device table (slot 0 is the primary device).
func (t *Tree) Daxdevs() []omf.Daxdev { return t.daxdevs }

func (t *Tree) report(i uint64, k ProblemKind, path, format string, args ...any) {
	// path may be the log's memory (ApplyRaw): keep a copy
	t.problems = append(t.problems, Problem{Index: i, Kind: k, Path: strings.Clone(path), Reason: fmt.Sprintf(format, args...)})
}

// refuse reports entry i and counts it as refused: it is left out of the tree.
func (t *Tree) refuse(i uint64, k ProblemKind, path, format string, args ...any) {
	t.stats.Refused++
	t.report(i, k, path, format, args...)
}

// Child returns the entry named name in the directory dir, or nil.
func (t *Tree) Child(dir *Node, name string) *Node {
	return t.index.lookup(t, dir.id, name, childHash(dir.id, name))
}

// add appends c to the directory dir; h is childHash(dir.id, c's name), and
// dir has no child of that name.
func (t *Tree) add(dir, c *Node, h uint64) {
	c.parent = dir.id
	if dir.last == 0 {
		dir.first = c.id
	} else {
		t.node(dir.last).next = c.id
		c.prev = dir.last
	}
	dir.last = c.id
	dir.nkids++
	t.index.add(c.id, h)
}

// unlink takes n out of its directory's list and the index. Its own links
// stay as they were, so a reader walking the list through n goes on.
func (t *Tree) unlink(n *Node) {
	dir := t.node(n.parent)
	if n.prev == 0 {
		dir.first = n.next
	} else {
		t.node(n.prev).next = n.next
	}
	if n.next == 0 {
		dir.last = n.prev
	} else {
		t.node(n.next).prev = n.prev
	}
	dir.nkids--
	t.index.remove(n.id, childHash(dir.id, n.Name()))
}

// Lookup returns the node at path (relative, '/'-separated, already clean;
// "" is the root), or nil.
func (t *Tree) Lookup(path string) *Node {
	n := t.root
	for path != "" {
		var comp string
		comp, path, _ = strings.Cut(path, "/")
		if n = t.Child(n, comp); n == nil {
			return nil
		}
	}
	return n
}

// Parent resolves the parent of path and its last component. It reports why
// the parent cannot hold a new entry: missing, or a file on the way.
func (t *Tree) Parent(path string) (parent *Node, name string, kind ProblemKind, reason string) {
	dir, name := "", path
	if k := strings.LastIndexByte(path, '/'); k >= 0 {
		dir, name = path[:k], path[k+1:]
	}
	n := t.root
	for rest := dir; rest != ""; {
		var comp string
		comp, rest, _ = strings.Cut(rest, "/")
		c := t.Child(n, comp)
		if c == nil {
			return nil, name, MissingParent, fmt.Sprintf("directory %q does not exist", strings.TrimSuffix(dir[:len(dir)-len(rest)], "/"))
		}
		if c.kind != Dir {
			what := "a file"
			if c.kind == Symlink {
				what = "a symbolic link (the log's paths do not follow links)"
			}
			return nil, name, NotDir, fmt.Sprintf("%q is %s", c.Path(), what)
		}
		n = c
	}
	return n, name, 0, ""
}

// parent is Parent for Apply, which runs of entries in one directory call
// in a row: it remembers the last directory it resolved (a node never
// moves, and the memory is dropped when a directory is deleted). Apply holds the tree exclusively;
// Parent itself changes nothing, so readers may share the tree.
func (t *Tree) parent(path string) (parent *Node, name string, kind ProblemKind, reason string) {
	k := strings.LastIndexByte(path, '/')
	if k < 0 {
		return t.root, path, 0, ""
	}
	if dir := path[:k]; t.lastDirNode != nil && dir == string(t.lastDir) {
		return t.lastDirNode, path[k+1:], 0, ""
	}
	parent, name, kind, reason = t.Parent(path)
	if parent != nil {
		t.lastDir, t.lastDirNode = append(t.lastDir[:0], path[:k]...), parent // path may be the log's memory
	}
	return parent, name, kind, reason
}

// Torn records an entry that failed its sequence-number or CRC check (fsck
// scans past them; replay stops at them instead).
func (t *Tree) Torn(i uint64, err error) {
	t.stats.Entries++
	t.stats.Torn++
	t.report(i, Torn, "", "%v", err)
}

// Apply adds entry i to the tree. decodeErr is the error ParseEntry returned
// for an intact entry, if any. It returns the node created, or nil when the
// entry made none (a problem, an ADD_DAXDEV, an ignored type).
func (t *Tree) Apply(i uint64, e *omf.Entry, decodeErr error) *Node {
	t.stats.Entries++
	switch e.Type {
	case omf.EntryFile:
		t.stats.FileEntries++
	case omf.EntryMkdir:
		t.stats.DirEntries++
	case omf.EntryDelete:
		t.stats.DelEntries++
	case omf.EntrySymlink:
		t.stats.LinkEntries++
	}
	if e.Type == omf.EntryDelete && !t.reclaim {
		return nil // the reference ignores DELETE entries, whatever they hold
	}
	if decodeErr != nil {
		t.refuse(i, Malformed, e.Path, "%v", decodeErr)
		return nil
	}
	switch e.Type {
	case omf.EntryFile:
		return t.applyFile(i, e)
	case omf.EntryMkdir:
		return t.applyDir(i, e)
	case omf.EntryAddDaxdev:
		t.applyDaxdev(i, e)
	case omf.EntryDelete:
		t.applyDelete(i, e)
	case omf.EntrySymlink:
		return t.applySymlink(i, e)
	}
	// INVALID is defined but never written: ignored, as the reference does.
	return nil
}

// applyDelete removes the node a DELETE entry names, when it is exactly its
// target (docs/delete.md, "The DELETE entry"), and records the space it frees.
func (t *Tree) applyDelete(i uint64, e *omf.Entry) {
	if !t.reclaim {
		return // the reference ignores DELETE entries; so does a version-48 file system
	}
	d := e.Delete
	n := t.Lookup(e.Path)
	if n == nil || n.index != int64(d.Target) {
		if old := t.byIndex(int64(d.Target)); old != nil && old.delAt > 0 && d.Target < i {
			t.refuse(i, DoubleDelete, e.Path, "log entry %d was already deleted by entry %d", d.Target, old.delAt)
			return
		}
		if n == nil {
			t.refuse(i, UnknownDelete, e.Path, "no such file or directory")
		} else {
			t.refuse(i, UnknownDelete, e.Path, "made by log entry %d, not %d", n.index, d.Target)
		}
		return
	}
	switch {
	case n == t.root:
		t.refuse(i, BadDelete, e.Path, "the root cannot be deleted")
		return
	case d.Dir != (n.kind == Dir) || d.Symlink != (n.kind == Symlink):
		t.refuse(i, BadDelete, e.Path, "the entry deletes a %s, the path is a %s", deleteKindName(d), kindName(n))
		return
	case n.kind == Dir && n.nkids > 0:
		t.refuse(i, NotEmpty, e.Path, "%d entries left in it", n.nkids)
		return
	case n.kind == File && d.Size != n.size:
		t.refuse(i, BadDelete, e.Path, "the entry deletes %d bytes, the file has %d", d.Size, n.size)
		return
	}
	t.unlink(n)
	n.delAt = int64(i)
	switch n.kind {
	case Dir:
		t.stats.Dirs--
		t.lastDirNode = nil
	case Symlink:
		t.stats.Symlinks--
	default:
		t.stats.Files--
		t.free(i, n)
	}
	t.stats.Deleted++
	t.removed = append(t.removed, n)
}

// free gives a deleted file's units back to the bitmap and records them as a
// pending free. With cross-links in the log, a unit may also be another live
// file's: nothing is freed then (fsck reports the collision).
func (t *Tree) free(i uint64, n *Node) {
	if t.stats.Collisions > 0 {
		return
	}
	m := n.FMap()
	exts := append([]omf.Extent(nil), m.AllExtents()...)
	var bytes uint64
	for _, x := range exts {
		t.bm.Clear(x.Offset, x.Len)
		bytes += x.Len
	}
	t.stats.FreedBytes += bytes
	t.pending = append(t.pending, Pending{Index: i, Target: uint64(n.index), Path: n.Path(), Extents: exts, Bytes: bytes})
}

func (t *Tree) applyFile(i uint64, e *omf.Entry) *Node {
	t.stats.SumSizes += e.Size
	// Mark whatever the map references before judging it: space a log entry
	// names is never handed out again, even if the entry is rejected.
	var coll uint64
	for _, x := range e.FMap.AllExtents() {
		c, _ := t.bm.Mark(x.Offset, x.Len) // extents outside the device mark nothing
		coll += c
	}
	t.collided(i, e.Path, coll)
	if err := e.FMap.Validate(e.Size, t.devSize, t.au); err != nil {
		t.refuse(i, BadMap, e.Path, "%v", err)
		return nil
	}
	for _, x := range e.FMap.AllExtents() {
		if x.Offset < t.metaSize {
			// Served, it would let the file's writers overwrite the log.
			t.refuse(i, BadMap, e.Path, "extent 0x%x+0x%x overlaps the superblock and log (the first 0x%x bytes of the device)", x.Offset, x.Len, t.metaSize)
			return nil
		}
	}
	n := t.addNode(i, e.Path, File, e.Mode, e.UID, e.GID)
	if n != nil {
		n.size, n.flags = e.Size, e.Flags
		n.setMap(e.FMap)
	}
	return n
}

func (t *Tree) collided(i uint64, path string, coll uint64) {
	if coll > 0 {
		t.stats.Collisions += coll
		t.report(i, Collision, path, "%d allocation units already in use (cross-linked)", coll)
	}
}

func (t *Tree) applyDir(i uint64, e *omf.Entry) *Node {
	return t.addNode(i, e.Path, Dir, e.Mode, e.UID, e.GID)
}

// applySymlink adds a symbolic link. Its target is only a string: nothing
// checks what it names (docs/format.md, "SYMLINK").
func (t *Tree) applySymlink(i uint64, e *omf.Entry) *Node {
	n := t.addNode(i, e.Path, Symlink, e.Mode, e.UID, e.GID)
	if n != nil {
		n.setTarget(e.Target)
	}
	return n
}

// addNode adds the node of entry i at path, when its parent directory exists
// and its name is not yet taken there; otherwise it reports why and returns
// nil. path may be the log's memory: the node keeps a copy of its name.
func (t *Tree) addNode(i uint64, path string, kind Kind, mode, uid, gid uint32) *Node {
	parent, name, pk, reason := t.parent(path)
	if parent == nil {
		t.refuse(i, pk, path, "%s", reason)
		return nil
	}
	if parent == t.root && name == MetaName {
		t.refuse(i, Reserved, path, "%s at the root is the mount's metadata directory; a logged one would be hidden", MetaName)
		return nil
	}
	h := childHash(parent.id, name)
	if old := t.index.lookup(t, parent.id, name, h); old != nil {
		t.refuse(i, Duplicate, path, "already exists (%s from log entry %d); the first entry wins", kindName(old), old.index)
		return nil
	}
	n := t.newNode(int64(i), name, kind, mode, uid, gid)
	t.add(parent, n, h)
	switch kind {
	case Dir:
		t.stats.Dirs++
	case Symlink:
		t.stats.Symlinks++
	default:
		t.stats.Files++
	}
	return n
}

func (t *Tree) applyDaxdev(i uint64, e *omf.Entry) {
	d := e.Daxdev
	switch {
	case len(t.daxdevs) >= MaxDaxdevs:
		t.refuse(i, BadDaxdev, "", "device table full (%d devices)", MaxDaxdevs)
	case uint64(d.Index) != uint64(len(t.daxdevs)):
		t.refuse(i, BadDaxdev, "", "dd_index %d, expected %d", d.Index, len(t.daxdevs))
	default:
		for k, x := range t.daxdevs[1:] {
			if x.UUID == d.UUID {
				t.refuse(i, BadDaxdev, "", "device %s already added as index %d", d.UUID, k+1)
				return
			}
		}
		t.daxdevs = append(t.daxdevs, d)
	}
}

func kindName(n *Node) string {
	switch n.kind {
	case Dir:
		return "directory"
	case Symlink:
		return "symbolic link"
	}
	return "file"
}

func deleteKindName(d omf.Delete) string {
	switch {
	case d.Dir:
		return "directory"
	case d.Symlink:
		return "symbolic link"
	}
	return "file"
}

// Printable returns s as is when it is printable UTF-8, and Go-quoted
// otherwise, so that a path read from a (possibly hostile) log cannot put
// control characters or terminal escapes into a report.
func Printable(s string) string {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
