package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	famfs "github.com/famfs-go/famfs"
)

// mappedTable is an Arrow IPC file read in place from a famfs mapping.
type mappedTable struct {
	fsys    *famfs.FS
	file    *famfs.File
	m       *famfs.Mapping
	r       batchReader
	x       *ipcIndex                // where the file's messages are
	alloc   *countingAllocator       // counts what Arrow allocates
	checked *memory.CheckedAllocator // and what it still holds
	// Per batch, its first row counted across batches.
	firstRow []int64
	rows     int64
}

// openTable opens and maps the famfs file named by args, drops the
// mapping's cache lines (the master wrote them from another host), and opens
// Arrow's IPC file reader over the mapping itself: NewMappedFileReader takes
// a []byte and hands out column buffers that are slices of it, where
// NewFileReader would ReadAt every buffer into memory it allocates (see
// openZeroCopy for files with dictionaries).
func openTable(args []string) (*mappedTable, error) {
	fsys, f, err := openTarget(args, false)
	if err != nil {
		return nil, err
	}
	t := &mappedTable{fsys: fsys, file: f, alloc: newCountingAllocator()}
	t.checked = memory.NewCheckedAllocator(t.alloc)
	if t.m, err = f.Map(famfs.MapOptions{}); err != nil {
		fsys.Close()
		return nil, err
	}
	t.m.Invalidate()
	if t.r, t.x, err = openZeroCopy(t.m.Bytes(), t.checked); err != nil {
		t.Close()
		return nil, fmt.Errorf("%s: %w", f.Path(), err)
	}
	for k := 0; k < t.r.NumRecords(); k++ {
		rec, err := t.r.RecordBatchAt(k)
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("%s: batch %d: %w", f.Path(), k, err)
		}
		t.firstRow = append(t.firstRow, t.rows)
		t.rows += rec.NumRows()
		rec.Release()
	}
	return t, nil
}

func (t *mappedTable) Close() {
	if t.r != nil {
		t.r.Close()
	}
	if t.m != nil {
		t.m.Unmap()
	}
	t.fsys.Close()
}

// batch reads batch k afresh: the cache lines of its message (and of the
// schema and dictionaries the stream reader reads with it) are dropped
// first, so the values are the shared memory's, whoever stored them.
func (t *mappedTable) batch(k int) (arrow.RecordBatch, error) {
	if k < 0 || k >= len(t.firstRow) {
		return nil, fmt.Errorf("batch %d: the file has %d", k, len(t.firstRow))
	}
	inv := func(s span) { t.m.InvalidateRange(uint64(s.off), uint64(s.meta+s.body)) }
	if _, ok := t.r.(*streamBatches); ok {
		inv(t.x.schema)
		for _, d := range t.x.dicts[:t.x.dictsBefore[k]] {
			inv(d)
		}
	}
	inv(t.x.batches[k])
	return t.r.RecordBatchAt(k)
}

// checkReport is the answer to "check": where every buffer of every batch
// lives, what Arrow allocated while reading them, and which values differ
// from what write stored.
type checkReport struct {
	Batches int   `json:"batches"`
	Rows    int64 `json:"rows"`
	bufferReport
	Allocs       int64    `json:"allocs"`        // allocations through Arrow's allocator while reading
	AllocBytes   int64    `json:"alloc_bytes"`   // bytes of them
	CurrentAlloc int      `json:"current_alloc"` // bytes still held after the batches are released
	Differences  int      `json:"differences"`
	First        []string `json:"first_differences,omitempty"`
}

func (t *mappedTable) check() (checkReport, error) {
	rep := checkReport{Batches: len(t.firstRow)}
	in := regionOf(t.m.Bytes())
	a0, b0 := t.alloc.allocs.Load(), t.alloc.bytes.Load()
	for k := range t.firstRow {
		rec, err := t.batch(k)
		if err != nil {
			return rep, err
		}
		rep.bufferReport.add(batchBuffers(rec, in, k))
		rep.Rows += rec.NumRows()
		verify(rec, t.firstRow[k], k, &rep)
		rec.Release()
	}
	rep.Allocs, rep.AllocBytes = t.alloc.allocs.Load()-a0, t.alloc.bytes.Load()-b0
	rep.CurrentAlloc = t.checked.CurrentAlloc()
	return rep, nil
}

// verify compares every value of rec with what write stored.
func verify(rec arrow.RecordBatch, first int64, k int, rep *checkReport) {
	ids, _ := rec.Column(colID).(*array.Int64)
	vals, _ := rec.Column(colValue).(*array.Float64)
	names, _ := rec.Column(colName).(*array.String)
	var city *array.Dictionary
	if rec.NumCols() > colCity {
		city, _ = rec.Column(colCity).(*array.Dictionary)
	}
	if ids == nil || vals == nil || names == nil || (rec.NumCols() > colCity && city == nil) {
		rep.Differences++
		rep.First = append(rep.First, fmt.Sprintf("batch %d: schema %s is not the table write makes", k, rec.Schema()))
		return
	}
	var dict *array.String
	if city != nil {
		dict, _ = city.Dictionary().(*array.String)
	}
	diff := func(r int, col string, got, want any) {
		rep.Differences++
		if len(rep.First) < 10 {
			rep.First = append(rep.First, fmt.Sprintf("batch %d row %d %s: %v, written %v", k, r, col, got, want))
		}
	}
	for r := 0; r < int(rec.NumRows()); r++ {
		g := first + int64(r)
		if got := ids.Value(r); got != g {
			diff(r, "id", got, g)
		}
		want, valid := wantValue(g)
		switch {
		case vals.IsValid(r) != valid:
			diff(r, "value validity", vals.IsValid(r), valid)
		case valid && vals.Value(r) != want:
			diff(r, "value", vals.Value(r), want)
		}
		if got := names.Value(r); got != wantName(g) {
			diff(r, "name", got, wantName(g))
		}
		if city == nil {
			continue
		}
		if dict == nil {
			diff(r, "city", "no string dictionary", wantCity(g))
		} else if got := dict.Value(city.GetValueIndex(r)); got != wantCity(g) {
			diff(r, "city", got, wantCity(g))
		}
	}
}

// readerName says which Arrow reader reads the file (see openZeroCopy).
func (t *mappedTable) readerName() string {
	if _, ok := t.r.(*streamBatches); ok {
		return "ipc.NewReaderFromMessageReader over the file's messages (the file has dictionaries)"
	}
	return "ipc.NewMappedFileReader"
}

func (t *mappedTable) describe() string {
	in := regionOf(t.m.Bytes())
	return fmt.Sprintf("%s: %d bytes mapped at %#x-%#x (writable=%v), %d record batches, %d rows, read with %s; host %s (%s)",
		t.file.Path(), len(t.m.Bytes()), in.base, in.end, t.m.Writable(), len(t.firstRow), t.rows, t.readerName(), t.fsys.HostUUID(), t.fsys.Role())
}

// cmdRead: map, read every batch in place, say where the buffers are.
func cmdRead(fs *flag.FlagSet, _ io.Reader, out io.Writer) (func() error, error) {
	return func() error {
		t, err := openTable(fs.Args())
		if err != nil {
			return err
		}
		defer t.Close()
		fmt.Fprintln(out, t.describe())
		rep, err := t.check()
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "zero copy: %d of %d column buffers (%d bytes, validity bitmaps, offsets, values and the dictionary) lie inside the famfs mapping\n",
			rep.Inside, rep.Buffers, rep.Bytes)
		fmt.Fprintf(out, "Arrow's allocator while reading every batch: %d allocations, %d bytes\n", rep.Allocs, rep.AllocBytes)
		if rep.Outside != "" {
			return fmt.Errorf("a buffer was copied out of the mapping: %s", rep.Outside)
		}
		if rep.Differences == 0 {
			fmt.Fprintf(out, "values: all %d rows as written\n", rep.Rows)
		} else {
			fmt.Fprintf(out, "values: %d differ from what write stored (changed in place since?), the first:\n  %s\n",
				rep.Differences, strings.Join(rep.First, "\n  "))
		}
		return nil
	}, nil
}

// cmdClient: like read, then keep the table mapped and answer one JSON line
// per command line on stdin:
//
//	info            the mapping, role and host
//	check           read every batch afresh: buffers, allocations, differences
//	get BATCH ROW   read batch BATCH afresh and return id of row ROW
//	quit
//
// It is how a test (or a person) sees a value the master changes in place
// appear through a mapping made before the change.
func cmdClient(fs *flag.FlagSet, stdin io.Reader, out io.Writer) (func() error, error) {
	return func() error {
		t, err := openTable(fs.Args())
		if err != nil {
			return err
		}
		defer t.Close()
		enc := json.NewEncoder(out)
		sc := bufio.NewScanner(stdin)
		fmt.Fprintln(os.Stderr, "ready:", t.describe())
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 0 {
				continue
			}
			var reply any
			switch f[0] {
			case "quit":
				return nil
			case "info":
				in := regionOf(t.m.Bytes())
				reply = map[string]any{"pid": os.Getpid(), "role": t.fsys.Role().String(), "host": t.fsys.HostUUID().String(),
					"base": in.base, "size": len(t.m.Bytes()), "writable": t.m.Writable(), "batches": len(t.firstRow), "reader": t.readerName(), "rows": t.rows}
			case "check":
				rep, err := t.check()
				if err != nil {
					reply = map[string]string{"error": err.Error()}
				} else {
					reply = rep
				}
			case "get":
				reply = t.get(f[1:])
			default:
				reply = map[string]string{"error": fmt.Sprintf("unknown command %q (info, check, get BATCH ROW, quit)", f[0])}
			}
			if err := enc.Encode(reply); err != nil {
				return err
			}
		}
		return sc.Err()
	}, nil
}

type getReply struct {
	Batch  int    `json:"batch"`
	Row    int    `json:"row"`
	ID     int64  `json:"id"`
	Offset uint64 `json:"offset"` // of the value in the file
	Inside bool   `json:"inside"` // the value was read from the mapping
	Error  string `json:"error,omitempty"`
}

func (t *mappedTable) get(args []string) getReply {
	var g getReply
	if len(args) != 2 {
		g.Error = "get BATCH ROW"
		return g
	}
	var err1, err2 error
	g.Batch, err1 = strconv.Atoi(args[0])
	g.Row, err2 = strconv.Atoi(args[1])
	if err1 != nil || err2 != nil {
		g.Error = "get BATCH ROW: two integers"
		return g
	}
	rec, err := t.batch(g.Batch)
	if err != nil {
		g.Error = err.Error()
		return g
	}
	defer rec.Release()
	ids, ok := rec.Column(colID).(*array.Int64)
	if !ok || g.Row < 0 || g.Row >= ids.Len() {
		g.Error = fmt.Sprintf("batch %d has no int64 id at row %d", g.Batch, g.Row)
		return g
	}
	vals := ids.Int64Values()
	g.ID = vals[g.Row]
	in, p := regionOf(t.m.Bytes()), regionOf(vals[g.Row:g.Row+1])
	g.Inside = p.base >= in.base && p.end <= in.end
	g.Offset = uint64(p.base - in.base)
	return g
}
