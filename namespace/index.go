package namespace

import "hash/maphash"

// A directory finds a child by name with a linear scan while it is small,
// then through an open-addressing table of its children (pointers only, no
// copy of the names): cheaper to fill during replay and smaller than a Go
// map, which matters for a namespace of tens of thousands of entries.

// smallDir is the number of children a directory scans linearly.
const smallDir = 8

var nameSeed = maphash.MakeSeed()

func nameHash(name string) uint64 { return maphash.String(nameSeed, name) }

// Child returns the named child of a directory, or nil.
func (n *Node) Child(name string) *Node {
	c, _ := n.lookup(name)
	return c
}

// lookup returns the named child, or nil and the name's hash for addHashed
// (computed only once the directory has an index).
func (n *Node) lookup(name string) (*Node, uint64) {
	if n.index == nil {
		for _, c := range n.kids {
			if c.Name == name {
				return c, 0
			}
		}
		return nil, 0
	}
	h := nameHash(name)
	mask := uint64(len(n.index) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		c := n.index[i]
		if c == nil || c.Name == name {
			return c, h
		}
	}
}

// addHashed appends c, whose name no child has (lookup returned nil and h),
// to a directory.
func (n *Node) addHashed(c *Node, h uint64) {
	n.kids = append(n.kids, c)
	c.Parent = n
	switch k := len(n.kids); {
	case k <= smallDir:
	case n.index == nil || 4*k > 3*len(n.index): // keep the load under 3/4
		size := 4 * smallDir
		for 4*k > 3*size/2 { // start half full at most
			size *= 2
		}
		n.index = make([]*Node, size)
		for _, x := range n.kids {
			n.insert(x, nameHash(x.Name))
		}
	default:
		n.insert(c, h)
	}
}

func (n *Node) insert(c *Node, h uint64) {
	mask := uint64(len(n.index) - 1)
	i := h & mask
	for n.index[i] != nil {
		i = (i + 1) & mask
	}
	n.index[i] = c
}
