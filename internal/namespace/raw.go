package namespace

import (
	"unsafe"

	"github.com/famfs-go/famfs/internal/omf"
)

// ApplyRaw adds entry i to the tree given its image, which passed
// omf.CheckEntry (metalog.Log.ReplayRaw). The common entries — a MKDIR, or a
// FILE whose map is one simple extent valid on this device — are decoded
// straight into the tree (omf.DecodeQuick); any other entry is decoded with
// dec and applied with Apply. Either way the outcome is the one Apply gives
// for the decoded entry. raw may be the shared memory itself: the tree keeps
// copies of what it needs.
func (t *Tree) ApplyRaw(i uint64, raw []byte, dec *omf.EntryDecoder) *Node {
	var q omf.Quick
	if !omf.DecodeQuick(raw, &q) || q.Type == omf.EntryFile && (!q.Ext.ValidFor(q.Size, t.devSize, t.au) || q.Ext.Offset < t.metaSize) {
		var e omf.Entry
		err := dec.Decode(raw, &e)
		return t.Apply(i, &e, err)
	}
	path := unsafe.String(unsafe.SliceData(q.Path), len(q.Path))
	t.stats.Entries++
	if q.Type == omf.EntryMkdir {
		t.stats.DirEntries++
		return t.addNode(i, path, Dir, q.Mode, q.UID, q.GID)
	}
	t.stats.FileEntries++
	t.stats.SumSizes += q.Size
	coll, _ := t.bm.Mark(q.Ext.Offset, q.Ext.Len)
	t.collided(i, path, coll)
	n := t.addNode(i, path, File, q.Mode, q.UID, q.GID)
	if n != nil {
		n.size, n.flags = q.Size, q.Flags
		n.setExtent(q.Ext)
	}
	return n
}
