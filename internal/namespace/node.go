package namespace

import (
	"math"
	"sort"
	"strings"
	"unsafe"

	"github.com/famfs-go/famfs/internal/omf"
)

// Node storage. Nodes hold no Go pointers: they live in chunks of chunkNodes
// nodes, refer to one another by id (chunk number << chunkBits | slot) and
// keep their names in byte blocks owned by their chunk. The garbage collector
// therefore scans a few words per chunk instead of every node, and building a
// tree of a whole log stores no pointers (no write barriers). A *Node finds
// its chunk, and through it its tree, from its own address; a Node is only
// ever used in place, never copied.

const (
	chunkBits  = 7
	chunkNodes = 1 << chunkBits
	// Name blocks per chunk: their sizes (nameBlockSize) add up to room for
	// chunkNodes names of the longest length a reader accepts
	// (omf.RelPathField-1), with the tail each block may leave unused.
	nameBlocks = 4
)

var nameBlockSize = [nameBlocks]int{len(chunk{}.name0), 2048, 4096, 8192}

// chunk holds chunkNodes nodes. Its pointers all come first, so the garbage
// collector scans only its header.
type chunk struct {
	t     *Tree
	names [nameBlocks][]byte // names of the chunk's nodes; block k+1 is made when block k is full
	maps  []omf.FMap         // maps a node does not hold itself (mapSide), by slot; made on first use
	links []string           // symbolic links' targets, by slot; made on first use
	nodes [chunkNodes]Node
	name0 [3072]byte // names[0]
}

// How a node holds its file map.
const (
	mapNone = iota // a directory: no map
	mapOne         // a simple map of one extent, in Node.ext
	mapSide        // any other map, in chunk.maps
)

// Node is a directory, file or symbolic link of the tree. Nothing about a node changes once
// it is in the tree, except that a directory gains and loses children and a
// node may be deleted (it then stays where it is, out of its directory).
type Node struct {
	_                 noCopy
	size              uint64
	index             int64         // log index of the entry that made it; -1 for the root
	ext               [1]omf.Extent // mapOne
	id, parent        uint32        // parent is 0 for the root
	first, last, next uint32        // children of a directory in log order, and the next sibling
	prev              uint32        // the previous sibling (0: the first child)
	delAt             int64         // log index of the DELETE that removed it; 0 while it is live
	nkids             uint32
	mode, uid, gid    uint32
	flags             uint32
	nameOff           uint16
	nameBlk, nameLen  uint8
	kind              Kind
	mapKind           uint8
}

// noCopy makes go vet (copylocks) report a Node copied by value: a Node is
// only meaningful where the tree put it.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// chunk returns the chunk n lives in.
func (n *Node) chunk() *chunk {
	slot := uintptr(n.id & (chunkNodes - 1))
	c := (*chunk)(unsafe.Add(unsafe.Pointer(n), -int(unsafe.Offsetof(chunk{}.nodes)+slot*unsafe.Sizeof(Node{}))))
	if &c.nodes[slot] != n {
		panic("namespace: a Node was copied; use the *Node the tree returns")
	}
	return c
}

// Name returns the node's last path component ("" for the root).
func (n *Node) Name() string {
	if n.nameLen == 0 {
		return ""
	}
	b := n.chunk().names[n.nameBlk]
	return unsafe.String(&b[n.nameOff], int(n.nameLen))
}

// nameIs reports whether the node's name is name, without making a string.
func (n *Node) nameIs(name string) bool {
	if int(n.nameLen) != len(name) {
		return false
	}
	return len(name) == 0 || string(n.chunk().names[n.nameBlk][n.nameOff:int(n.nameOff)+len(name)]) == name
}

// Parent returns the directory holding n, or nil for the root.
func (n *Node) Parent() *Node {
	if n.parent == 0 {
		return nil
	}
	return n.chunk().t.node(n.parent)
}

// Deleted returns the log index of the DELETE entry that removed n, and
// whether it was removed.
func (n *Node) Deleted() (at uint64, ok bool) { return uint64(n.delAt), n.delAt > 0 }

// Kind returns whether n is a directory, a file or a symbolic link.
func (n *Node) Kind() Kind { return n.kind }

// IsDir reports whether n is a directory.
func (n *Node) IsDir() bool { return n.kind == Dir }

// Mode returns the permission bits (07777).
func (n *Node) Mode() uint32 { return n.mode }

// UID returns the owner's user id.
func (n *Node) UID() uint32 { return n.uid }

// GID returns the owner's group id.
func (n *Node) GID() uint32 { return n.gid }

// Size returns a file's size in bytes (0 for a directory).
func (n *Node) Size() uint64 { return n.size }

// Flags returns a file's fm_flags as logged.
func (n *Node) Flags() uint32 { return n.flags }

// Index returns the log index of the entry that made n; -1 for the root.
func (n *Node) Index() int64 { return n.index }

// Ino returns the inode number: RootIno for the root, InoBase + log index
// otherwise, so that every host gives a node the same number.
func (n *Node) Ino() uint64 {
	if n.index < 0 {
		return RootIno
	}
	return InoBase + uint64(n.index)
}

// FMap returns a file's map (the zero FMap for a directory). Its slices are
// the tree's: the caller must not change them.
func (n *Node) FMap() omf.FMap {
	switch n.mapKind {
	case mapOne:
		return omf.FMap{Type: omf.ExtSimple, Extents: n.ext[:]}
	case mapSide:
		return n.chunk().maps[n.id&(chunkNodes-1)]
	}
	return omf.FMap{}
}

// Children returns a directory's entries in log order, in a new slice (a
// snapshot: the caller may keep it after the tree grows).
func (n *Node) Children() []*Node {
	if n.nkids == 0 {
		return nil
	}
	t := n.chunk().t
	out := make([]*Node, 0, n.nkids)
	for id := n.first; id != 0; {
		c := t.node(id)
		out = append(out, c)
		id = c.next
	}
	return out
}

// NumChildren returns the number of a directory's entries.
func (n *Node) NumChildren() int { return int(n.nkids) }

// Path returns the node's path relative to the root ("" for the root).
func (n *Node) Path() string {
	p := n.Parent()
	if p == nil {
		return ""
	}
	if p.parent == 0 {
		return n.Name()
	}
	return p.Path() + "/" + n.Name()
}

// node returns the node with id id. Readers may call it without the writer's
// lock: the chunk table is published atomically and a chunk, once listed,
// stays where it is.
func (t *Tree) node(id uint32) *Node {
	return &(*t.table.Load())[id>>chunkBits].nodes[id&(chunkNodes-1)]
}

// newNode takes the next free node for entry i (i < 0: the root) and stores
// its name and common fields.
func (t *Tree) newNode(i int64, name string, kind Kind, mode, uid, gid uint32) *Node {
	if t.slot == chunkNodes || !t.fitName(len(name)) {
		t.addChunk()
		t.fitName(len(name))
	}
	c := t.chunks[len(t.chunks)-1]
	n := &c.nodes[t.slot]
	n.id = uint32(len(t.chunks)-1)<<chunkBits | uint32(t.slot)
	t.slot++
	if len(name) > 0 {
		blk := c.names[t.nameBlk]
		copy(blk[t.nameOff:], name)
		n.nameBlk, n.nameOff, n.nameLen = uint8(t.nameBlk), uint16(t.nameOff), uint8(len(name))
		t.nameOff += len(name)
	}
	n.kind, n.index = kind, i
	n.mode, n.uid, n.gid = mode&0o7777, uid, gid
	return n
}

// fitName makes room for a name of k bytes in the current chunk's name
// blocks, making the next block when the current one is full; false if the
// chunk has no room left.
func (t *Tree) fitName(k int) bool {
	if len(t.chunks) == 0 {
		return false
	}
	if k == 0 {
		return true
	}
	c := t.chunks[len(t.chunks)-1]
	for {
		if blk := c.names[t.nameBlk]; blk != nil && t.nameOff+k <= len(blk) {
			return true
		} else if blk != nil {
			if t.nameBlk+1 == nameBlocks {
				return false
			}
			t.nameBlk, t.nameOff = t.nameBlk+1, 0
		}
		c.names[t.nameBlk] = make([]byte, nameBlockSize[t.nameBlk])
	}
}

// Chunks are allocated a few at a time when Grow expects many entries.
const maxChunkBatch = 16

// addChunk starts a new chunk and publishes the longer chunk table. Readers
// that loaded the old table never index past its length, so appending in
// place is safe for them.
func (t *Tree) addChunk() {
	if len(t.spare) == 0 {
		t.spare = make([]chunk, min(max(t.hint/chunkNodes, 1), maxChunkBatch))
	}
	c := &t.spare[0]
	t.spare = t.spare[1:]
	t.hint = max(t.hint-chunkNodes, 0)
	c.t = t
	c.names[0] = c.name0[:]
	t.chunks = append(t.chunks, c)
	tab := t.chunks
	t.table.Store(&tab)
	t.slot, t.nameBlk, t.nameOff = 0, 0, 0
	if len(t.chunks) == 1 {
		t.slot = 1 // id 0 means "none"
	}
}

// setExtent stores a simple map of the one extent e in n.
func (n *Node) setExtent(e omf.Extent) { n.ext[0], n.mapKind = e, mapOne }

// setMap stores a file's map in n.
func (n *Node) setMap(m omf.FMap) {
	if m.Type == omf.ExtSimple && len(m.Extents) == 1 {
		n.setExtent(m.Extents[0])
		return
	}
	c := n.chunk()
	if c.maps == nil {
		c.maps = make([]omf.FMap, chunkNodes)
	}
	c.maps[n.id&(chunkNodes-1)], n.mapKind = m, mapSide
}

// setTarget stores a symbolic link's target (before the node is visible).
func (n *Node) setTarget(target string) {
	c := n.chunk()
	if c.links == nil {
		c.links = make([]string, chunkNodes)
	}
	c.links[n.id&(chunkNodes-1)] = strings.Clone(target)
}

// Target returns a symbolic link's target ("" for any other node).
func (n *Node) Target() string {
	if n.kind != Symlink {
		return ""
	}
	return n.chunk().links[n.id&(chunkNodes-1)]
}

// IsFile reports whether n is a regular file.
func (n *Node) IsFile() bool { return n.kind == File }

// IsSymlink reports whether n is a symbolic link.
func (n *Node) IsSymlink() bool { return n.kind == Symlink }

// ByIno returns the live node whose inode number is ino (see Ino), or nil.
func (t *Tree) ByIno(ino uint64) *Node {
	if ino == RootIno {
		return t.root
	}
	if ino < InoBase || ino-InoBase > math.MaxInt64 {
		return nil
	}
	if n := t.byIndex(int64(ino - InoBase)); n != nil && n.delAt == 0 {
		return n
	}
	return nil
}

// byIndex returns the node log entry want made, deleted or not, or nil.
// Nodes are made in log order, so their log indexes grow with their ids: a
// binary search over the chunks, then within one, finds it without an index
// of its own. Slots a chunk left unused (id 0) only ever follow its used ones.
func (t *Tree) byIndex(want int64) *Node {
	tab := *t.table.Load()
	first := func(c int) int { // the chunk's first used slot (chunk 0: slot 0 is id 0)
		if c == 0 {
			return 1
		}
		return 0
	}
	c := sort.Search(len(tab), func(k int) bool { return tab[k].nodes[first(k)].index > want }) - 1
	if c < 0 {
		return nil
	}
	nodes := tab[c].nodes[first(c):]
	used := sort.Search(len(nodes), func(k int) bool { return nodes[k].id == 0 })
	k := sort.Search(used, func(k int) bool { return nodes[k].index >= want })
	if k < used && nodes[k].index == want {
		return &nodes[k]
	}
	return nil
}
