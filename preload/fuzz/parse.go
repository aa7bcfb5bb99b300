//go:build cgo

package fuzz

/*
#cgo CFLAGS: -I${SRCDIR}/.. -Wall -Wextra -Werror
#include "internal.h" // first: it defines _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

// grant.c as the library builds it, with what it calls of the rest
#include "sys.c"
#include "grant.c"
*/
import "C"

import (
	"unsafe"

	"github.com/famfs-go/famfs/internal/omf"
)

// Parsed is what grant_parse made of a reply.
type Parsed struct {
	RC        int    // 0: accepted; else the errno (EPROTO) it refused with
	Why       string // the reason of a refusal
	Status    uint16
	Flags     uint32
	NSeg      uint32
	FileSize  uint64
	AllocUnit uint64
	DevAlign  uint64
	Ino       uint64
	UUID      [16]byte
	Segments  []omf.Segment // decoded in place (granted replies only)
}

// Parse runs the C parser on a copy of b in C memory of exactly len(b)
// bytes (8-byte aligned, as the library's reply buffer is).
func Parse(b []byte) Parsed {
	n := len(b)
	buf := C.malloc(C.size_t(max(n, 1)))
	defer C.free(buf)
	if n > 0 {
		C.memcpy(buf, unsafe.Pointer(&b[0]), C.size_t(n))
	}
	var g C.struct_grant
	rc := C.grant_parse((*C.uint8_t)(buf), C.size_t(n), &g)
	p := Parsed{RC: int(rc)}
	if rc != 0 {
		p.Why = C.GoString(g.why)
		return p
	}
	p.Status = uint16(g.status)
	p.Flags = uint32(g.flags)
	p.NSeg = uint32(g.nseg)
	p.FileSize = uint64(g.size)
	p.AllocUnit = uint64(g.alloc_unit)
	p.DevAlign = uint64(g.dev_align)
	p.Ino = uint64(g.ino)
	for i := range p.UUID {
		p.UUID[i] = byte(g.uuid[i])
	}
	if g.status == 0 {
		for _, s := range unsafe.Slice((*C.struct_seg)(buf), int(g.nseg)) {
			p.Segments = append(p.Segments, omf.Segment{FileOff: uint64(s.file_off), DevOff: uint64(s.dev_off), Len: uint64(s.len)})
		}
	}
	return p
}

// ReplyMax is the longest reply the C parser reads (GRANT_REPLY_MAX).
const ReplyMax = C.GRANT_REPLY_MAX
