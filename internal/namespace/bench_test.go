package namespace_test

import (
	"testing"

	"github.com/famfs-go/famfs/bench"
	"github.com/famfs-go/famfs/internal/namespace"
	"github.com/famfs-go/famfs/internal/omf"
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

// BenchmarkApplyRawFullLog is BenchmarkApplyFullLog from entry images
// (ApplyRaw's fast path), without reading or checking the log.
func BenchmarkApplyRawFullLog(b *testing.B) {
	n := int(omf.EntriesFor(omf.DefaultLogLen))
	meta := uint64(omf.LogOffset + omf.DefaultLogLen)
	es := bench.LogEntries(n, meta)
	dev := bench.DeviceSizeFor(omf.DefaultLogLen, n)
	img := make([]byte, n*omf.EntrySize)
	for i := range es {
		es[i].Seqnum = uint64(i)
		if err := es[i].Encode(img[i*omf.EntrySize:]); err != nil {
			b.Fatal(err)
		}
	}
	var dec omf.EntryDecoder
	b.ReportAllocs()
	for b.Loop() {
		t := namespace.New(dev, omf.AllocUnit, meta)
		t.Grow(n)
		for i := range n {
			t.ApplyRaw(uint64(i), img[i*omf.EntrySize:(i+1)*omf.EntrySize], &dec)
		}
		if len(t.Problems()) != 0 {
			b.Fatal(t.Problems()[0])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/entry")
}
