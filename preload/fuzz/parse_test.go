//go:build cgo

package fuzz

import (
	"bytes"
	"encoding/binary"
	"math/rand"
	"syscall"
	"testing"

	"github.com/famfs-go/famfs/internal/control"
	"github.com/famfs-go/famfs/internal/omf"
	"github.com/google/uuid"
)

// cOnly reports whether a reply Go's decoder accepted is one the C parser
// refuses by design: a grant the library could not map (no segment, or a
// segment not 4 KiB-aligned), or longer than any reply the daemon sends.
func cOnly(r control.GrantReply, n int) bool {
	if n > ReplyMax {
		return true
	}
	if r.Status != 0 {
		return false
	}
	if len(r.Segments) == 0 {
		return true
	}
	for _, s := range r.Segments {
		if (s.FileOff|s.DevOff|s.Len)&4095 != 0 {
			return true
		}
	}
	return false
}

// same fails unless the C parser's fields are the Go decoder's.
func same(t *testing.T, b []byte, p Parsed, r control.GrantReply) {
	t.Helper()
	segs := r.Segments
	if r.Status != 0 {
		segs = nil
	}
	if p.Status != uint16(r.Status) || p.Flags != r.Flags || p.FileSize != r.FileSize || p.AllocUnit != r.AllocUnit ||
		p.DevAlign != r.DevAlign || p.Ino != r.Ino || p.UUID != r.FSUUID || int(p.NSeg) != len(segs) || len(p.Segments) != len(segs) {
		t.Fatalf("reply %x:\nC  %+v\nGo %+v", b, p, r)
	}
	for i := range segs {
		if p.Segments[i] != segs[i] {
			t.Fatalf("reply %x: segment %d: C %+v, Go %+v", b, i, p.Segments[i], segs[i])
		}
	}
}

// agree is the property of every reply: C accepts exactly what Go accepts
// less cOnly, and then with the same fields; a refusal says why.
func agree(t *testing.T, b []byte) Parsed {
	t.Helper()
	p := Parse(b)
	r, err := control.DecodeGrantReply(b)
	switch {
	case p.RC == 0 && err != nil:
		t.Fatalf("reply %x: C accepts what Go refuses (%v): %+v", b, err, p)
	case p.RC == 0 && cOnly(r, len(b)):
		t.Fatalf("reply %x: C accepts what it must refuse: %+v", b, p)
	case p.RC == 0:
		same(t, b, p, r)
	case p.RC != int(syscall.EPROTO) || p.Why == "":
		t.Fatalf("reply %x: refused with %d, %q", b, p.RC, p.Why)
	case err == nil && !cOnly(r, len(b)):
		t.Fatalf("reply %x: C refuses (%s) what Go accepts: %+v", b, p.Why, r)
	}
	return p
}

// reply builds a valid reply from arbitrary numbers, as the daemon could
// send it: the known flags, powers of 2, segments in file order from 0,
// page multiples, the file inside what they cover.
func reply(status uint16, flags uint32, size uint64, au, al uint8, ino uint64, id, segs []byte) control.GrantReply {
	r := control.GrantReply{
		Status: syscall.Errno(status), Flags: flags & (control.GrantWritable | control.GrantNonCoherent | control.GrantDevDax),
		AllocUnit: 1 << (au % 48), DevAlign: 1 << (al % 48), Ino: ino,
	}
	copy(r.FSUUID[:], id)
	var off uint64
	for i := 0; i+3 <= len(segs) && i < 3*4096; i += 3 {
		l := (1 + uint64(segs[i])) << (12 + segs[i+1]%20)
		dev := uint64(segs[i+2]) << (12 + segs[i+1]%28)
		r.Segments = append(r.Segments, omf.Segment{FileOff: off, DevOff: dev, Len: l})
		off += l
	}
	if len(r.Segments) == 0 {
		r.Segments = []omf.Segment{{FileOff: 0, DevOff: 1 << 30, Len: 4096}}
		off = 4096
	}
	r.FileSize = size % (off + 1)
	return r
}

// A Go-encoded reply comes back from the C parser as it was encoded.
func roundTrip(t *testing.T, r control.GrantReply) {
	t.Helper()
	b := r.Encode()
	p := agree(t, b)
	if p.RC != 0 {
		t.Fatalf("an encoded reply refused: %s\n%+v", p.Why, r)
	}
	same(t, b, p, r)
}

func seeds() [][]byte {
	id := uuid.MustParse("a0a0a0a0-0000-4000-8000-0000000000a0")
	granted := control.GrantReply{
		Flags: control.GrantWritable | control.GrantDevDax, FileSize: 9_437_187, AllocUnit: 2 << 20, DevAlign: 2 << 20, Ino: 42, FSUUID: id,
		Segments: []omf.Segment{{FileOff: 0, DevOff: 8 << 20, Len: 4 << 20}, {FileOff: 4 << 20, DevOff: 64 << 20, Len: 6 << 20}},
	}
	refused := control.GrantReply{Status: syscall.EACCES}
	out := [][]byte{granted.Encode(), refused.Encode(), {}, make([]byte, 64)}
	for _, cut := range []int{1, 24, 63} {
		b := granted.Encode()
		out = append(out, b[:len(b)-cut])
	}
	b := granted.Encode()
	binary.LittleEndian.PutUint32(b[12:], 3) // more segments announced than sent
	out = append(out, b)
	b = granted.Encode()
	b[64+8] |= 1 // a device offset not page-aligned
	out = append(out, b)
	b = refused.Encode()
	binary.LittleEndian.PutUint16(b[4:], 1) // version 1
	out = append(out, b)
	return out
}

func FuzzGrantReply(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) { agree(t, b) })
}

func FuzzGrantRoundTrip(f *testing.F) {
	f.Add(uint16(0), uint32(1), uint64(9_437_187), uint8(21), uint8(21), uint64(42), []byte("0123456789abcdef"), []byte{1, 9, 3, 2, 9, 200})
	f.Add(uint16(syscall.EDQUOT), uint32(0), uint64(0), uint8(0), uint8(0), uint64(0), []byte{}, []byte{})
	f.Add(uint16(0), uint32(0xffffffff), uint64(1<<63), uint8(47), uint8(12), uint64(1<<64-1), []byte{0xff}, bytes.Repeat([]byte{255}, 30))
	f.Fuzz(func(t *testing.T, status uint16, flags uint32, size uint64, au, al uint8, ino uint64, id, segs []byte) {
		roundTrip(t, reply(status, flags, size, au, al, ino, id, segs))
	})
}

// Without -fuzz: many random replies, valid and damaged, through the same
// properties.
func TestGrantParseRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	accepted := 0
	for i := 0; i < n; i++ {
		segs := make([]byte, 3*rng.Intn(12))
		rng.Read(segs)
		id := make([]byte, 16)
		rng.Read(id)
		status := uint16(0)
		if rng.Intn(6) == 0 {
			status = uint16(rng.Intn(1 << 16))
		}
		r := reply(status, rng.Uint32(), rng.Uint64(), uint8(rng.Intn(256)), uint8(rng.Intn(256)), rng.Uint64(), id, segs)
		roundTrip(t, r)
		b := r.Encode()
		for k := rng.Intn(5); k > 0 && len(b) > 0; k-- {
			switch rng.Intn(5) {
			case 0:
				b[rng.Intn(len(b))] ^= 1 << rng.Intn(8)
			case 1:
				b[rng.Intn(len(b))] = byte(rng.Intn(256))
			case 2:
				b = b[:rng.Intn(len(b)+1)]
			case 3:
				extra := make([]byte, 24)
				rng.Read(extra)
				b = append(b, extra...)
			default: // the count, so that the length may match again
				if len(b) >= 16 {
					binary.LittleEndian.PutUint32(b[12:], uint32(rng.Intn(16)))
				}
			}
		}
		if agree(t, b).RC == 0 {
			accepted++
		}
	}
	t.Logf("%d random replies and %d damaged ones; %d damaged ones accepted", n, n, accepted)
}
