package namespace

import "hash/maphash"

// The tree finds a child by (directory, name) through one open-addressing
// table for the whole namespace rather than a table per directory: replay
// fills it without growing anything per directory (Grow sizes it for a whole
// log up front), and a probe compares a 32-bit tag before it touches a node.
// The table holds node ids, not pointers, so the garbage collector has
// nothing to scan in it. Directories keep their children as a list in log
// order (first, last, next).

var nameSeed = maphash.MakeSeed()

// childHash is the hash of name in the directory with id dir.
func childHash(dir uint32, name string) uint64 {
	return maphash.String(nameSeed, name) ^ uint64(dir)*0x9e3779b97f4a7c15
}

// tag is what a slot keeps of a hash: its low 31 bits, which also give the
// slot's home position in any table (tables stay far below 2^31 slots), so
// growing the table needs no node and no hashing; the top bit keeps it
// non-zero.
func tag(h uint64) uint32 { return uint32(h) | 1<<31 }

// index slots hold tag<<32 | node id, so a probe and an insert touch one
// word; 0 marks an empty slot.
type index struct {
	slots []uint64 // len is a power of two; load kept at most 1/2
	n     int
}

// lookup returns the child named name of the directory dir, or nil.
func (x *index) lookup(t *Tree, dir uint32, name string, h uint64) *Node {
	if x.n == 0 {
		return nil
	}
	mask := uint64(len(x.slots) - 1)
	tg := tag(h)
	for i := h & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			return nil
		}
		if uint32(s>>32) == tg {
			if c := t.node(uint32(s)); c.parent == dir && c.nameIs(name) {
				return c
			}
		}
	}
}

// add inserts the node id, whose name no child of its parent has, with hash h.
func (x *index) add(id uint32, h uint64) {
	x.reserve(1)
	x.put(id, h)
	x.n++
}

// remove takes the node id, stored with hash h, out of the table. Linear
// probing needs no tombstone: the slots after the hole that belong at or
// before it (by the home position their tag gives) move back into it.
func (x *index) remove(id uint32, h uint64) bool {
	if x.n == 0 {
		return false
	}
	mask := uint64(len(x.slots) - 1)
	i := h & mask
	for {
		s := x.slots[i]
		if s == 0 {
			return false
		}
		if uint32(s) == id {
			break
		}
		i = (i + 1) & mask
	}
	for j := (i + 1) & mask; ; j = (j + 1) & mask {
		s := x.slots[j]
		if s == 0 {
			break
		}
		// s may fill the hole at i unless its home lies cyclically in (i, j].
		if home := uint64(s>>32) & mask; (j-home)&mask >= (j-i)&mask {
			x.slots[i] = s
			i = j
		}
	}
	x.slots[i] = 0
	x.n--
	return true
}

// put stores id with hash h (or the tag of its hash).
func (x *index) put(id uint32, h uint64) {
	mask := uint64(len(x.slots) - 1)
	i := h & mask
	for x.slots[i] != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = uint64(tag(h))<<32 | uint64(id)
}

// reserve makes room for k more children without rehashing.
func (x *index) reserve(k int) {
	if 2*(x.n+k) > len(x.slots) {
		x.grow(k)
	}
}

// grow makes room for k more children, moving what the table holds (a
// slot's tag gives its home position).
func (x *index) grow(k int) {
	old := x.slots
	x.slots = make([]uint64, tableSize(x.n+k))
	for _, s := range old {
		if s != 0 {
			x.put(uint32(s), uint64(s>>32))
		}
	}
}

func tableSize(n int) int {
	size := 64
	for size < 2*n {
		size *= 2
	}
	return size
}
