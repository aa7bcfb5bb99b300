package pcq

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"
)

func newQueue(t testing.TB, nbuckets, bsize uint64) (p, c []byte, q *Queue) {
	t.Helper()
	p = make([]byte, ProducerFileSize(nbuckets, bsize))
	c = make([]byte, ConsumerFileSize)
	FormatProducer(p, nbuckets, bsize)
	FormatConsumer(c)
	q, err := Open(p, c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p, c, q
}

// The header and trailer bytes sit where docs/pcq.md says.
func TestLayoutBytes(t *testing.T) {
	p, c, q := newQueue(t, 4, 64)
	le := binary.LittleEndian
	for _, f := range []struct {
		name      string
		got, want uint64
	}{
		{"producer magic @0", le.Uint64(p[0:]), 0x0BEEBEE3},
		{"nbuckets @8", le.Uint64(p[8:]), 4},
		{"bucket_size @16", le.Uint64(p[16:]), 64},
		{"bucket_array_offset @24", le.Uint64(p[24:]), 2 << 20},
		{"pcq_size @1072", le.Uint64(p[1072:]), 2<<20 + 256},
		{"consumer magic @0", uint64(le.Uint32(c[0:])), 0x0BEEBEE4},
		{"pcqc_size @1048600", le.Uint64(c[1048600:]), 2 << 20},
	} {
		if f.got != f.want {
			t.Errorf("%s: 0x%x, want 0x%x", f.name, f.got, f.want)
		}
	}
	if err := q.Put([]byte("hello"), nil); err != nil {
		t.Fatal(err)
	}
	b := p[2<<20 : 2<<20+64]
	if !bytes.Equal(b[:5], []byte("hello")) || !bytes.Equal(b[5:48], make([]byte, 43)) {
		t.Errorf("payload %q", b[:48])
	}
	if seq := le.Uint64(b[48:]); seq != 0 {
		t.Errorf("seq %d", seq)
	}
	if crc := le.Uint64(b[56:]); crc != uint64(crc32.ChecksumIEEE(b[:56])) {
		t.Errorf("crc 0x%x over payload and seq", crc)
	}
	if pi, seq := le.Uint64(p[32:]), le.Uint64(p[1064:]); pi != 1 || seq != 1 {
		t.Errorf("producer_index %d, next_seq %d", pi, seq)
	}
	buf := make([]byte, q.PayloadSize())
	got, err := q.Get(buf, nil)
	if err != nil || !bytes.HasPrefix(got, []byte("hello")) {
		t.Fatalf("get %q, %v", got, err)
	}
	if ci, seq := le.Uint64(c[8:]), le.Uint64(c[1048592:]); ci != 1 || seq != 1 {
		t.Errorf("consumer_index %d, next_seq %d", ci, seq)
	}
}

// A queue of n buckets holds n-1 messages; messages come out in order across
// many laps.
func TestFullEmptyAndLaps(t *testing.T) {
	_, _, q := newQueue(t, 8, 64)
	buf := make([]byte, q.PayloadSize())
	if _, err := q.Get(buf, nil); !errors.Is(err, ErrEmpty) {
		t.Fatalf("get from an empty queue: %v", err)
	}
	for i := range 7 {
		if err := q.Put([]byte{byte(i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Put([]byte{7}, nil); !errors.Is(err, ErrFull) {
		t.Fatalf("put into a full queue: %v", err)
	}
	if w, ps, cs := q.Counts(); w != 7 || ps != 7 || cs != 0 {
		t.Errorf("counts %d %d %d", w, ps, cs)
	}
	next := 0
	for i := 7; i < 1000; i++ {
		m, err := q.Get(buf, nil)
		if err != nil || m[0] != byte(next) {
			t.Fatalf("message %d: %v %v", next, m[:1], err)
		}
		next++
		if err := q.Put([]byte{byte(i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	st := q.Stats()
	if st.Sent != 1000 || st.Received != uint64(next) || st.Full != 1 || st.Empty != 1 {
		t.Errorf("stats %+v", st)
	}
	if err := q.Put(make([]byte, 49), nil); !errors.Is(err, ErrTooBig) {
		t.Errorf("an oversized message: %v", err)
	}
}

// A bucket whose bytes do not match its trailer is an error, and the
// message stays queued; so is a sequence number out of order.
func TestBadBucket(t *testing.T) {
	p, _, q := newQueue(t, 4, 64)
	q.Put([]byte("x"), nil)
	p[2<<20] ^= 1
	buf := make([]byte, q.PayloadSize())
	if _, err := q.Get(buf, nil); !errors.Is(err, ErrCoherency) {
		t.Fatalf("a corrupt bucket: %v", err)
	}
	if w, _, _ := q.Counts(); w != 1 {
		t.Errorf("the bad message was consumed")
	}
	p[2<<20] ^= 1
	binary.LittleEndian.PutUint64(p[2<<20+48:], 5) // seq 5, CRC recomputed
	binary.LittleEndian.PutUint64(p[2<<20+56:], uint64(crc32.ChecksumIEEE(p[2<<20:2<<20+56])))
	if _, err := q.Get(buf, nil); !errors.Is(err, ErrCoherency) {
		t.Fatalf("a sequence out of order: %v", err)
	}
	if q.Stats().Retries != 2 {
		t.Errorf("retries %d", q.Stats().Retries)
	}
}

func TestCorruptQueues(t *testing.T) {
	le := binary.LittleEndian
	for _, tc := range []struct {
		name string
		mod  func(p, c []byte)
	}{
		{"bad producer magic", func(p, c []byte) { p[0] ^= 1 }},
		{"bad consumer magic", func(p, c []byte) { c[3] ^= 1 }},
		{"bucket size not a power of two", func(p, c []byte) { le.PutUint64(p[16:], 96) }},
		{"bucket size too small", func(p, c []byte) { le.PutUint64(p[16:], 16) }},
		{"one bucket", func(p, c []byte) { le.PutUint64(p[8:], 1) }},
		{"more buckets than the file holds", func(p, c []byte) { le.PutUint64(p[8:], 5) }},
		{"buckets elsewhere", func(p, c []byte) { le.PutUint64(p[24:], 4096) }},
		{"producer index out of range", func(p, c []byte) { le.PutUint64(p[32:], 4) }},
		{"consumer index out of range", func(p, c []byte) { le.PutUint64(c[8:], 1<<40) }},
	} {
		p := make([]byte, ProducerFileSize(4, 64))
		c := make([]byte, ConsumerFileSize)
		FormatProducer(p, 4, 64)
		FormatConsumer(c)
		tc.mod(p, c)
		if _, err := Open(p, c, Options{}); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := Open(make([]byte, 100), make([]byte, ConsumerFileSize), Options{}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a short producer file: %v", err)
	}
}

// Open never panics, whatever the headers hold.
func FuzzOpen(f *testing.F) {
	f.Add(uint64(ProducerMagic), uint64(4), uint64(64), uint64(BucketsOffset), uint64(0), uint32(ConsumerMagic), uint64(0))
	f.Add(uint64(ProducerMagic), uint64(1<<62), uint64(1<<63), uint64(BucketsOffset), uint64(3), uint32(ConsumerMagic), uint64(7))
	f.Fuzz(func(t *testing.T, magic, nb, bs, off, pi uint64, cmagic uint32, ci uint64) {
		p := make([]byte, ProducerFileSize(4, 64))
		c := make([]byte, ConsumerFileSize)
		le := binary.LittleEndian
		le.PutUint64(p[0:], magic)
		le.PutUint64(p[8:], nb)
		le.PutUint64(p[16:], bs)
		le.PutUint64(p[24:], off)
		le.PutUint64(p[32:], pi)
		le.PutUint32(c[0:], cmagic)
		le.PutUint64(c[8:], ci)
		q, err := Open(p, c, Options{})
		if err != nil {
			return
		}
		// An accepted queue must be usable without a fault.
		buf := make([]byte, q.PayloadSize())
		q.Put([]byte("x"), nil)
		q.Get(buf, nil)
		q.Counts()
	})
}

// A side whose next sequence number was lost (a stale line after a crash on
// another host) recovers it from the last bucket's trailer.
func TestRecoverSequence(t *testing.T) {
	p, c, q := newQueue(t, 4, 64)
	buf := make([]byte, q.PayloadSize())
	for range 6 { // a lap and a half
		q.Put([]byte("m"), nil)
		q.Get(buf, nil)
	}
	q.Put([]byte("m"), nil)
	le := binary.LittleEndian
	le.PutUint64(p[pNextSeq:], 2) // stale counts
	le.PutUint64(c[cNextSeq:], 3)
	q.RecoverProducer()
	q.RecoverConsumer()
	if ps, cs := le.Uint64(p[pNextSeq:]), le.Uint64(c[cNextSeq:]); ps != 7 || cs != 6 {
		t.Fatalf("recovered %d and %d, want 7 and 6", ps, cs)
	}
	if _, err := q.Get(buf, nil); err != nil {
		t.Fatalf("the next message after recovery: %v", err)
	}
	// A new queue has nothing to recover from.
	p2, c2, q2 := newQueue(t, 4, 64)
	q2.RecoverProducer()
	q2.RecoverConsumer()
	if le.Uint64(p2[pNextSeq:]) != 0 || le.Uint64(c2[cNextSeq:]) != 0 {
		t.Error("a new queue's counts changed")
	}
}

// FormatConsumer writes a new queue's consumer header into c.
func FormatConsumer(c []byte) {
	head, tail := ConsumerHeader()
	copy(c, head)
	copy(c[ConsumerTailOffset:], tail)
}
