package golden

import (
	"strings"
	"testing"

	"github.com/famfs-go/famfs/internal/alloc"
	"github.com/famfs-go/famfs/internal/omf"
)

// The striped example of docs/format.md, "Golden vectors" ("Shadow YAML of
// entry 3").
const stripedYAML = `---
file:
  path: striped
  size: 9437184
  flags: 2
  mode: 0644
  uid: 1000
  gid: 1000
  nextents: 1
  striped_ext_list:
  - nstrips: 2
    chunk_size: 0x200000
    simple_ext_list:
    - devindex: 0
      offset: 0x80000000
      length: 0x600000
    - devindex: 0
      offset: 0x100000000
      length: 0x600000
...
`

func TestParseShadow(t *testing.T) {
	s, err := ParseShadow(stripedYAML)
	if err != nil {
		t.Fatal(err)
	}
	if s.Path != "striped" || s.Size != 9437184 || s.Flags != 2 || s.Mode != 0o644 || s.UID != 1000 || s.GID != 1000 || s.NExtents != 1 {
		t.Errorf("%+v", s)
	}
	m := s.FMap
	if m.Type != omf.ExtInterleave || len(m.Extents) != 0 || len(m.Interleaved) != 1 || m.Interleaved[0].ChunkSize != 0x200000 ||
		len(m.Interleaved[0].Strips) != 2 || m.Interleaved[0].Strips[1] != (omf.Extent{Offset: 0x100000000, Len: 0x600000}) {
		t.Errorf("%+v", m)
	}

	simple := "---\nfile:\n  path: 'a b'\n  size: 5000000\n  flags: 2\n  mode: 0640\n  uid: -1\n  gid: 100\n  nextents: 1\n  simple_ext_list:\n  - devindex: 0\n    offset: 0x1400000\n    length: 0x600000\n...\n"
	s, err = ParseShadow(simple)
	if err != nil {
		t.Fatal(err)
	}
	if s.Path != "a b" || s.Mode != 0o640 || s.UID != 0xffffffff || s.FMap.Type != omf.ExtSimple || len(s.FMap.Extents) != 1 || s.FMap.Extents[0].Offset != 0x1400000 {
		t.Errorf("%+v", s)
	}

	for name, bad := range map[string]string{
		"strip count":  strings.Replace(stripedYAML, "nstrips: 2", "nstrips: 3", 1),
		"extent count": strings.Replace(simple, "nextents: 1", "nextents: 2", 1),
		"unknown key":  strings.Replace(simple, "flags: 2", "color: 2", 1),
		"no list":      "---\nfile:\n  path: x\n  size: 1\n...\n",
		"bad number":   strings.Replace(simple, "size: 5000000", "size: 5M", 1),
		"no document":  "file:\n  path: x\n",
	} {
		if _, err := ParseShadow(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestDirsFollowMkdirP(t *testing.T) {
	ops := []Op{
		{Op: "mkdir", Path: "a", Mode: "0755"},
		{Op: "creat", Path: "a/f"},
		{Op: "mkdir", Path: "a/b/c", Mode: "0700", UID: 7, GID: 8, Parents: true},
	}
	ds, err := Dirs(ops)
	if err != nil {
		t.Fatal(err)
	}
	want := []Dir{{"a", 0o755, 0, 0}, {"a/b", 0o700, 7, 8}, {"a/b/c", 0o700, 7, 8}}
	if len(ds) != len(want) {
		t.Fatalf("%+v", ds)
	}
	for k := range want {
		if ds[k] != want[k] {
			t.Errorf("dir %d: %+v, want %+v", k, ds[k], want[k])
		}
	}
	if _, err := Dirs([]Op{{Op: "mkdir", Path: "x/y", Mode: "0755"}}); err == nil {
		t.Error("mkdir without -p of a missing parent accepted")
	}
}

func TestOpInterleaveAndSizes(t *testing.T) {
	o := Op{Op: "creat", ExtraArgs: []string{"-N", "4", "-B", "8", "-C", "4M"}}
	p, err := o.Interleave()
	if err != nil || p != (alloc.Interleave{NBuckets: 8, NStrips: 4, ChunkSize: 4 << 20}) {
		t.Errorf("%+v %v", p, err)
	}
	o.ExtraArgs = []string{"-N", "2", "-B", "4"}
	if p, err = o.Interleave(); err != nil || p.ChunkSize != 2<<20 {
		t.Errorf("default chunk: %+v %v", p, err)
	}
	o.ExtraArgs = nil
	if p, err = o.Interleave(); err != nil || p.Enabled() {
		t.Errorf("no args: %+v %v", p, err)
	}
	o.ExtraArgs = []string{"-X", "1"}
	if _, err = o.Interleave(); err == nil {
		t.Error("unknown argument accepted")
	}
	for s, want := range map[string]uint64{"4G": 4 << 30, "8g": 8 << 30, "2M": 2 << 20, "12": 12, "0x10": 16} {
		if n, err := ParseSize(s); err != nil || n != want {
			t.Errorf("ParseSize(%q) = %d %v", s, n, err)
		}
	}
	if LoggedMode(0o664) != 0o644 || LoggedMode(0o777) != 0o755 {
		t.Error("umask")
	}
}

func TestParseFsck(t *testing.T) {
	text := "Famfs Superblock:\n  role of this node: Owner\n  alloc_unit:        0x200000\n  log size (bytes):  8388608\n" +
		"  primary: /dev/dax0.0   8589934592\n\nLog stats:\n  # of log entries in use: 5 of 15420\n  Log size in use:          2768\n" +
		"  Log size (total bytes)    8388608\nERROR: 3 ALLOCATION COLLISIONS FOUND\nFamfs log:\n  5 of 15420 entries used\n" +
		"  1 bad log entries detected\n  3 files\n  1 directories\n\n"
	f, err := ParseFsck(text)
	if err != nil {
		t.Fatal(err)
	}
	if f.Collisions != 3 || f.EntriesInUse != 5 || f.EntrySlots != 15420 || f.BadEntries != 1 || f.Files != 3 || f.Dirs != 1 || f.PrimaryPath != "/dev/dax0.0" {
		t.Errorf("%+v", f)
	}
	if _, err := ParseFsck(strings.Replace(text, "ERROR: 3 ALLOCATION COLLISIONS FOUND", "  No allocation errors found", 1)); err == nil {
		t.Error("a clean report without a Capacity block accepted")
	}
}
