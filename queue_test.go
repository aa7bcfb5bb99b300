package famfs

import (
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"testing"
	"time"
)

// A producer on the master and a consumer on a client pass 20,000 messages
// in order through a queue of 16 buckets.
func TestQueueAcrossHosts(t *testing.T) {
	m, dev := newFS(t)
	if err := m.CreateQueue("q", QueueOptions{BucketSize: 256, Buckets: 16, UID: 7, GID: 8}); err != nil {
		t.Fatal(err)
	}
	if err := m.CreateQueue("q", QueueOptions{BucketSize: 256, Buckets: 16}); !errors.Is(err, ErrExist) {
		t.Fatalf("a queue made twice: %v", err)
	}
	if err := m.CreateQueue("bad", QueueOptions{BucketSize: 100, Buckets: 16}); err == nil {
		t.Fatal("a bucket size that is not a power of two was accepted")
	}
	if _, err := m.Stat("bad"); err == nil {
		t.Fatal("a refused queue left a file")
	}
	if in, _ := m.Stat("q" + QueueConsumerSuffix); in.UID != 7 || in.GID != 8 || in.Size != 2<<20 {
		t.Fatalf("consumer file %+v", in)
	}
	c := openAs(t, dev, clientID)
	prod, err := openQueue(m, "q", QueueProducer, QueueOpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	cons, err := openQueue(c, "q", QueueConsumer, QueueOpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	if err := cons.TryPut([]byte("x")); err == nil {
		t.Fatal("a consumer put")
	}
	const n = 20000
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		msg := make([]byte, 8)
		for i := range uint64(n) {
			binary.LittleEndian.PutUint64(msg, i*7919)
			if err := prod.Put(ctx, msg); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	buf := make([]byte, cons.PayloadSize())
	for i := range uint64(n) {
		got, err := cons.Get(ctx, buf)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if v := binary.LittleEndian.Uint64(got); v != i*7919 {
			t.Fatalf("message %d holds %d", i, v)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if qc, err := cons.Counts(); err != nil || qc.Waiting != 0 || qc.ProducerSeq != n || qc.ConsumerSeq != n {
		t.Errorf("counts after the run: %+v, %v", qc, err)
	}
	if _, err := cons.TryGet(buf); !errors.Is(err, ErrQueueEmpty) {
		t.Errorf("get from the drained queue: %v", err)
	}
}

// A file that is not a queue is refused with a clear error.
func TestQueueNotAQueue(t *testing.T) {
	m, _ := newFS(t)
	if _, err := m.Create("plain", CreateOptions{Size: 4 << 20, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Create("plain.consumer", CreateOptions{Size: 2 << 20, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	if _, err := openQueue(m, "plain", QueueReader, QueueOpenOptions{}); !errors.Is(err, ErrQueueCorrupt) {
		t.Fatalf("a zeroed file opened as a queue: %v", err)
	}
}

// Reserve/Commit and Peek/Release go in pairs, each on its own side, and
// nothing works on a closed queue: every misuse is an error, not a store
// into memory that is no longer the queue's.
func TestQueueMisuse(t *testing.T) {
	m, _ := newFS(t)
	if err := m.CreateQueue("q", QueueOptions{BucketSize: 64, Buckets: 2}); err != nil {
		t.Fatal(err)
	}
	prod, err := openQueue(m, "q", QueueProducer, QueueOpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cons, err := openQueue(m, "q", QueueConsumer, QueueOpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := prod.Commit(); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Commit without Reserve: %v", err)
	}
	if err := cons.Commit(); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Commit by the consumer: %v", err)
	}
	if err := cons.Release(); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Release without Peek: %v", err)
	}
	if _, err := prod.Peek(ctx); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Peek by the producer: %v", err)
	}
	b, err := prod.Reserve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	copy(b, "one")
	if err := prod.TryPut([]byte("two")); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Put while a Reserve is open: %v", err)
	}
	if err := prod.Commit(); err != nil {
		t.Fatal(err)
	}
	// The queue (one message in two buckets) is full: a Reserve fails and
	// leaves nothing to Commit.
	if _, err := prod.Reserve(ctxDone()); !errors.Is(err, ErrQueueFull) {
		t.Errorf("Reserve on a full queue: %v", err)
	}
	if err := prod.Commit(); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Commit after a failed Reserve: %v", err)
	}
	got, err := cons.Peek(ctx)
	if err != nil || string(got[:3]) != "one" {
		t.Fatalf("Peek: %q, %v", got, err)
	}
	if err := cons.Release(); err != nil {
		t.Fatal(err)
	}
	if err := cons.Release(); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("a second Release: %v", err)
	}
	for _, q := range []*Queue{prod, cons} {
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
		if err := q.Close(); !errors.Is(err, fs.ErrClosed) {
			t.Errorf("a second Close: %v", err)
		}
		if _, err := q.Counts(); !errors.Is(err, fs.ErrClosed) {
			t.Errorf("Counts after Close: %v", err)
		}
	}
	if err := prod.TryPut([]byte("x")); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Put after Close: %v", err)
	}
	if _, err := cons.TryGet(nil); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Get after Close: %v", err)
	}
}

func ctxDone() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// openQueue opens the queue name of f for role.
func openQueue(f *FS, name string, role QueueRole, o QueueOpenOptions) (*Queue, error) {
	p, err := f.OpenFile(name)
	if err != nil {
		return nil, err
	}
	c, err := f.OpenFile(name + QueueConsumerSuffix)
	if err != nil {
		return nil, err
	}
	return OpenQueue(p, c, role, o)
}
