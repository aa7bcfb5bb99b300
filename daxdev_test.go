package famfs

import (
	"testing"

	"github.com/famfs-go/famfs/internal/namespace"
	"github.com/famfs-go/famfs/internal/omf"
	"github.com/google/uuid"
)

// TestAddDaxdevRefusesWhatReplayWouldReject checks Tx.AddDaxdev's guards.
func TestAddDaxdevRefusesWhatReplayWouldReject(t *testing.T) {
	m, _ := newFS(t)
	u := uuid.MustParse("11111111-2222-4333-8444-555555555555")
	add := func(d omf.Daxdev) error { return m.update(func(tx *txn) error { return tx.addDaxdev(d) }) }
	for _, d := range []omf.Daxdev{
		{Size: 8 << 30, UUID: u, Index: 2},        // not the next index
		{Size: 8 << 30, UUID: u, Index: 0},        // the primary's slot
		{Size: 0, UUID: u, Index: 1},              // no size
		{Size: 8 << 30, UUID: uuid.Nil, Index: 1}, // no identity
	} {
		if err := add(d); err == nil {
			t.Errorf("AddDaxdev(%+v) accepted", d)
		}
	}
	if n, _, _ := m.LogStatus(); n != 0 {
		t.Fatalf("refused entries were logged: next index %d", n)
	}
	if err := add(omf.Daxdev{Size: 8 << 30, UUID: u, Index: 1}); err != nil {
		t.Fatal(err)
	}
	if err := add(omf.Daxdev{Size: 8 << 30, UUID: u, Index: 2}); err == nil {
		t.Error("the same device was added twice")
	}
	var table []omf.Daxdev
	m.viewTree(func(tr *namespace.Tree) { table = tr.Daxdevs() })
	if len(table) != 2 || table[1].UUID != u || table[1].Index != 1 {
		t.Errorf("device table %+v", table)
	}
	if r := m.fsck(); !r.Clean() || r.Entries != 1 {
		t.Errorf("fsck %+v", r)
	}
}
