package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The table the master writes. Row g (counted across batches from 0) holds:
//
//	id    int64                  g
//	value float64 (nullable)     g * 0.25, null when g % nullEvery == 0
//	name  utf8                   "row-" + g
//	city  dictionary<int32,utf8> cities[g % len(cities)] (optional)
//
// so a reader can check every value from its position alone.
const nullEvery = 97

var cities = []string{"Lisbon", "Oslo", "Nairobi", "Lima", "Osaka"}

// Column indexes in the schema.
const (
	colID = iota
	colValue
	colName
	colCity
)

// tableSchema is the table's schema, with the city column if dict.
func tableSchema(dict bool) *arrow.Schema {
	fields := []arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "value", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "name", Type: arrow.BinaryTypes.String},
	}
	if dict {
		fields = append(fields, arrow.Field{Name: "city", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}})
	}
	return arrow.NewSchema(fields, nil)
}

func wantValue(g int64) (float64, bool) { return float64(g) * 0.25, g%nullEvery != 0 }
func wantName(g int64) string           { return "row-" + strconv.FormatInt(g, 10) }
func wantCity(g int64) string           { return cities[g%int64(len(cities))] }

// buildIPC writes to w an Arrow IPC file (the random-access format: magic,
// schema, dictionaries, record batches, footer) with batches record batches
// of rows rows each, with the dictionary-encoded city column if dict. The dictionary is the same for every batch (an IPC file
// may not replace it), so every batch's city indexes point into the one
// dictionary written before the first batch.
func writeIPC(out io.Writer, batches, rows int, dict bool) error {
	if batches < 1 || rows < 1 {
		return fmt.Errorf("batches %d, rows %d: both must be at least 1", batches, rows)
	}
	if int64(batches)*int64(rows) > math.MaxInt32 {
		return fmt.Errorf("batches %d × rows %d: more than %d rows", batches, rows, math.MaxInt32)
	}
	mem := memory.NewGoAllocator()
	schema := tableSchema(dict)
	w, err := ipc.NewFileWriter(out, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	if err != nil {
		return fmt.Errorf("arrow file writer: %w", err)
	}
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	ids := b.Field(colID).(*array.Int64Builder)
	vals := b.Field(colValue).(*array.Float64Builder)
	names := b.Field(colName).(*array.StringBuilder)
	var city *array.BinaryDictionaryBuilder
	if dict {
		city = b.Field(colCity).(*array.BinaryDictionaryBuilder)
		// Insert the dictionary in a fixed order, so index i is cities[i]
		// in every batch (the builder keeps its memo across batches).
		sb := array.NewStringBuilder(mem)
		sb.AppendValues(cities, nil)
		values := sb.NewStringArray()
		sb.Release()
		err = city.InsertStringDictValues(values)
		values.Release()
		if err != nil {
			return fmt.Errorf("city dictionary: %w", err)
		}
	}
	for k := 0; k < batches; k++ {
		ids.Reserve(rows)
		vals.Reserve(rows)
		names.Reserve(rows)
		for r := 0; r < rows; r++ {
			g := int64(k)*int64(rows) + int64(r)
			ids.UnsafeAppend(g)
			if v, ok := wantValue(g); ok {
				vals.UnsafeAppend(v)
			} else {
				vals.UnsafeAppendBoolToBitmap(false)
			}
			names.Append(wantName(g))
			if city != nil {
				if err := city.AppendString(wantCity(g)); err != nil {
					return fmt.Errorf("city: %w", err)
				}
			}
		}
		rec := b.NewRecordBatch()
		err := w.Write(rec)
		rec.Release()
		if err != nil {
			return fmt.Errorf("arrow batch %d: %w", k, err)
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("arrow file footer: %w", err)
	}
	return nil
}

// buildIPC returns the IPC file writeIPC writes.
func buildIPC(batches, rows int, dict bool) ([]byte, error) {
	var b bytes.Buffer
	if err := writeIPC(&b, batches, rows, dict); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
