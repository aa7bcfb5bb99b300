// Package pcq owns the producer/consumer queue of famfs (docs/pcq.md): the
// byte layout of a queue's two files, the bucket trailer (sequence number
// and CRC), and the single-producer, single-consumer protocol with its cache
// flush and invalidate points, which make it work across hosts whose caches
// do not see each other's stores. It works on two mapped byte slices; the
// famfs package maps them and is the public door.
package pcq

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"unsafe"

	"github.com/famfs-go/famfs/internal/device"
)

// Layout (docs/pcq.md). Offsets are bytes, little-endian.
const (
	ProducerMagic = 0x0BEEBEE3
	ConsumerMagic = 0x0BEEBEE4

	// The producer file: its header, then the buckets from BucketsOffset.
	pMagic      = 0
	pNBuckets   = 8
	pBucketSize = 16
	pBucketsOff = 24
	pIndex      = 32
	pNextSeq    = 1064
	pSize       = 1072

	// The consumer file.
	cMagic   = 0
	cIndex   = 8
	cNextSeq = 1048592
	cSize    = 1048600

	// BucketsOffset is where the buckets start in the producer file.
	BucketsOffset = 2 << 20
	// ConsumerFileSize is the consumer file's size.
	ConsumerFileSize = 2 << 20
	// TrailerSize is the bucket's trailer: the sequence number, then the CRC.
	TrailerSize = 16
	// MinBucketSize keeps at least 16 payload bytes.
	MinBucketSize = 32
	// MaxBucketSize bounds one bucket (1 GiB).
	MaxBucketSize = 1 << 30
	// MaxBuckets bounds a queue's buckets.
	MaxBuckets = 1 << 30
	// maxRetries is how often a consumer invalidates and reads a bucket
	// again when its trailer does not check.
	maxRetries = 2
)

// ProducerFileSize is the producer file's size for a queue's geometry.
func ProducerFileSize(nbuckets, bucketSize uint64) uint64 { return BucketsOffset + nbuckets*bucketSize }

// CheckGeometry reports whether a queue of nbuckets buckets of bucketSize
// bytes can be made.
func CheckGeometry(nbuckets, bucketSize uint64) error {
	switch {
	case bucketSize < MinBucketSize || bucketSize > MaxBucketSize || bucketSize&(bucketSize-1) != 0:
		return fmt.Errorf("%w: bucket size %d is not a power of two from %d to %d bytes", ErrGeometry, bucketSize, MinBucketSize, MaxBucketSize)
	case nbuckets < 2 || nbuckets > MaxBuckets:
		return fmt.Errorf("%w: %d buckets (2 to %d: a queue holds one message fewer than its buckets)", ErrGeometry, nbuckets, MaxBuckets)
	}
	return nil
}

// Errors. A queue file that is not what it should be wraps ErrCorrupt; a
// message that does not check wraps ErrCoherency.
var (
	ErrCorrupt   = errors.New("not a valid pcq queue")
	ErrGeometry  = errors.New("bad queue geometry")
	ErrCoherency = errors.New("cache coherency suspicious")
	ErrFull      = errors.New("queue full")
	ErrEmpty     = errors.New("queue empty")
	ErrTooBig    = errors.New("message larger than the bucket's payload")
)

// FormatProducer writes a new queue's producer header into p (the mapped
// producer file, zeroed); ConsumerHeader gives the consumer's bytes.
func FormatProducer(p []byte, nbuckets, bucketSize uint64) {
	le := binary.LittleEndian
	le.PutUint64(p[pMagic:], ProducerMagic)
	le.PutUint64(p[pNBuckets:], nbuckets)
	le.PutUint64(p[pBucketSize:], bucketSize)
	le.PutUint64(p[pBucketsOff:], BucketsOffset)
	le.PutUint64(p[pIndex:], 0)
	le.PutUint64(p[pNextSeq:], 0)
	le.PutUint64(p[pSize:], ProducerFileSize(nbuckets, bucketSize))
}

// ProducerHeaderSize is how far the producer's header reaches.
const ProducerHeaderSize = pSize + 8

// ProducerHeader is a new queue's producer header: FormatProducer's bytes.
func ProducerHeader(nbuckets, bucketSize uint64) []byte {
	b := make([]byte, ProducerHeaderSize)
	FormatProducer(b, nbuckets, bucketSize)
	return b
}

// ConsumerTailOffset is where the consumer's next_seq and size are, past
// the padding that keeps them off the lines of its index.
const ConsumerTailOffset = cNextSeq

// ConsumerHeader is a new queue's consumer header: head at offset 0, tail
// at ConsumerTailOffset; every other byte is zero.
func ConsumerHeader() (head, tail []byte) {
	le := binary.LittleEndian
	head, tail = make([]byte, cIndex+8), make([]byte, 16)
	le.PutUint32(head[cMagic:], ConsumerMagic)
	le.PutUint64(tail[cSize-cNextSeq:], ConsumerFileSize)
	return head, tail
}

// Options tune a Queue.
type Options struct {
	// NoFlush skips every flush and invalidate (pcq -D: for tests on
	// coherent memory, and to see what they cost).
	NoFlush bool
}

// Stats count what a side did; see the fields.
type Stats struct {
	Sent, Received uint64
	Full, Empty    uint64 // calls that found the queue full or empty (once per call)
	Retries        uint64 // gets that read a bucket more than once
	Errors         uint64 // payload mismatches counted by the caller (seeded runs)
}

// Queue is one side's view of a queue: the two mapped files.
type Queue struct {
	p, c       []byte
	nbuckets   uint64
	bucketSize uint64
	o          Options
	stats      Stats
}

// Open checks the two files' headers (and their sizes against the mapped
// lengths) and returns the queue. Nothing is written.
func Open(p, c []byte, o Options) (*Queue, error) {
	le := binary.LittleEndian
	if len(p) < BucketsOffset {
		return nil, fmt.Errorf("%w: the producer file has %d bytes, less than its %d-byte header area", ErrCorrupt, len(p), BucketsOffset)
	}
	if len(c) < ConsumerFileSize {
		return nil, fmt.Errorf("%w: the consumer file has %d bytes, not %d", ErrCorrupt, len(c), ConsumerFileSize)
	}
	q := &Queue{p: p, c: c, o: o}
	q.invalidate(p[:64])
	q.invalidate(c[:64])
	if m := le.Uint64(p[pMagic:]); m != ProducerMagic {
		return nil, fmt.Errorf("%w: producer magic 0x%x, want 0x%x", ErrCorrupt, m, ProducerMagic)
	}
	if m := le.Uint32(c[cMagic:]); m != ConsumerMagic {
		return nil, fmt.Errorf("%w: consumer magic 0x%x, want 0x%x", ErrCorrupt, m, ConsumerMagic)
	}
	q.nbuckets, q.bucketSize = le.Uint64(p[pNBuckets:]), le.Uint64(p[pBucketSize:])
	if err := CheckGeometry(q.nbuckets, q.bucketSize); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if off := le.Uint64(p[pBucketsOff:]); off != BucketsOffset {
		return nil, fmt.Errorf("%w: the buckets start at %d, not %d", ErrCorrupt, off, BucketsOffset)
	}
	if need := ProducerFileSize(q.nbuckets, q.bucketSize); need > uint64(len(p)) {
		return nil, fmt.Errorf("%w: %d buckets of %d bytes need a %d-byte producer file; it has %d", ErrCorrupt, q.nbuckets, q.bucketSize, need, len(p))
	}
	if pi, ci := q.loadP(), q.loadC(); pi >= q.nbuckets || ci >= q.nbuckets {
		return nil, fmt.Errorf("%w: producer index %d or consumer index %d is not below %d buckets", ErrCorrupt, pi, ci, q.nbuckets)
	}
	return q, nil
}

// Buckets and BucketSize are the queue's geometry; PayloadSize is a
// message's size (the bucket less its trailer).
func (q *Queue) Buckets() uint64     { return q.nbuckets }
func (q *Queue) BucketSize() uint64  { return q.bucketSize }
func (q *Queue) PayloadSize() uint64 { return q.bucketSize - TrailerSize }

// Stats returns the counts so far.
func (q *Queue) Stats() Stats { return q.stats }

// CountError adds a payload mismatch a caller found.
func (q *Queue) CountError() { q.stats.Errors++ }

func (q *Queue) flush(b []byte) {
	if !q.o.NoFlush {
		device.Flush(b)
	}
}

func (q *Queue) invalidate(b []byte) {
	if !q.o.NoFlush {
		device.Invalidate(b)
	}
}

// Indexes and sequence numbers are single aligned words: loads and stores of
// them are atomic, so the other side never sees half a word.
func word(b []byte, off int) *uint64 { return (*uint64)(unsafe.Pointer(&b[off])) }

func (q *Queue) loadP() uint64 { return atomic.LoadUint64(word(q.p, pIndex)) }
func (q *Queue) loadC() uint64 { return atomic.LoadUint64(word(q.c, cIndex)) }

func (q *Queue) bucket(i uint64) []byte {
	off := BucketsOffset + i*q.bucketSize
	return q.p[off : off+q.bucketSize : off+q.bucketSize]
}

// The next sequence numbers are stored with every message but flushed only
// when a side closes: a flush per message would cost more than the rest of
// a small message's handoff. A side that died on another host may thus
// leave a stale count in memory beside an index it did flush; the side
// that opens the queue next recovers the count from the trailer of the last
// bucket it sent or received, which the other side cannot have overwritten
// (the producer never writes the bucket before the consumer's index).

// lastSeq returns the sequence number in the bucket before i, if its trailer
// checks.
func (q *Queue) lastSeq(i uint64) (uint64, bool) {
	b := q.bucket((i + q.nbuckets - 1) % q.nbuckets)
	q.invalidate(b)
	n := q.PayloadSize()
	le := binary.LittleEndian
	if le.Uint64(b[n+8:]) != uint64(crcOf(b[:n+8])) {
		return 0, false
	}
	return le.Uint64(b[n:]), true
}

// RecoverProducer makes the producer's next sequence number follow the last
// message it sent (see above). Only the producer may call it.
func (q *Queue) RecoverProducer() {
	if seq, ok := q.lastSeq(q.loadP()); ok {
		binary.LittleEndian.PutUint64(q.p[pNextSeq:], seq+1)
		q.flush(q.p[pNextSeq : pNextSeq+8])
	}
}

// RecoverConsumer makes the consumer's next expected sequence number follow
// the last message it received. Only the consumer may call it.
func (q *Queue) RecoverConsumer() {
	if seq, ok := q.lastSeq(q.loadC()); ok {
		binary.LittleEndian.PutUint64(q.c[cNextSeq:], seq+1)
		q.flush(q.c[cNextSeq : cNextSeq+8])
	}
}

// FlushProducer and FlushConsumer write a side's next sequence number back
// (at Close).
func (q *Queue) FlushProducer() { q.flush(q.p[pNextSeq : pNextSeq+8]) }
func (q *Queue) FlushConsumer() { q.flush(q.c[cNextSeq : cNextSeq+8]) }

// Counts reads the state both sides published: the messages waiting and
// each side's next sequence number.
func (q *Queue) Counts() (waiting, producerSeq, consumerSeq uint64) {
	q.invalidate(q.p[pIndex : pIndex+8])
	q.invalidate(q.c[cIndex : cIndex+8])
	q.invalidate(q.p[pNextSeq : pNextSeq+8])
	q.invalidate(q.c[cNextSeq : cNextSeq+8])
	pi, ci := q.loadP(), q.loadC()
	le := binary.LittleEndian
	return (pi + q.nbuckets - ci) % q.nbuckets, le.Uint64(q.p[pNextSeq:]), le.Uint64(q.c[cNextSeq:])
}

// Put sends msg (at most PayloadSize bytes; the rest of the payload is
// zeroed: a message is always the whole payload). While the queue is full
// it yields and looks again, until stop (if set) returns true; then it
// returns ErrFull. With stop nil and the queue full it returns ErrFull at
// once.
func (q *Queue) Put(msg []byte, stop func() bool) error {
	if uint64(len(msg)) > q.PayloadSize() {
		return fmt.Errorf("%w: %d bytes, the payload holds %d", ErrTooBig, len(msg), q.PayloadSize())
	}
	b, err := q.Reserve(stop)
	if err != nil {
		return err
	}
	// One pass: the copy and the checksum read each byte once; what the
	// copy stored past the caches needs no write-back.
	crc, done := crcCopyOut(0, b, msg)
	if len(msg) < len(b) {
		rest := b[len(msg):]
		clear(rest)
		crc = crcUpdate(crc, rest)
	}
	q.commit(crc, done)
	return nil
}

// Reserve waits (as Put does) for a free bucket and returns its payload to
// write the next message into, in place; Commit sends it.
func (q *Queue) Reserve(stop func() bool) ([]byte, error) {
	i := q.loadP()
	counted := false
	for {
		// The consumer's index is another host's store: drop our copy of
		// its line before each look.
		q.invalidate(q.c[cIndex : cIndex+8])
		if (i+1)%q.nbuckets != q.loadC() {
			break
		}
		if !counted {
			q.stats.Full++
			counted = true
		}
		if stop == nil || stop() {
			return nil, ErrFull
		}
		runtime.Gosched()
	}
	return q.bucket(i)[:q.PayloadSize()], nil
}

// Commit sends the message written into the bucket Reserve returned: it
// stamps the sequence number and CRC, flushes the bucket, then publishes
// the producer index (and the next sequence number) and flushes them.
func (q *Queue) Commit() {
	q.commit(crcOf(q.bucket(q.loadP())[:q.PayloadSize()]), 0)
}

// commit is Commit given the CRC of the payload, whose first done bytes are
// in memory already (non-temporal stores, fenced).
func (q *Queue) commit(crc uint32, done int) {
	le := binary.LittleEndian
	i := q.loadP()
	b := q.bucket(i)
	seq := le.Uint64(q.p[pNextSeq:])
	n := q.PayloadSize()
	le.PutUint64(b[n:], seq)
	le.PutUint64(b[n+8:], uint64(crcUpdate(crc, b[n:n+8])))
	q.flush(b[done:])
	le.PutUint64(q.p[pNextSeq:], seq+1) // flushed at Close; see RecoverProducer
	atomic.StoreUint64(word(q.p, pIndex), (i+1)%q.nbuckets)
	q.flush(q.p[pIndex : pIndex+8])
	q.stats.Sent++
}

// Get receives the next message into dst (which must hold PayloadSize
// bytes) and returns it. While the queue is empty it yields and looks again
// until stop (if set) returns true; then it returns ErrEmpty (at once with
// stop nil). A message whose trailer does not check after maxRetries fresh
// reads is an error wrapping ErrCoherency, and the message stays in the
// queue.
func (q *Queue) Get(dst []byte, stop func() bool) ([]byte, error) {
	ci, err := q.wait(stop)
	if err != nil {
		return nil, err
	}
	b := q.bucket(ci)
	n := q.PayloadSize()
	dst = dst[:n]
	// One pass: the copy and the checksum read the bucket once.
	err = q.check(ci, func() uint32 { return crcCopy(0, dst, b[:n]) })
	if err != nil {
		return nil, err
	}
	q.Release()
	return dst, nil
}

// Peek waits (as Get does) for the next message and returns its payload in
// place, checked; Release consumes it. The payload must not be used after
// Release.
func (q *Queue) Peek(stop func() bool) ([]byte, error) {
	ci, err := q.wait(stop)
	if err != nil {
		return nil, err
	}
	b := q.bucket(ci)
	n := q.PayloadSize()
	if err := q.check(ci, func() uint32 { return crcOf(b[:n]) }); err != nil {
		return nil, err
	}
	return b[:n], nil
}

// wait returns the consumer index once a message is there.
func (q *Queue) wait(stop func() bool) (uint64, error) {
	ci := q.loadC()
	counted := false
	for {
		q.invalidate(q.p[pIndex : pIndex+8])
		if q.loadP() != ci {
			return ci, nil
		}
		if !counted {
			q.stats.Empty++
			counted = true
		}
		if stop == nil || stop() {
			return 0, ErrEmpty
		}
		runtime.Gosched()
	}
}

// check reads bucket ci's trailer and compares it with the sequence number
// expected and with payloadCRC (which reads the payload), reading the bucket
// afresh when they do not match.
func (q *Queue) check(ci uint64, payloadCRC func() uint32) error {
	le := binary.LittleEndian
	b := q.bucket(ci)
	n := q.PayloadSize()
	want := le.Uint64(q.c[cNextSeq:])
	// The bucket is read without invalidating it first: on coherent memory
	// the trailer checks at once; on memory that is not, a stale line (of
	// this lap or the last) fails the CRC or the sequence, and the bucket is
	// dropped from the cache and read again.
	for try := 0; ; try++ {
		seq, crc := le.Uint64(b[n:]), le.Uint64(b[n+8:])
		if seq == want && crc == uint64(crcUpdate(payloadCRC(), b[n:n+8])) {
			return nil
		}
		if try == maxRetries || q.o.NoFlush {
			what := fmt.Sprintf("sequence %d, want %d", seq, want)
			if seq == want {
				what = fmt.Sprintf("CRC 0x%x does not match its bytes", crc)
			}
			return fmt.Errorf("%w: bucket %d: %s after %d reads", ErrCoherency, ci, what, try+1)
		}
		if try == 0 {
			q.stats.Retries++
		}
		q.invalidate(b)
	}
}

// Release consumes the message Peek returned: it publishes the consumer
// index (and the next expected sequence number) and flushes them.
func (q *Queue) Release() {
	le := binary.LittleEndian
	ci := q.loadC()
	le.PutUint64(q.c[cNextSeq:], le.Uint64(q.c[cNextSeq:])+1) // flushed at Close; see RecoverConsumer
	atomic.StoreUint64(word(q.c, cIndex), (ci+1)%q.nbuckets)
	q.flush(q.c[cIndex : cIndex+8])
	q.stats.Received++
}
