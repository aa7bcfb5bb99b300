package metalog

import (
	"errors"
	"fmt"
	"testing"

	"github.com/famfs-go/famfs/internal/omf"
)

// copying hides a Media's View, so that the log is read through copies by
// the one-goroutine walker.
type copying struct{ Media }

// Replay of a long log read in place (checked ahead on a second goroutine)
// visits exactly what the one-goroutine walker visits and stops where it
// stops, wherever a torn entry lies: first, last, at and around chunk
// boundaries, or nowhere.
func TestReplayAheadMatchesWalker(t *testing.T) {
	const n = 5*chunkEntries + 17
	logLen := uint64(omf.LogHeaderSize + (n+1)*omf.EntrySize)
	for _, torn := range []int{-1, 0, 1, chunkEntries - 1, chunkEntries, chunkEntries + 1, 3*chunkEntries + 5, n - 1} {
		t.Run(fmt.Sprint("torn ", torn), func(t *testing.T) {
			mem := make(flat, logLen)
			formatSmall(t, mem, logLen)
			l := New(mem, logLen)
			if _, err := l.Append(entries("f", n, 0)); err != nil {
				t.Fatal(err)
			}
			if torn >= 0 {
				mem[omf.EntryOffset(uint64(torn))+0x30] ^= 1
			}
			var got, want []string
			record := func(out *[]string) RawVisit {
				return func(i uint64, raw []byte, err error) {
					e, perr := omf.ParseEntry(raw, i)
					*out = append(*out, fmt.Sprint(i, e.Path, perr, err))
				}
			}
			if !useAhead(n) {
				t.Skip("one CPU: replay does not check ahead")
			}
			next, err := l.ReplayRaw(0, n, record(&got))
			wnext, werr := New(copying{mem}, logLen).ReplayRaw(0, n, record(&want))
			if next != wnext || fmt.Sprint(err) != fmt.Sprint(werr) || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("ahead: next %d, %v, %d visits; walker: next %d, %v, %d visits", next, err, len(got), wnext, werr, len(want))
			}
			var bad *BadEntry
			if (torn >= 0) != errors.As(err, &bad) || torn >= 0 && (bad.Index != uint64(torn) || next != uint64(torn)) || torn < 0 && next != n {
				t.Fatalf("torn %d: stopped at %d with %v", torn, next, err)
			}
		})
	}
}
