package omf

import (
	"bytes"
	"strings"
)

// CheckRelPath applies the path rules of the log to p, a path relative to the
// file system root: not empty, no leading or trailing '/', no empty, "." or
// ".." components, no NUL byte. Writers must also respect MaxRelPath; readers
// accept up to RelPathField-1 bytes (the reference's standalone mode writes 79).
func CheckRelPath(p string, writing bool) error {
	limit := RelPathField - 1
	if writing {
		limit = MaxRelPath
	}
	if len(p) <= limit && validRelPath(p) {
		return nil // the common case, in one pass; errors are explained below
	}
	bad := func(format string, args ...any) error {
		return fieldErr(ErrBadPath, "path", "relpath", uint64(len(p)), format, args...)
	}
	switch {
	case p == "":
		return bad("empty path")
	case len(p) > limit:
		return bad("%q is %d bytes, the limit is %d", p, len(p), limit)
	case strings.IndexByte(p, 0) >= 0:
		return bad("%q contains a NUL byte", p)
	case p[0] == '/':
		return bad("%q is absolute; log paths are relative to the mount point", p)
	}
	for rest := p; ; {
		comp, tail, more := strings.Cut(rest, "/")
		switch comp {
		case "":
			return bad("%q has an empty component", p)
		case ".", "..":
			return bad("%q has a %q component", p, comp)
		}
		if !more {
			return nil
		}
		rest = tail
	}
}

// decodePath reads an 80-byte relpath field: it must hold a NUL terminator and
// follow CheckRelPath's reader rules. The string comes from d (nil: allocated
// on its own).
func decodePath(b []byte, field string, d *EntryDecoder) (string, error) {
	n := bytes.IndexByte(b[:RelPathField], 0)
	if n < 0 {
		return "", fieldErr(ErrBadPath, "log entry", field, RelPathField, "no NUL terminator within %d bytes", RelPathField)
	}
	p := d.string(b[:n])
	if err := CheckRelPath(p, false); err != nil {
		fe := err.(*FieldError)
		fe.Struct, fe.Field = "log entry", field
		return p, fe
	}
	return p, nil
}

// validRelPath reports whether p is non-empty and every '/'-separated
// component is non-empty, not "." or "..", and free of NUL bytes (so there is
// no leading or trailing '/' either).
func validRelPath(p string) bool {
	return strings.IndexByte(p, 0) < 0 && cleanPath(p)
}
