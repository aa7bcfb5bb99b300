package omf

import (
	"bytes"
	"encoding/binary"
	"strings"
	"unsafe"
)

// Quick is the common shape of a log entry, read straight from its image for
// replay's fast path: a MKDIR, or a FILE whose map is one simple extent.
type Quick struct {
	Type  EntryType // EntryFile or EntryMkdir
	Size  uint64    // FILE
	Flags uint32    // FILE
	UID   uint32
	GID   uint32
	Mode  uint32
	Path  []byte // aliases the image: copy what is kept
	Ext   Extent // FILE: the map's one extent
}

// DecodeQuick decodes a checked entry image (CheckEntry passed) into q when
// it has the common shape: a MKDIR, or a FILE with a simple map of exactly one
// extent, either with a path that follows the reader's rules (CheckRelPath).
// For any other entry it returns false and the caller decodes it with an
// EntryDecoder, which gives the exact outcome and errors. Where both decode an
// entry they agree.
func DecodeQuick(b []byte, q *Quick) bool {
	if len(b) < EntrySize {
		return false
	}
	le := binary.LittleEndian
	var path []byte
	switch q.Type = EntryType(le.Uint32(b[enType:])); q.Type {
	case EntryFile:
		if le.Uint32(b[fileFMap+fmExtType:]) != uint32(ExtSimple) || le.Uint32(b[fileFMap+fmNExtents:]) != 1 {
			return false
		}
		q.Size = le.Uint64(b[fileSize:])
		q.Flags = le.Uint32(b[fileFlags:])
		q.UID = le.Uint32(b[fileUID:])
		q.GID = le.Uint32(b[fileGID:])
		q.Mode = le.Uint32(b[fileMode:])
		q.Ext = getExtent(b[fileFMap+fmExtents:])
		path = b[filePath : filePath+RelPathField]
	case EntryMkdir:
		q.UID = le.Uint32(b[dirUID:])
		q.GID = le.Uint32(b[dirGID:])
		q.Mode = le.Uint32(b[dirMode:])
		path = b[dirPath : dirPath+RelPathField]
	default:
		return false
	}
	n := bytes.IndexByte(path, 0)
	if n < 0 || !cleanPath(unsafe.String(unsafe.SliceData(path), n)) {
		return false
	}
	q.Path = path[:n:n]
	return true
}

// cleanPath is validRelPath for a path known to hold no NUL byte, with the
// scanning done by strings.IndexByte: a path is clean when it neither starts
// nor ends with '/', holds no "//", and no '.' starts a "." or ".." component.
func cleanPath(p string) bool {
	n := len(p)
	if n == 0 || p[0] == '/' || p[n-1] == '/' {
		return false
	}
	for j := 0; ; j++ {
		k := strings.IndexByte(p[j:], '.')
		if k < 0 {
			break
		}
		j += k
		if j > 0 && p[j-1] != '/' {
			continue // inside a component
		}
		// a component starting with '.': "." or ".." is bad, ".x" is fine
		if j+1 == n || p[j+1] == '/' || p[j+1] == '.' && (j+2 == n || p[j+2] == '/') {
			return false
		}
	}
	return !strings.Contains(p, "//")
}
