package namespace

import "hash/maphash"

// The tree finds a child by (directory, name) through one open-addressing
// table for the whole namespace rather than a table per directory: replay
// fills it without growing anything per directory (Grow sizes it for a whole
// log up front), and a probe compares a 32-bit tag before it touches a node.
// Directories keep their children as a list in log order (first, last, next).

var nameSeed = maphash.MakeSeed()

// childHash is the hash of name in the directory dir.
func childHash(dir *Node, name string) uint64 {
	return maphash.String(nameSeed, name) ^ dir.Ino*0x9e3779b97f4a7c15
}

// tag is what a slot keeps of a hash; 0 marks an empty slot.
func tag(h uint64) uint32 { return uint32(h>>32) | 1 }

type index struct {
	tags  []uint32 // len is a power of two; load kept at most 1/2
	nodes []*Node
	n     int
}

// lookup returns the child named name of dir, or nil.
func (x *index) lookup(dir *Node, name string, h uint64) *Node {
	if x.n == 0 {
		return nil
	}
	mask := uint64(len(x.tags) - 1)
	tg := tag(h)
	for i := h & mask; ; i = (i + 1) & mask {
		switch x.tags[i] {
		case 0:
			return nil
		case tg:
			if c := x.nodes[i]; c.Parent == dir && c.Name == name {
				return c
			}
		}
	}
}

// add inserts c, whose name no child of c.Parent has, with hash h.
func (x *index) add(c *Node, h uint64) {
	x.reserve(1)
	x.put(c, h)
	x.n++
}

func (x *index) put(c *Node, h uint64) {
	mask := uint64(len(x.tags) - 1)
	i := h & mask
	for x.tags[i] != 0 {
		i = (i + 1) & mask
	}
	x.tags[i], x.nodes[i] = tag(h), c
}

// reserve makes room for k more children without rehashing.
func (x *index) reserve(k int) {
	want := x.n + k
	if 2*want <= len(x.tags) {
		return
	}
	size := 64
	for size < 2*want {
		size *= 2
	}
	old := x.nodes
	x.tags, x.nodes = make([]uint32, size), make([]*Node, size)
	for _, c := range old {
		if c != nil {
			x.put(c, childHash(c.Parent, c.Name))
		}
	}
}
