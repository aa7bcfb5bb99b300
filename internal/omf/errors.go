package omf

import (
	"errors"
	"fmt"
)

// Error kinds. Every decoding or validation error wraps exactly one of these,
// so callers classify with errors.Is.
var (
	ErrShort        = errors.New("buffer too short")
	ErrBadMagic     = errors.New("bad magic")
	ErrWrongVersion = errors.New("unsupported version")
	ErrBadCRC       = errors.New("CRC mismatch")
	ErrSeqnum       = errors.New("sequence number mismatch")
	ErrBadField     = errors.New("invalid field")
	ErrBadPath      = errors.New("invalid path")
	ErrBadFmap      = errors.New("invalid file map")
)

// FieldError names the structure, field and value that failed.
type FieldError struct {
	Struct string // "superblock", "log header", "log entry", "fmap", ...
	Field  string // the reference's field name, e.g. "ts_magic"
	Value  uint64 // the offending value where one applies
	Reason string // human explanation
	Kind   error  // one of the Err* kinds
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", e.Struct, e.Reason)
	}
	return fmt.Sprintf("%s: %s: %s", e.Struct, e.Field, e.Reason)
}

func (e *FieldError) Unwrap() error { return e.Kind }

func fieldErr(kind error, strct, field string, v uint64, format string, args ...any) *FieldError {
	return &FieldError{Struct: strct, Field: field, Value: v, Reason: fmt.Sprintf(format, args...), Kind: kind}
}

// IsTorn reports whether err marks a log entry that may be incomplete rather
// than wrong: a CRC or sequence-number mismatch. An appender that has not yet
// flushed an entry, or a reader holding stale cache lines, produces exactly
// these, so replay stops there and tries again later. Any other decoding error
// describes an intact entry that will never become valid.
func IsTorn(err error) bool {
	return errors.Is(err, ErrBadCRC) || errors.Is(err, ErrSeqnum)
}
