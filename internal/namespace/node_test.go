package namespace

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/famfs-go/famfs/internal/omf"
)

// Names of every length up to the longest a reader accepts, many chunks of
// them, keep their bytes, parents and maps; every kind of map round-trips.
func TestNodeStorage(t *testing.T) {
	tr := New(dev, au, meta)
	const n = 5 * chunkNodes
	off := uint64(5 * au)
	for i := range n {
		var e *omf.Entry
		name := fmt.Sprintf("%d-%s", i, strings.Repeat("n", (i*37)%(omf.RelPathField-5)))
		name = name[:min(len(name), omf.RelPathField-1)]
		if i%3 == 0 {
			e = dir(name)
		} else {
			e = file(name, off, uint64(i))
			off += au
			if i%7 == 0 { // a two-extent map, held beside the node
				e.FMap.Extents = append(e.FMap.Extents, omf.Extent{Offset: off, Len: au})
				off += au
			}
		}
		e.UID, e.GID, e.Mode = uint32(i), uint32(i+1), uint32(i)&0o777
		if tr.Apply(uint64(i), e, nil) == nil {
			t.Fatalf("entry %d: %v", i, tr.Problems())
		}
	}
	kids := tr.Root().Children()
	if len(kids) != n {
		t.Fatalf("%d children", len(kids))
	}
	off = 5 * au
	for i, k := range kids {
		name := fmt.Sprintf("%d-%s", i, strings.Repeat("n", (i*37)%(omf.RelPathField-5)))
		name = name[:min(len(name), omf.RelPathField-1)]
		if k.Name() != name || k.Path() != name || k.Parent() != tr.Root() || tr.Lookup(name) != k ||
			k.UID() != uint32(i) || k.GID() != uint32(i+1) || k.Mode() != uint32(i)&0o777 ||
			k.Index() != int64(i) || k.Ino() != InoBase+uint64(i) {
			t.Fatalf("node %d: %q %q uid %d", i, k.Name(), k.Path(), k.UID())
		}
		m := k.FMap()
		if i%3 == 0 {
			if !k.IsDir() || len(m.Extents) != 0 || m.Interleaved != nil {
				t.Fatalf("dir %d has a map %+v", i, m)
			}
			continue
		}
		want := []omf.Extent{{Offset: off, Len: au}}
		off += au
		if i%7 == 0 {
			want = append(want, omf.Extent{Offset: off, Len: au})
			off += au
		}
		if k.IsDir() || k.Size() != uint64(i) || fmt.Sprint(m.Extents) != fmt.Sprint(want) {
			t.Fatalf("file %d: size %d map %+v, want %+v", i, k.Size(), m, want)
		}
	}
	if r := tr.Root(); r.Name() != "" || r.Path() != "" || r.Parent() != nil || r.Ino() != RootIno || r.Index() != -1 {
		t.Fatal("root")
	}
}

// Readers may follow nodes they hold (names, parents, maps) while the writer
// adds nodes and chunks; under -race this checks the publication of chunks.
func TestReadersWhileGrowing(t *testing.T) {
	tr := build(dir("d"), file("d/f", 5*au, 1))
	f := tr.Lookup("d/f")
	var mu sync.RWMutex
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if f.Path() != "d/f" || f.Parent().Name() != "d" || f.FMap().Extents[0].Offset != 5*au {
				panic("reader saw a changed node")
			}
			mu.RLock()
			_ = tr.Lookup("d").Children()
			mu.RUnlock()
		}
	}()
	for i := range 10 * chunkNodes {
		mu.Lock()
		tr.Apply(uint64(i+2), file(fmt.Sprintf("d/g%d", i), uint64(6+i)*au, 1), nil)
		mu.Unlock()
	}
	close(done)
	wg.Wait()
	if len(tr.Problems()) != 0 || tr.Lookup("d").NumChildren() != 1+10*chunkNodes {
		t.Fatalf("%d problems, %d children", len(tr.Problems()), tr.Lookup("d").NumChildren())
	}
}

// ByIno finds every node by its inode number across chunks that long names
// left partly unused, and nothing for entries that made no node.
func TestByIno(t *testing.T) {
	tr := New(dev, au, meta)
	off := uint64(5 * au)
	made := map[uint64]*Node{}
	for i := range uint64(4 * chunkNodes) {
		name := fmt.Sprintf("%d-%s", i, strings.Repeat("x", int(i*53)%(omf.RelPathField-8)))
		var e *omf.Entry
		switch {
		case i%5 == 4: // a duplicate of the previous name: a problem, no node
			name = fmt.Sprintf("%d-%s", i-1, strings.Repeat("x", int((i-1)*53)%(omf.RelPathField-8)))
			e = dir(name)
		case i%2 == 0:
			e = dir(name)
		default:
			e = file(name, off, au)
			off += au
		}
		if n := tr.Apply(i, e, nil); n != nil {
			made[i] = n
		}
	}
	if tr.ByIno(RootIno) != tr.Root() {
		t.Fatal("root")
	}
	for i := range uint64(4*chunkNodes + 3) {
		got, want := tr.ByIno(InoBase+i), made[i]
		if got != want {
			t.Fatalf("index %d: got %v, want %v", i, got, want)
		}
	}
	for _, ino := range []uint64{0, 2, InoBase - 1, ^uint64(0)} {
		if tr.ByIno(ino) != nil {
			t.Fatalf("ino %d found a node", ino)
		}
	}
}
