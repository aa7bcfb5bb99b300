package namespace_test

import (
	"testing"

	"github.com/famfs-go/famfs/bench"
	"github.com/famfs-go/famfs/namespace"
	"github.com/famfs-go/famfs/omf"
)

// BenchmarkApplyFullLog builds the tree of a full 8 MiB log (15,420 decoded
// entries: 420 directories, 15,000 files): the namespace's share of replay.
func BenchmarkApplyFullLog(b *testing.B) {
	n := int(omf.EntriesFor(omf.DefaultLogLen))
	meta := uint64(omf.LogOffset + omf.DefaultLogLen)
	es := bench.LogEntries(n, meta)
	dev := bench.DeviceSizeFor(omf.DefaultLogLen, n)
	b.ReportAllocs()
	for b.Loop() {
		t := namespace.New(dev, omf.AllocUnit, meta)
		t.Grow(n)
		for i := range es {
			t.Apply(uint64(i), &es[i], nil)
		}
		if len(t.Problems()) != 0 {
			b.Fatal(t.Problems()[0])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/entry")
}
