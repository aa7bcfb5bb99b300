package famfs

import (
	"context"
	"encoding/binary"
	"errors"
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
	prod, err := m.OpenQueue("q", QueueProducer, QueueOpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	cons, err := c.OpenQueue("q", QueueConsumer, QueueOpenOptions{})
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
	if w, ps, cs := cons.Counts(); w != 0 || ps != n || cs != n {
		t.Errorf("counts after the run: %d waiting, seq %d/%d", w, ps, cs)
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
	if _, err := m.OpenQueue("plain", QueueReader, QueueOpenOptions{}); !errors.Is(err, ErrQueueCorrupt) {
		t.Fatalf("a zeroed file opened as a queue: %v", err)
	}
}
