package main

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The zero-copy check can fail: Arrow's ordinary file reader copies every
// buffer into memory its allocator gives it, and the check says so.
func TestCheckSeesCopies(t *testing.T) {
	data, err := buildIPC(4, 1000, true)
	if err != nil {
		t.Fatal(err)
	}
	in := regionOf(data)

	copying := newCountingAllocator()
	r, err := ipc.NewFileReader(bytes.NewReader(data), ipc.WithAllocator(copying))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var copied bufferReport
	for k := 0; k < r.NumRecords(); k++ {
		rec, err := r.RecordBatchAt(k)
		if err != nil {
			t.Fatal(err)
		}
		copied.add(batchBuffers(rec, in, k))
		rec.Release()
	}
	if copied.Buffers != 4*8 || copied.Inside != 0 || copied.Outside == "" {
		t.Fatalf("NewFileReader: %+v: want 32 buffers, none inside the input", copied)
	}
	if copying.bytes.Load() < int64(copied.Bytes) {
		t.Fatalf("NewFileReader: allocator counted %d bytes for %d bytes of buffers", copying.bytes.Load(), copied.Bytes)
	}

	inPlace := newCountingAllocator()
	zr, _, err := openZeroCopy(data, inPlace)
	if err != nil {
		t.Fatal(err)
	}
	var aliased bufferReport
	for k := 0; k < zr.NumRecords(); k++ {
		rec, err := zr.RecordBatchAt(k)
		if err != nil {
			t.Fatal(err)
		}
		aliased.add(batchBuffers(rec, in, k))
		rec.Release()
	}
	if aliased.Buffers != copied.Buffers || aliased.Inside != aliased.Buffers || inPlace.bytes.Load() != 0 {
		t.Fatalf("zero-copy reader: %+v, %d bytes allocated", aliased, inPlace.bytes.Load())
	}
	// A region too small for any buffer holds none.
	last, err := zr.RecordBatchAt(zr.NumRecords() - 1)
	if err != nil {
		t.Fatal(err)
	}
	defer last.Release()
	if rep := batchBuffers(last, region{in.base, in.base + 8}, 3); rep.Inside != 0 {
		t.Fatalf("a region of 8 bytes holds %d buffers", rep.Inside)
	}
}

// arrow-go v18.8.0's NewMappedFileReader cannot read a file with a
// dictionary column (its memo is never made); this example reads such files
// with the stream reader over the file's messages instead. When this test
// fails, Arrow has fixed it: openZeroCopy can use NewMappedFileReader always.
func TestMappedFileReaderDictionaries(t *testing.T) {
	data, err := buildIPC(2, 10, true)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := mappedFileReader(data, memory.DefaultAllocator); err == nil {
		r.Close()
		t.Fatal("ipc.NewMappedFileReader reads dictionaries now: drop the stream-reader path of openZeroCopy")
	} else if !strings.Contains(err.Error(), "nil map") {
		t.Fatalf("ipc.NewMappedFileReader fails differently now: %v", err)
	}
}

// Malformed files give errors, never panics.
func TestIndexMalformed(t *testing.T) {
	data, err := buildIPC(2, 10, true)
	if err != nil {
		t.Fatal(err)
	}
	x, err := indexIPC(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(x.batches) != 2 || len(x.dicts) != 1 || x.dictsBefore[0] != 1 || x.schema.off != 8 {
		t.Fatalf("index %+v: want a schema at 8, one dictionary, then 2 batches", x)
	}
	corrupt := func(f func(b []byte)) []byte { b := append([]byte(nil), data...); f(b); return b }
	cases := []struct {
		name    string
		data    []byte
		wantErr bool // else: no panic, and any error is fine
	}{
		{"empty", nil, true},
		{"no magic", corrupt(func(b []byte) { b[0] = 'X' }), true},
		{"truncated", data[:len(data)/2], true},
		{"footer length", corrupt(func(b []byte) { binary.LittleEndian.PutUint32(b[len(b)-10:], 1<<30) }), true},
		{"metadata length", corrupt(func(b []byte) { binary.LittleEndian.PutUint32(b[12:], 1<<30) }), true},
		{"metadata garbage", corrupt(func(b []byte) { copy(b[16:48], bytes.Repeat([]byte{0xff}, 32)) }), false},
		{"batch metadata garbage", corrupt(func(b []byte) { s := x.batches[0]; copy(b[s.off+8:s.off+40], bytes.Repeat([]byte{0x55}, 32)) }), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			zr, _, err := openZeroCopy(c.data, memory.DefaultAllocator)
			if err != nil {
				return
			}
			if c.wantErr {
				t.Fatal("no error")
			}
			for k := 0; k < zr.NumRecords(); k++ {
				if rec, err := zr.RecordBatchAt(k); err == nil {
					rec.Release()
				}
			}
		})
	}
}
