package metalog_test

// Log-level parts of the replay and creation figures (see package bench):
// replaying a full log without building a tree against its read+CRC floor,
// and the single-entry Append that a file creation costs at least.

import (
	"testing"

	"github.com/famfs-go/famfs/bench"
	"github.com/famfs-go/famfs/omf"
)

func logImage(b *testing.B) *bench.LogImage {
	b.Helper()
	im, err := bench.OpenLogImage(bench.TestDevice(b), omf.DefaultLogLen)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(im.Close)
	return im
}

// BenchmarkReplayFullNoTree replays all 15,420 entries of a full 8 MiB log
// (invalidate, read, check, decode) with a visitor that does nothing.
func BenchmarkReplayFullNoTree(b *testing.B) {
	im := logImage(b)
	visit := func(i uint64, e *omf.Entry, err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	im.Log.Replay(0, im.Next, visit)
	b.ReportAllocs()
	b.SetBytes(int64(im.SB.LogLen))
	for b.Loop() {
		if next, err := im.Log.Replay(0, im.Next, visit); err != nil || next != im.Next {
			b.Fatal(next, err)
		}
	}
}

// BenchmarkReadCRCFloor reads the same 8 MiB from the same mapping and
// CRC-32s it.
func BenchmarkReadCRCFloor(b *testing.B) {
	im := logImage(b)
	buf := bench.FloorBuffer()
	im.ReadCRC(buf)
	b.SetBytes(int64(im.SB.LogLen))
	for b.Loop() {
		if _, err := im.ReadCRC(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendOne appends one FILE entry per op (a fresh log whenever it
// fills): the log's share of creating one file.
func BenchmarkAppendOne(b *testing.B) {
	path := bench.TestDevice(b)
	batch := bench.NewCreateBatch(1)
	es := bench.LogEntries(int(omf.EntriesFor(omf.DefaultLogLen)), omf.LogOffset+omf.DefaultLogLen)
	var a *bench.AppendLog
	defer func() {
		if a != nil {
			a.Close()
		}
	}()
	k := len(es)
	b.ReportAllocs()
	for b.Loop() {
		if k == len(es) {
			b.StopTimer()
			if a != nil {
				a.Close()
			}
			var err error
			if a, err = batch.NewAppendLog(path); err != nil {
				b.Fatal(err)
			}
			k = len(batch.Dirs)
			b.StartTimer()
		}
		if _, err := a.Log.Append(es[k : k+1]); err != nil {
			b.Fatal(err)
		}
		k++
	}
}
