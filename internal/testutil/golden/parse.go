package golden

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/famfs-go/famfs/internal/omf"
)

// Shadow is a file as the reference's shadow YAML describes it (docs/format.md,
// "Shadow YAML"): the logged size, flags, mode, owner and map.
type Shadow struct {
	Path     string
	Size     uint64
	Flags    uint32
	Mode     uint32
	UID, GID uint32
	NExtents uint32
	FMap     omf.FMap
}

// ParseShadow parses one shadow YAML document of the shape the reference
// emits. Numbers follow strtoull(s, NULL, 0) rules as the reference's parser
// does (0x hex, leading 0 octal); a negative uid/gid wraps.
func ParseShadow(doc string) (Shadow, error) {
	var s Shadow
	var striped, sawList bool
	var nstrips []uint64 // declared per interleaved extent
	lastExt := func() (*omf.Extent, error) {
		if striped {
			if len(s.FMap.Interleaved) == 0 {
				return nil, fmt.Errorf("strip before nstrips")
			}
			ie := &s.FMap.Interleaved[len(s.FMap.Interleaved)-1]
			if len(ie.Strips) == 0 {
				return nil, fmt.Errorf("strip field before devindex")
			}
			return &ie.Strips[len(ie.Strips)-1], nil
		}
		if len(s.FMap.Extents) == 0 {
			return nil, fmt.Errorf("extent field before devindex")
		}
		return &s.FMap.Extents[len(s.FMap.Extents)-1], nil
	}
	lines := strings.Split(strings.TrimSuffix(doc, "\n"), "\n")
	if len(lines) < 3 || lines[0] != "---" || lines[1] != "file:" || lines[len(lines)-1] != "..." {
		return s, fmt.Errorf("shadow yaml: not a file document")
	}
	for n, l := range lines[2 : len(lines)-1] {
		t := strings.TrimSpace(l)
		item := false
		if rest, ok := strings.CutPrefix(t, "- "); ok {
			t, item = rest, true
		}
		key, val, ok := strings.Cut(t, ":")
		if !ok {
			return s, fmt.Errorf("shadow yaml line %d: %q", n+3, l)
		}
		val = strings.TrimSpace(val)
		num := func() (uint64, error) {
			if v, ok := strings.CutPrefix(val, "-"); ok {
				u, err := strconv.ParseUint(v, 0, 64)
				return -u, err
			}
			return strconv.ParseUint(val, 0, 64)
		}
		var v uint64
		var err error
		switch key {
		case "path", "simple_ext_list", "striped_ext_list":
		default:
			if v, err = num(); err != nil {
				return s, fmt.Errorf("shadow yaml line %d: %s: %w", n+3, key, err)
			}
		}
		switch key {
		case "path":
			s.Path = unquote(val)
		case "size":
			s.Size = v
		case "flags":
			s.Flags = uint32(v)
		case "mode":
			s.Mode = uint32(v)
		case "uid":
			s.UID = uint32(v)
		case "gid":
			s.GID = uint32(v)
		case "nextents":
			s.NExtents = uint32(v)
		case "simple_ext_list":
			if !striped {
				s.FMap.Type = omf.ExtSimple
				sawList = true
			}
		case "striped_ext_list":
			striped, sawList = true, true
			s.FMap.Type = omf.ExtInterleave
		case "nstrips":
			if !striped || !item {
				return s, fmt.Errorf("shadow yaml line %d: stray nstrips", n+3)
			}
			s.FMap.Interleaved = append(s.FMap.Interleaved, omf.Interleave{})
			nstrips = append(nstrips, v)
		case "chunk_size":
			if !striped || len(s.FMap.Interleaved) == 0 {
				return s, fmt.Errorf("shadow yaml line %d: stray chunk_size", n+3)
			}
			s.FMap.Interleaved[len(s.FMap.Interleaved)-1].ChunkSize = v
		case "devindex":
			if !item {
				return s, fmt.Errorf("shadow yaml line %d: devindex does not start an extent", n+3)
			}
			e := omf.Extent{DevIndex: v}
			if striped {
				if len(s.FMap.Interleaved) == 0 {
					return s, fmt.Errorf("shadow yaml line %d: strip before nstrips", n+3)
				}
				ie := &s.FMap.Interleaved[len(s.FMap.Interleaved)-1]
				ie.Strips = append(ie.Strips, e)
			} else {
				s.FMap.Extents = append(s.FMap.Extents, e)
			}
		case "offset", "length":
			e, err := lastExt()
			if err != nil {
				return s, fmt.Errorf("shadow yaml line %d: %w", n+3, err)
			}
			if key == "offset" {
				e.Offset = v
			} else {
				e.Len = v
			}
		default:
			return s, fmt.Errorf("shadow yaml line %d: unknown key %q", n+3, key)
		}
	}
	if !sawList {
		return s, fmt.Errorf("shadow yaml: no extent list")
	}
	if striped {
		if uint32(len(s.FMap.Interleaved)) != s.NExtents {
			return s, fmt.Errorf("shadow yaml: nextents %d, %d interleaved extents listed", s.NExtents, len(s.FMap.Interleaved))
		}
		for k, ie := range s.FMap.Interleaved {
			if uint64(len(ie.Strips)) != nstrips[k] {
				return s, fmt.Errorf("shadow yaml: nstrips %d, %d strips listed", nstrips[k], len(ie.Strips))
			}
		}
	} else if uint32(len(s.FMap.Extents)) != s.NExtents {
		return s, fmt.Errorf("shadow yaml: nextents %d, %d extents listed", s.NExtents, len(s.FMap.Extents))
	}
	return s, nil
}

func unquote(v string) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return strings.ReplaceAll(v[1:len(v)-1], "''", "'")
	}
	if len(v) >= 2 && v[0] == '"' {
		if u, err := strconv.Unquote(v); err == nil {
			return u
		}
	}
	return v
}

// FsckFigures are the numbers of a reference fsck report (docs/design.md, "The
// fsck report"; non-human form).
type FsckFigures struct {
	Role                     string
	AllocUnit                uint64
	LogLen                   uint64
	PrimaryPath              string
	PrimarySize              uint64
	EntriesInUse, EntrySlots uint64
	LogSizeInUse             uint64
	LogSizeTotal             uint64
	Collisions               uint64 // from "ERROR: n ALLOCATION COLLISIONS FOUND"
	DeviceCapacity           uint64
	BitmapCapacity           uint64
	SumSizes                 uint64
	Allocated                uint64
	Free                     uint64
	BadEntries               uint64
	Files, Dirs              uint64
}

// ParseFsck extracts the figures from a reference fsck report. Every figure
// must be present (the Capacity block only when there are no collisions).
func ParseFsck(text string) (FsckFigures, error) {
	var f FsckFigures
	u := func(dst *uint64, s string) error {
		v, err := strconv.ParseUint(strings.TrimSpace(s), 0, 64)
		*dst = v
		return err
	}
	seen := map[string]bool{}
	var err error
	for _, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		var key string
		switch {
		case strings.HasPrefix(t, "role of this node:"):
			key, f.Role = "role", strings.TrimSpace(strings.TrimPrefix(t, "role of this node:"))
		case strings.HasPrefix(t, "alloc_unit:"):
			key, err = "au", u(&f.AllocUnit, strings.TrimPrefix(t, "alloc_unit:"))
		case strings.HasPrefix(t, "log size (bytes):"):
			key, err = "loglen", u(&f.LogLen, strings.TrimPrefix(t, "log size (bytes):"))
		case strings.HasPrefix(t, "primary: "):
			fs := strings.Fields(strings.TrimPrefix(t, "primary: "))
			if len(fs) != 2 {
				return f, fmt.Errorf("fsck: %q", l)
			}
			f.PrimaryPath = fs[0]
			key, err = "primary", u(&f.PrimarySize, fs[1])
		case strings.HasPrefix(t, "# of log entries in use:"):
			key = "inuse"
			_, err = fmt.Sscanf(strings.TrimPrefix(t, "# of log entries in use:"), "%d of %d", &f.EntriesInUse, &f.EntrySlots)
		case strings.HasPrefix(t, "Log size in use:"):
			key, err = "lsinuse", u(&f.LogSizeInUse, strings.TrimPrefix(t, "Log size in use:"))
		case strings.HasPrefix(t, "Log size (total bytes)"):
			key, err = "lstotal", u(&f.LogSizeTotal, strings.TrimPrefix(t, "Log size (total bytes)"))
		case t == "No allocation errors found":
			key = "collisions"
		case strings.HasPrefix(t, "ERROR: ") && strings.HasSuffix(t, " ALLOCATION COLLISIONS FOUND"):
			key, err = "collisions", u(&f.Collisions, strings.TrimSuffix(strings.TrimPrefix(t, "ERROR: "), " ALLOCATION COLLISIONS FOUND"))
		case strings.HasPrefix(t, "Device capacity:"):
			key, err = "devcap", u(&f.DeviceCapacity, strings.TrimPrefix(t, "Device capacity:"))
		case strings.HasPrefix(t, "Bitmap capacity:"):
			key, err = "bmcap", u(&f.BitmapCapacity, strings.TrimPrefix(t, "Bitmap capacity:"))
		case strings.HasPrefix(t, "Sum of file sizes:"):
			key, err = "sum", u(&f.SumSizes, strings.TrimPrefix(t, "Sum of file sizes:"))
		case strings.HasPrefix(t, "Allocated bytes:"):
			key, err = "alloc", u(&f.Allocated, strings.TrimPrefix(t, "Allocated bytes:"))
		case strings.HasPrefix(t, "Free space:"):
			key, err = "free", u(&f.Free, strings.TrimPrefix(t, "Free space:"))
		case strings.HasSuffix(t, " bad log entries detected"):
			key, err = "bad", u(&f.BadEntries, strings.TrimSuffix(t, " bad log entries detected"))
		case strings.HasSuffix(t, " files") && !strings.Contains(t, ":"):
			key, err = "files", u(&f.Files, strings.TrimSuffix(t, " files"))
		case strings.HasSuffix(t, " directories") && !strings.Contains(t, ":"):
			key, err = "dirs", u(&f.Dirs, strings.TrimSuffix(t, " directories"))
		default:
			continue
		}
		if err != nil {
			return f, fmt.Errorf("fsck: %q: %w", l, err)
		}
		if seen[key] {
			return f, fmt.Errorf("fsck: %q repeats a figure", l)
		}
		seen[key] = true
	}
	want := []string{"role", "au", "loglen", "primary", "inuse", "lsinuse", "lstotal", "collisions", "bad", "files", "dirs"}
	if f.Collisions == 0 {
		want = append(want, "devcap", "bmcap", "sum", "alloc", "free")
	}
	for _, k := range want {
		if !seen[k] {
			return f, fmt.Errorf("fsck: figure %q missing", k)
		}
	}
	return f, nil
}

// LogplayRecord is one entry line of the reference's `logplay -n -v`.
type LogplayRecord struct {
	Index    int64 // -1 for mkdir lines (they carry none)
	Dir      bool
	Daxdev   bool   // an ADD_DAXDEV line: Path holds the device UUID
	DaxIndex uint32 // ADD_DAXDEV dd_index
	Path     string
	Size     uint64 // files, ADD_DAXDEV
	Mode     uint32 // directories
	UID, GID uint32 // directories
}

// ParseLogplay extracts the file and mkdir lines of a dry-run logplay, in
// log order.
func ParseLogplay(text string) ([]LogplayRecord, error) {
	var out []LogplayRecord
	for _, l := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(l, "__famfs_logplay: ")
		if !ok {
			continue
		}
		if d, ok := strings.CutPrefix(rest, "mkdir: "); ok {
			// "<mode octal> <uid>:<gid>: <path> "
			var mode, uid, gid uint64
			fs := strings.SplitN(d, " ", 3)
			if len(fs) != 3 {
				return nil, fmt.Errorf("logplay: %q", l)
			}
			var err error
			if mode, err = strconv.ParseUint(fs[0], 8, 32); err != nil {
				return nil, fmt.Errorf("logplay: %q: %w", l, err)
			}
			owner, ok := strings.CutSuffix(fs[1], ":")
			u, g, ok2 := strings.Cut(owner, ":")
			if !ok || !ok2 {
				return nil, fmt.Errorf("logplay: %q", l)
			}
			if uid, err = strconv.ParseUint(u, 10, 32); err != nil {
				return nil, fmt.Errorf("logplay: %q: %w", l, err)
			}
			if gid, err = strconv.ParseUint(g, 10, 32); err != nil {
				return nil, fmt.Errorf("logplay: %q: %w", l, err)
			}
			out = append(out, LogplayRecord{Index: -1, Dir: true, Path: strings.TrimSuffix(fs[2], " "),
				Mode: uint32(mode), UID: uint32(uid), GID: uint32(gid)})
			continue
		}
		fs := strings.Fields(rest)
		// "<index> add_daxdev: index=<n> size=<n> uuid=<uuid>"
		if len(fs) == 5 && fs[1] == "add_daxdev:" {
			var r LogplayRecord
			var err error
			if _, err = fmt.Sscanf(rest, "%d add_daxdev: index=%d size=%d uuid=%s", &r.Index, &r.DaxIndex, &r.Size, &r.Path); err != nil {
				return nil, fmt.Errorf("logplay: %q: %w", l, err)
			}
			r.Daxdev = true
			out = append(out, r)
			continue
		}
		// "<index> file=<path> size=<n>"
		if len(fs) != 3 || !strings.HasPrefix(fs[1], "file=") || !strings.HasPrefix(fs[2], "size=") {
			continue // "log contains N entries" and the like
		}
		i, err := strconv.ParseInt(fs[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("logplay: %q: %w", l, err)
		}
		sz, err := strconv.ParseUint(strings.TrimPrefix(fs[2], "size="), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("logplay: %q: %w", l, err)
		}
		out = append(out, LogplayRecord{Index: i, Path: strings.TrimPrefix(fs[1], "file="), Size: sz})
	}
	return out, nil
}
