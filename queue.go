package famfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/famfs-go/famfs/internal/pcq"
)

// The producer/consumer queue (docs/pcq.md): two famfs files, <name> (the
// producer's: a header and the buckets) and <name>.consumer, in the
// reference's layout, so that a Go producer and a C consumer on another host
// (or the reverse) share one queue byte for byte.

// QueueConsumerSuffix names a queue's consumer file: <name>.consumer.
const QueueConsumerSuffix = ".consumer"

// QueueOptions describe a new queue.
type QueueOptions struct {
	BucketSize uint64 // a power of two of at least 32 bytes, its 16-byte trailer included
	Buckets    uint64 // at least 2; the queue holds Buckets-1 messages
	Mode       uint32 // of both files (default 0644)
	UID, GID   uint32 // of both files
}

// CreateQueue makes the queue name: the producer file name (2 MiB of header
// area, then the buckets) and the consumer file name.consumer (2 MiB), both
// zeroed, with their headers written, logged together only once complete.
// Master only.
func (f *FS) CreateQueue(name string, o QueueOptions) error {
	if err := pcq.CheckGeometry(o.Buckets, o.BucketSize); err != nil {
		return pathErr("create queue", name, fmt.Errorf("%w: %w", fs.ErrInvalid, err))
	}
	if o.Mode == 0 {
		o.Mode = 0o644
	}
	return f.Batch(func(b *Batch) error {
		co := CreateOptions{Mode: o.Mode, UID: o.UID, GID: o.GID}
		co.Size = pcq.ProducerFileSize(o.Buckets, o.BucketSize)
		p, err := b.Create(name, co)
		if err != nil {
			return err
		}
		co.Size = pcq.ConsumerFileSize
		c, err := b.Create(name+QueueConsumerSuffix, co)
		if err != nil {
			return err
		}
		head, tail := pcq.ConsumerHeader()
		if _, err := p.WriteAt(pcq.ProducerHeader(o.Buckets, o.BucketSize), 0); err != nil {
			return err
		}
		if _, err := c.WriteAt(head, 0); err != nil {
			return err
		}
		_, err = c.WriteAt(tail, pcq.ConsumerTailOffset)
		return err
	})
}

// QueueRole is what a process does with a queue.
type QueueRole int

const (
	// QueueProducer maps the producer file writable, the consumer file
	// read-only.
	QueueProducer QueueRole = iota
	// QueueConsumer maps the consumer file writable, the producer file
	// read-only.
	QueueConsumer
	// QueueReader maps both read-only (Counts only).
	QueueReader
)

// QueueOpenOptions tune OpenQueue.
type QueueOpenOptions struct {
	// NoFlush skips every cache flush and invalidate: only for coherent
	// memory (tests, pcq -D).
	NoFlush bool
}

// Queue is one side of a queue: two Mappings. A Queue is not safe for use
// by several goroutines at once; one producer and one consumer (each its own
// Queue, in one process or in two on any hosts) may run concurrently.
type Queue struct {
	q       *pcq.Queue
	pm, cm  *Mapping
	role    QueueRole
	closed  bool
	pending bool // a Reserve awaits its Commit, or a Peek its Release
}

// OpenQueue maps a queue's two files for role and checks their headers.
func OpenQueue(producer, consumer *File, role QueueRole, o QueueOpenOptions) (*Queue, error) {
	pa, ca := MapReadOnly, MapReadOnly
	switch role {
	case QueueProducer:
		pa = MapReadWrite
	case QueueConsumer:
		ca = MapReadWrite
	}
	pm, err := producer.Map(MapOptions{Access: pa})
	if err != nil {
		return nil, err
	}
	cm, err := consumer.Map(MapOptions{Access: ca})
	if err != nil {
		pm.Unmap()
		return nil, err
	}
	q, err := pcq.Open(pm.Bytes(), cm.Bytes(), pcq.Options{NoFlush: o.NoFlush})
	if err != nil {
		pm.Unmap()
		cm.Unmap()
		return nil, pathErr("open queue", producer.Path(), err)
	}
	switch role {
	case QueueProducer:
		q.RecoverProducer()
	case QueueConsumer:
		q.RecoverConsumer()
	}
	return &Queue{q: q, pm: pm, cm: cm, role: role}, nil
}

// Close writes this side's sequence count back and unmaps the files. After
// Close every method fails with fs.ErrClosed; a second Close returns it too.
func (q *Queue) Close() error {
	if q.closed {
		return fmt.Errorf("close queue: %w", fs.ErrClosed)
	}
	q.closed = true
	switch q.role {
	case QueueProducer:
		q.q.FlushProducer()
	case QueueConsumer:
		q.q.FlushConsumer()
	}
	return errors.Join(q.pm.Unmap(), q.cm.Unmap())
}

// PayloadSize is the size of every message: the bucket less its trailer.
func (q *Queue) PayloadSize() int { return int(q.q.PayloadSize()) }

// Buckets and BucketSize are the queue's geometry.
func (q *Queue) Buckets() uint64    { return q.q.Buckets() }
func (q *Queue) BucketSize() uint64 { return q.q.BucketSize() }

// QueueStats count what this side did.
type QueueStats struct {
	Sent, Received uint64
	Full, Empty    uint64 // calls that found the queue full or empty (once per call)
	Retries        uint64 // gets that read a bucket more than once
	Errors         uint64 // payloads found wrong (CountError)
}

// Stats returns this side's counts.
func (q *Queue) Stats() QueueStats { return QueueStats(q.q.Stats()) }

// CountError records a payload this side found wrong (a seeded run's
// check); it shows in Stats.
func (q *Queue) CountError() { q.q.CountError() }

// QueueCounts are what both sides of a queue published.
type QueueCounts struct {
	Waiting     uint64 // messages sent and not yet consumed
	ProducerSeq uint64 // the producer's next sequence number
	ConsumerSeq uint64 // the consumer's next expected sequence number
}

// Counts reads what both sides published.
func (q *Queue) Counts() (QueueCounts, error) {
	if q.closed {
		return QueueCounts{}, fmt.Errorf("counts: %w", fs.ErrClosed)
	}
	w, p, c := q.q.Counts()
	return QueueCounts{Waiting: w, ProducerSeq: p, ConsumerSeq: c}, nil
}

// usable checks that the queue is open, for role r.
func (q *Queue) usable(r QueueRole, op string) error {
	switch {
	case q.closed:
		return fmt.Errorf("%s: %w", op, fs.ErrClosed)
	case q.role != r:
		return fmt.Errorf("%s: %w: the queue was opened for another role", op, fs.ErrPermission)
	}
	return nil
}

// need checks that the queue is usable for role r and not in the middle of
// a Reserve/Commit or Peek/Release pair.
func (q *Queue) need(r QueueRole, op string) error {
	if err := q.usable(r, op); err != nil {
		return err
	}
	if q.pending {
		what := "Reserve awaits its Commit"
		if r == QueueConsumer {
			what = "Peek awaits its Release"
		}
		return fmt.Errorf("%s: %w: a %s", op, fs.ErrInvalid, what)
	}
	return nil
}

// finish checks that the queue is usable for role r with a pair under way
// (begun by first), and ends the pair.
func (q *Queue) finish(r QueueRole, op, first string) error {
	if err := q.usable(r, op); err != nil {
		return err
	}
	if !q.pending {
		return fmt.Errorf("%s: %w: no %s before it", op, fs.ErrInvalid, first)
	}
	q.pending = false
	return nil
}

func stopOf(ctx context.Context) func() bool {
	return func() bool { return ctx.Err() != nil }
}

// Put sends msg (at most PayloadSize bytes; the rest of the payload is
// zeroed). While the queue is full it waits until ctx is done (then
// ErrQueueFull).
func (q *Queue) Put(ctx context.Context, msg []byte) error {
	if err := q.need(QueueProducer, "put"); err != nil {
		return err
	}
	return q.q.Put(msg, stopOf(ctx))
}

// TryPut is Put without waiting: ErrQueueFull at once when the queue is full.
func (q *Queue) TryPut(msg []byte) error {
	if err := q.need(QueueProducer, "put"); err != nil {
		return err
	}
	return q.q.Put(msg, nil)
}

// Reserve waits, as Put does (until ctx is done), for a free bucket and returns its payload for
// the next message to be written in place (zero copy); Commit sends it.
func (q *Queue) Reserve(ctx context.Context) ([]byte, error) {
	if err := q.need(QueueProducer, "reserve"); err != nil {
		return nil, err
	}
	b, err := q.q.Reserve(stopOf(ctx))
	q.pending = err == nil
	return b, err
}

// Commit sends the message written into the payload Reserve returned.
// Without a Reserve before it, it fails (fs.ErrInvalid) and sends nothing.
func (q *Queue) Commit() error {
	if err := q.finish(QueueProducer, "commit", "Reserve"); err != nil {
		return err
	}
	q.q.Commit()
	return nil
}

// Get receives the next message into buf (grown to PayloadSize if needed)
// and returns it. While the queue is empty it waits until ctx is done (then
// ErrQueueEmpty). A message that fails its checks is an error wrapping
// ErrCoherency and stays queued.
func (q *Queue) Get(ctx context.Context, buf []byte) ([]byte, error) {
	return q.get(buf, stopOf(ctx))
}

// TryGet is Get without waiting: ErrQueueEmpty at once when the queue is
// empty.
func (q *Queue) TryGet(buf []byte) ([]byte, error) { return q.get(buf, nil) }

func (q *Queue) get(buf []byte, stop func() bool) ([]byte, error) {
	if err := q.need(QueueConsumer, "get"); err != nil {
		return nil, err
	}
	if cap(buf) < q.PayloadSize() {
		buf = make([]byte, q.PayloadSize())
	}
	return q.q.Get(buf[:q.PayloadSize()], stop)
}

// Peek waits, as Get does (until ctx is done), for the next message and returns its payload in
// place (zero copy), checked; Release consumes it, after which the payload
// must not be used.
func (q *Queue) Peek(ctx context.Context) ([]byte, error) {
	if err := q.need(QueueConsumer, "peek"); err != nil {
		return nil, err
	}
	b, err := q.q.Peek(stopOf(ctx))
	q.pending = err == nil
	return b, err
}

// Release consumes the message Peek returned. Without a Peek before it, it
// fails (fs.ErrInvalid) and consumes nothing.
func (q *Queue) Release() error {
	if err := q.finish(QueueConsumer, "release", "Peek"); err != nil {
		return err
	}
	q.q.Release()
	return nil
}
