package omf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// EntryType is famfs_log_entry_type.
type EntryType uint32

const (
	EntryFile      EntryType = 0
	EntryMkdir     EntryType = 1
	EntryDelete    EntryType = 2 // written only on a file system made for delete (docs/delete.md)
	EntryAddDaxdev EntryType = 3 // OMF 2.2
	EntryInvalid   EntryType = 4 // defined, never written; ignored when read
	// EntrySymlink is this implementation's symbolic link (docs/format.md,
	// "SYMLINK"). The reference tools skip it as an unknown type.
	EntrySymlink EntryType = 5
)

func (t EntryType) String() string {
	switch t {
	case EntryFile:
		return "file"
	case EntryMkdir:
		return "mkdir"
	case EntryDelete:
		return "delete"
	case EntryAddDaxdev:
		return "add_daxdev"
	case EntryInvalid:
		return "invalid"
	case EntrySymlink:
		return "symlink"
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// Daxdev is the payload of an ADD_DAXDEV entry.
type Daxdev struct {
	Size  uint64
	UUID  uuid.UUID
	Index uint32
}

// Delete is the payload of a DELETE entry (docs/delete.md): the node at the
// entry's Path, made by log entry Target, a directory when Dir, a symbolic
// link when Symlink, otherwise a file of Size bytes.
type Delete struct {
	Target  uint64
	Dir     bool
	Symlink bool
	Size    uint64
}

// Entry is a decoded log entry. Which fields mean something depends on Type:
// FILE uses Size, Flags, UID, GID, Mode, Path and FMap; MKDIR uses UID, GID,
// Mode and Path; ADD_DAXDEV uses Daxdev; DELETE uses Path and Delete;
// SYMLINK uses UID, GID, Mode, Path and Target.
type Entry struct {
	Seqnum uint64
	Type   EntryType

	Size  uint64
	Flags uint32
	UID   uint32
	GID   uint32
	Mode  uint32 // permission bits only
	Path  string
	FMap  FMap

	Daxdev Daxdev
	Delete Delete
	Target string // SYMLINK: what the link points to, any string

	CRC uint64 // as stored (decoding) or computed (encoding)
}

// Entry field offsets (relative to the entry).
const (
	enSeqnum  = 0x000
	enType    = 0x008
	enPayload = 0x010
	enCRC     = EntryCRCOffset

	fileSize  = 0x010
	fileFlags = 0x018
	fileUID   = 0x01C
	fileGID   = 0x020
	fileMode  = 0x024
	filePath  = 0x028
	fileFMap  = 0x078

	dirUID  = 0x010
	dirGID  = 0x014
	dirMode = 0x018
	dirPath = 0x01C

	ddSize  = 0x010
	ddUUID  = 0x018
	ddIndex = 0x028

	delTarget = 0x010
	delKind   = 0x018
	delSize   = 0x020
	delPath   = 0x028 // where fm_relpath is

	slUID       = 0x010
	slGID       = 0x014
	slMode      = 0x018
	slPath      = 0x01C // where md_relpath is
	slTargetLen = 0x06C
	slTarget    = 0x070 // to the CRC: SymlinkTargetField bytes
)

// SymlinkTargetField is the size of sl_target; a target holds at most one
// byte less (it is NUL-terminated).
const SymlinkTargetField = EntryCRCOffset - slTarget

// MaxSymlinkTarget is the longest symlink target a log entry holds.
const MaxSymlinkTarget = SymlinkTargetField - 1

// del_kind values.
const (
	DeleteFile    = 0
	DeleteDir     = 1
	DeleteSymlink = 2
)

// Encode builds the entry image in b[0:544]: all bytes zeroed, fields set, CRC
// computed over [0, 536) and stored (also in e.CRC). Paths must follow the
// writer's rules (CheckRelPath).
func (e *Entry) Encode(b []byte) error {
	if len(b) < EntrySize {
		return fieldErr(ErrShort, "log entry", "", uint64(len(b)), "%d bytes, need %d", len(b), EntrySize)
	}
	b = b[:EntrySize]
	clear(b)
	le := binary.LittleEndian
	le.PutUint64(b[enSeqnum:], e.Seqnum)
	le.PutUint32(b[enType:], uint32(e.Type))
	switch e.Type {
	case EntryFile:
		if err := CheckRelPath(e.Path, true); err != nil {
			return err
		}
		le.PutUint64(b[fileSize:], e.Size)
		le.PutUint32(b[fileFlags:], e.Flags)
		le.PutUint32(b[fileUID:], e.UID)
		le.PutUint32(b[fileGID:], e.GID)
		le.PutUint32(b[fileMode:], e.Mode)
		copy(b[filePath:filePath+RelPathField], e.Path)
		if err := e.FMap.encode(b[fileFMap : fileFMap+fmapSize]); err != nil {
			return err
		}
	case EntryMkdir:
		if err := CheckRelPath(e.Path, true); err != nil {
			return err
		}
		le.PutUint32(b[dirUID:], e.UID)
		le.PutUint32(b[dirGID:], e.GID)
		le.PutUint32(b[dirMode:], e.Mode)
		copy(b[dirPath:dirPath+RelPathField], e.Path)
	case EntryAddDaxdev:
		le.PutUint64(b[ddSize:], e.Daxdev.Size)
		copy(b[ddUUID:], e.Daxdev.UUID[:])
		le.PutUint32(b[ddIndex:], e.Daxdev.Index)
	case EntryDelete:
		if err := CheckRelPath(e.Path, true); err != nil {
			return err
		}
		le.PutUint64(b[delTarget:], e.Delete.Target)
		switch {
		case e.Delete.Dir && e.Delete.Symlink:
			return fieldErr(ErrBadField, "log entry", "del_kind", 0, "a delete is of a directory or of a symbolic link, not both")
		case e.Delete.Dir:
			le.PutUint32(b[delKind:], DeleteDir)
		case e.Delete.Symlink:
			le.PutUint32(b[delKind:], DeleteSymlink)
		}
		le.PutUint64(b[delSize:], e.Delete.Size)
		copy(b[delPath:delPath+RelPathField], e.Path)
	case EntrySymlink:
		if err := CheckRelPath(e.Path, true); err != nil {
			return err
		}
		if err := CheckSymlinkTarget(e.Target); err != nil {
			return err
		}
		le.PutUint32(b[slUID:], e.UID)
		le.PutUint32(b[slGID:], e.GID)
		le.PutUint32(b[slMode:], e.Mode)
		copy(b[slPath:slPath+RelPathField], e.Path)
		le.PutUint32(b[slTargetLen:], uint32(len(e.Target)))
		copy(b[slTarget:slTarget+SymlinkTargetField], e.Target)
	case EntryInvalid:
		// no payload
	default:
		return fieldErr(ErrBadField, "log entry", "famfs_log_entry_type", uint64(e.Type), "unknown entry type %d", uint32(e.Type))
	}
	e.CRC = EntryCRC(b)
	le.PutUint64(b[enCRC:], e.CRC)
	return nil
}

// CheckEntry verifies the two things that tell a complete entry from a torn or
// stale one: the sequence number equals the slot index and the CRC matches.
// Errors wrap ErrShort, ErrSeqnum or ErrBadCRC (IsTorn is true for the last two).
func CheckEntry(b []byte, index uint64) error {
	if len(b) < EntrySize {
		return fieldErr(ErrShort, "log entry", "", uint64(len(b)), "%d bytes, need %d", len(b), EntrySize)
	}
	le := binary.LittleEndian
	if s := le.Uint64(b[enSeqnum:]); s != index {
		return fieldErr(ErrSeqnum, "log entry", "famfs_log_entry_seqnum", s, "sequence number %d in slot %d", s, index)
	}
	stored, want := le.Uint64(b[enCRC:]), EntryCRC(b)
	if stored != want {
		return fieldErr(ErrBadCRC, "log entry", "famfs_log_entry_crc", stored, "stored 0x%x, computed 0x%x", stored, want)
	}
	return nil
}

// ParseEntry checks (CheckEntry) and decodes the entry in slot index. On a
// decoding error after a good check, the returned Entry still carries the
// sequence number, type and whatever was decoded before the error.
func ParseEntry(b []byte, index uint64) (Entry, error) {
	var e Entry
	if err := CheckEntry(b, index); err != nil {
		return e, err
	}
	return e, e.decodePayload(b, nil)
}

// decodePayload decodes a checked entry image, allocating through d (nil:
// allocate each string and slice on its own).
func (e *Entry) decodePayload(b []byte, d *EntryDecoder) error {
	le := binary.LittleEndian
	e.Seqnum = le.Uint64(b[enSeqnum:])
	e.Type = EntryType(le.Uint32(b[enType:]))
	e.CRC = le.Uint64(b[enCRC:])
	var err error
	switch e.Type {
	case EntryFile:
		e.Size = le.Uint64(b[fileSize:])
		e.Flags = le.Uint32(b[fileFlags:])
		e.UID = le.Uint32(b[fileUID:])
		e.GID = le.Uint32(b[fileGID:])
		e.Mode = le.Uint32(b[fileMode:])
		if e.Path, err = decodePath(b[filePath:], "fm_relpath", d); err != nil {
			return err
		}
		return decodeFMap(b[fileFMap:fileFMap+fmapSize], d, &e.FMap)
	case EntryMkdir:
		e.UID = le.Uint32(b[dirUID:])
		e.GID = le.Uint32(b[dirGID:])
		e.Mode = le.Uint32(b[dirMode:])
		e.Path, err = decodePath(b[dirPath:], "md_relpath", d)
		return err
	case EntryAddDaxdev:
		e.Daxdev.Size = le.Uint64(b[ddSize:])
		copy(e.Daxdev.UUID[:], b[ddUUID:])
		e.Daxdev.Index = le.Uint32(b[ddIndex:])
	case EntryDelete:
		e.Delete.Target = le.Uint64(b[delTarget:])
		e.Delete.Size = le.Uint64(b[delSize:])
		switch k := le.Uint32(b[delKind:]); k {
		case DeleteFile:
		case DeleteDir:
			e.Delete.Dir = true
		case DeleteSymlink:
			e.Delete.Symlink = true
		default:
			return fieldErr(ErrBadField, "log entry", "del_kind", uint64(k), "delete kind %d is not 0 (file), 1 (directory) or 2 (symbolic link)", k)
		}
		e.Path, err = decodePath(b[delPath:], "del_relpath", d)
		return err
	case EntrySymlink:
		e.UID = le.Uint32(b[slUID:])
		e.GID = le.Uint32(b[slGID:])
		e.Mode = le.Uint32(b[slMode:])
		if e.Path, err = decodePath(b[slPath:], "sl_relpath", d); err != nil {
			return err
		}
		e.Target, err = decodeTarget(b, d)
		return err
	case EntryInvalid:
	default:
		return fieldErr(ErrBadField, "log entry", "famfs_log_entry_type", uint64(e.Type), "unknown entry type %d", uint32(e.Type))
	}
	return nil
}

// CheckSymlinkTarget checks a symbolic link's target for a log entry: not
// empty, no NUL byte, at most MaxSymlinkTarget bytes. Anything else goes: a
// target is just a string, as in every file system.
func CheckSymlinkTarget(t string) error {
	switch {
	case t == "":
		return fieldErr(ErrBadField, "symlink", "sl_target", 0, "empty target")
	case len(t) > MaxSymlinkTarget:
		return fieldErr(ErrBadField, "symlink", "sl_target", uint64(len(t)), "target of %d bytes, at most %d fit", len(t), MaxSymlinkTarget)
	case strings.IndexByte(t, 0) >= 0:
		return fieldErr(ErrBadField, "symlink", "sl_target", 0, "target holds a NUL byte")
	}
	return nil
}

// decodeTarget reads sl_target, which sl_target_len must agree with.
func decodeTarget(b []byte, d *EntryDecoder) (string, error) {
	le := binary.LittleEndian
	n := le.Uint32(b[slTargetLen:])
	f := b[slTarget : slTarget+SymlinkTargetField]
	if n == 0 || n > MaxSymlinkTarget {
		return "", fieldErr(ErrBadField, "log entry", "sl_target_len", uint64(n), "target length %d (1 to %d)", n, MaxSymlinkTarget)
	}
	if z := bytes.IndexByte(f, 0); z != int(n) {
		return "", fieldErr(ErrBadField, "log entry", "sl_target", uint64(z), "target is not %d bytes then NUL", n)
	}
	return d.string(f[:n]), nil
}
