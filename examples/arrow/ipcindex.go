package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// An Arrow IPC file is "ARROW1" and two bytes of padding, the messages of an
// IPC stream (schema, dictionary batches, record batches, each an 8-byte
// prefix, flatbuffer metadata and a body), an end-of-stream marker, the
// footer (a flatbuffer), its int32 length and "ARROW1" again.
//
// Arrow's zero-copy reader, ipc.NewMappedFileReader, reads the footer and
// slices every buffer out of the []byte it is given. In arrow-go v18.8.0 it
// cannot read a file with a dictionary-encoded column: it never makes the
// dictionary memo that NewFileReader makes, and decoding the schema then
// panics (assignment to entry in nil map). So for such files this example
// walks the messages itself — in place, no copies — and gives Arrow's stream
// reader (ipc.NewReaderFromMessageReader, which does make its memo) the
// schema, the dictionaries and the one record batch asked for, each message a
// slice of the mapping.

var arrowMagic = []byte("ARROW1")

// span is a message's bytes in the file: [off, off+meta+body).
type span struct {
	off, meta, body int64
}

func (s span) end() int64 { return s.off + s.meta + s.body }

// ipcIndex is where an IPC file's messages are.
type ipcIndex struct {
	data    []byte
	schema  span
	dicts   []span
	batches []span
	// dictsBefore[k] is how many dictionary messages precede batch k (the
	// stream reader needs those, in order, before the batch).
	dictsBefore []int
}

// indexIPC walks the messages of the IPC file in data. It reads only their
// prefixes and metadata; nothing is copied.
func indexIPC(data []byte) (x *ipcIndex, err error) {
	defer func() {
		// Arrow's flatbuffer accessors panic on malformed metadata.
		if p := recover(); p != nil {
			x, err = nil, fmt.Errorf("malformed Arrow IPC file: %v", p)
		}
	}()
	n := int64(len(data))
	if n < 8+4+6 || !bytes.Equal(data[:6], arrowMagic) || !bytes.Equal(data[n-6:], arrowMagic) {
		return nil, errors.New("not an Arrow IPC file (no ARROW1 magic at both ends)")
	}
	footerLen := int64(int32(binary.LittleEndian.Uint32(data[n-10:])))
	end := n - 10 - footerLen // where the footer starts
	if footerLen <= 0 || end < 8 {
		return nil, fmt.Errorf("malformed Arrow IPC file: footer length %d in a %d-byte file", footerLen, n)
	}
	x = &ipcIndex{data: data, schema: span{off: -1}}
	empty := memory.NewBufferBytes(nil)
	for off := int64(8); off+8 <= end; {
		prefix := int64(8)
		metaLen := int64(int32(binary.LittleEndian.Uint32(data[off+4:])))
		if binary.LittleEndian.Uint32(data[off:]) != 0xFFFFFFFF { // pre-0.15 prefix: the length alone
			prefix, metaLen = 4, int64(int32(binary.LittleEndian.Uint32(data[off:])))
		}
		if metaLen == 0 {
			break // end of stream
		}
		if metaLen < 0 || off+prefix+metaLen > end {
			return nil, fmt.Errorf("malformed Arrow IPC file: message at %d: metadata length %d", off, metaLen)
		}
		msg := ipc.NewMessage(memory.NewBufferBytes(data[off+prefix:off+prefix+metaLen]), empty)
		s := span{off: off, meta: prefix + metaLen, body: msg.BodyLen()}
		typ := msg.Type()
		msg.Release()
		if s.body < 0 || s.body > end-off-s.meta {
			return nil, fmt.Errorf("malformed Arrow IPC file: message at %d: body length %d", off, s.body)
		}
		switch typ {
		case ipc.MessageSchema:
			x.schema = s
		case ipc.MessageDictionaryBatch:
			x.dicts = append(x.dicts, s)
		case ipc.MessageRecordBatch:
			x.batches = append(x.batches, s)
			x.dictsBefore = append(x.dictsBefore, len(x.dicts))
		default:
			return nil, fmt.Errorf("Arrow IPC file: message at %d: unexpected type %v", off, typ)
		}
		off = s.end()
	}
	if x.schema.off < 0 {
		return nil, errors.New("malformed Arrow IPC file: no schema message")
	}
	return x, nil
}

// message makes an ipc.Message whose metadata and body are slices of data.
func (x *ipcIndex) message(s span) *ipc.Message {
	prefix := int64(8)
	if binary.LittleEndian.Uint32(x.data[s.off:]) != 0xFFFFFFFF {
		prefix = 4
	}
	meta := memory.NewBufferBytes(x.data[s.off+prefix : s.off+s.meta])
	body := memory.NewBufferBytes(x.data[s.off+s.meta : s.end()])
	return ipc.NewMessage(meta, body)
}

// sliceMessages is an ipc.MessageReader over messages already in memory.
type sliceMessages struct {
	x    *ipcIndex
	todo []span
	last *ipc.Message
}

func (m *sliceMessages) Message() (*ipc.Message, error) {
	if m.last != nil {
		m.last.Release()
		m.last = nil
	}
	if len(m.todo) == 0 {
		return nil, io.EOF
	}
	m.last = m.x.message(m.todo[0])
	m.todo = m.todo[1:]
	return m.last, nil
}

func (m *sliceMessages) Retain() {}
func (m *sliceMessages) Release() {
	if m.last != nil {
		m.last.Release()
		m.last = nil
	}
}

// streamBatches reads record batches of an indexed IPC file with Arrow's
// stream reader, zero copy: the same methods as ipc.FileReader uses here.
type streamBatches struct {
	x     *ipcIndex
	alloc memory.Allocator
}

func (s *streamBatches) NumRecords() int { return len(s.x.batches) }
func (s *streamBatches) Close() error    { return nil }

func (s *streamBatches) RecordBatchAt(k int) (arrow.RecordBatch, error) {
	if k < 0 || k >= len(s.x.batches) {
		return nil, fmt.Errorf("%w: record index %d out of bounds", arrow.ErrIndex, k)
	}
	todo := append([]span{s.x.schema}, s.x.dicts[:s.x.dictsBefore[k]]...)
	todo = append(todo, s.x.batches[k])
	rdr, err := ipc.NewReaderFromMessageReader(&sliceMessages{x: s.x, todo: todo}, ipc.WithAllocator(s.alloc))
	if err != nil {
		return nil, err
	}
	defer rdr.Release()
	if !rdr.Next() {
		if err := rdr.Err(); err != nil {
			return nil, fmt.Errorf("batch %d: %w", k, err)
		}
		return nil, fmt.Errorf("batch %d: no record batch where the file has one", k)
	}
	rec := rdr.RecordBatch()
	rec.Retain()
	return rec, nil
}

// batchReader is what both readers offer.
type batchReader interface {
	NumRecords() int
	RecordBatchAt(int) (arrow.RecordBatch, error)
	Close() error
}

// openZeroCopy returns a reader whose column buffers are slices of data: Arrow's
// ipc.NewMappedFileReader when it can read the file, the stream reader over
// the indexed messages when the file has dictionaries.
func openZeroCopy(data []byte, alloc memory.Allocator) (batchReader, *ipcIndex, error) {
	x, err := indexIPC(data)
	if err != nil {
		return nil, nil, err
	}
	if len(x.dicts) > 0 {
		return &streamBatches{x: x, alloc: alloc}, x, nil
	}
	r, err := mappedFileReader(data, alloc)
	if err != nil {
		return nil, nil, err
	}
	if r.NumRecords() != len(x.batches) {
		r.Close()
		return nil, nil, fmt.Errorf("malformed Arrow IPC file: the footer lists %d record batches, the file holds %d", r.NumRecords(), len(x.batches))
	}
	return r, x, nil
}

// mappedFileReader is ipc.NewMappedFileReader with its panics (malformed
// metadata) turned into errors.
func mappedFileReader(data []byte, alloc memory.Allocator) (r *ipc.FileReader, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("malformed Arrow IPC file: %v", p)
		}
	}()
	return ipc.NewMappedFileReader(data, ipc.WithAllocator(alloc))
}
