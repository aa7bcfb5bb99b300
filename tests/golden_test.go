package tests

// Compatibility with images written by the reference C tools
// (testdata/famfs-c-golden; docs/format.md, "Golden vectors"). Read side:
// every golden image decodes to exactly what its manifest says was made, our
// fsck reports the reference's figures and prints the reference's text, and
// seeded data fills the golden layouts with the reference's bytes. Write
// side: replaying each scenario's commands through the library produces the
// same superblock and log, byte for byte.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	famfs "github.com/famfs-go/famfs"

	"github.com/famfs-go/famfs/internal/alloc"
	"github.com/famfs-go/famfs/internal/namespace"
	"github.com/famfs-go/famfs/internal/omf"
	"github.com/famfs-go/famfs/internal/prng"
	"github.com/famfs-go/famfs/internal/testutil/golden"
	"github.com/google/uuid"
)

// goldenRequired are the scenarios the acceptance criteria name; the
// directory may hold more, which are tested too.
var goldenRequired = []string{"empty", "basic", "randomized", "interleaved", "add_daxdev"}

var goldenOnce = sync.OnceValues(func() ([]*golden.Scenario, error) {
	dir, err := golden.Locate()
	if err != nil {
		return nil, err
	}
	names, err := golden.Names(dir)
	if err != nil {
		return nil, err
	}
	for _, n := range goldenRequired {
		if !slices.Contains(names, n) {
			return nil, fmt.Errorf("golden scenario %q missing from %s (have %v)", n, dir, names)
		}
	}
	var out []*golden.Scenario
	for _, n := range names {
		s, err := golden.Load(dir, n)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
})

func goldenScenarios(t *testing.T) []*golden.Scenario {
	t.Helper()
	ss, err := goldenOnce()
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

// decodedImage is a superblock and log decoded straight from device bytes.
type decodedImage struct {
	sb      omf.Superblock
	hdr     omf.LogHeader
	raw     [][]byte // encoded entries in use
	entries []omf.Entry
	tree    *namespace.Tree
}

// decodeImage decodes the first bytes of a device (superblock and whole log)
// with the omf and namespace packages alone: every entry in use must be
// intact and apply without a problem, and every slot past next_index must be
// zero, as mkfs left it.
func decodeImage(img []byte) (*decodedImage, error) {
	d := &decodedImage{}
	var err error
	if d.sb, err = omf.ParseSuperblock(img[:omf.SuperblockSize]); err != nil {
		return nil, err
	}
	if uint64(len(img)) < d.sb.MetaSize() {
		return nil, fmt.Errorf("image of %d bytes does not hold the %d-byte log", len(img), d.sb.LogLen)
	}
	log := img[d.sb.LogOffset:d.sb.MetaSize()]
	if d.hdr, err = omf.ParseLogHeader(log[:omf.LogHeaderSize], d.sb.LogLen); err != nil {
		return nil, err
	}
	if d.hdr.NextIndex > d.hdr.Capacity() {
		return nil, fmt.Errorf("next_index %d beyond %d slots", d.hdr.NextIndex, d.hdr.Capacity())
	}
	d.tree = namespace.New(d.sb.DevSize, d.sb.AllocUnit, d.sb.MetaSize())
	for i := uint64(0); i < d.hdr.NextIndex; i++ {
		raw := log[omf.EntryOffset(i) : omf.EntryOffset(i)+omf.EntrySize]
		e, err := omf.ParseEntry(raw, i)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		d.tree.Apply(i, &e, nil)
		d.raw = append(d.raw, raw)
		d.entries = append(d.entries, e)
	}
	if ps := d.tree.Problems(); len(ps) > 0 {
		return nil, fmt.Errorf("replay problems: %v", ps)
	}
	if k := slices.IndexFunc(log[omf.EntryOffset(d.hdr.NextIndex):], func(b byte) bool { return b != 0 }); k >= 0 {
		return nil, fmt.Errorf("log byte 0x%x past the entries in use is not zero", omf.EntryOffset(d.hdr.NextIndex)+uint64(k))
	}
	return d, nil
}

func (d *decodedImage) nodes() (files, dirs map[string]*namespace.Node) {
	files, dirs = map[string]*namespace.Node{}, map[string]*namespace.Node{}
	var walk func(n *namespace.Node)
	walk = func(n *namespace.Node) {
		for _, k := range n.Children() {
			if k.IsDir() {
				dirs[k.Path()] = k
				walk(k)
			} else {
				files[k.Path()] = k
			}
		}
	}
	walk(d.tree.Root())
	return files, dirs
}

func fmapString(m omf.FMap) string {
	var b strings.Builder
	b.WriteString(m.Type.String())
	for _, e := range m.Extents {
		fmt.Fprintf(&b, " [dev %d 0x%x+0x%x]", e.DevIndex, e.Offset, e.Len)
	}
	for _, ie := range m.Interleaved {
		fmt.Fprintf(&b, " {chunk 0x%x", ie.ChunkSize)
		for _, e := range ie.Strips {
			fmt.Fprintf(&b, " [dev %d 0x%x+0x%x]", e.DevIndex, e.Offset, e.Len)
		}
		b.WriteString("}")
	}
	return b.String()
}

// fmapShape is fmapString without the device offsets.
func fmapShape(m omf.FMap) string {
	c := m
	c.Extents = slices.Clone(m.Extents)
	for k := range c.Extents {
		c.Extents[k].Offset = 0
	}
	c.Interleaved = slices.Clone(m.Interleaved)
	for k := range c.Interleaved {
		c.Interleaved[k].Strips = slices.Clone(c.Interleaved[k].Strips)
		for j := range c.Interleaved[k].Strips {
			c.Interleaved[k].Strips[j].Offset = 0
		}
	}
	return fmapString(c)
}

// interleaveOf maps each file path the ops create to its interleave
// parameters (the zero value for contiguous files).
func interleaveOf(t *testing.T, s *golden.Scenario) map[string]alloc.Interleave {
	t.Helper()
	out := map[string]alloc.Interleave{}
	for _, o := range s.Ops {
		switch o.Op {
		case "creat", "cp":
			p, err := o.Interleave()
			if err != nil {
				t.Fatal(err)
			}
			out[o.Path] = p
		case "creat_multi":
			for _, f := range o.Files {
				out[f.Path] = alloc.Interleave{}
			}
		}
	}
	return out
}

// randomLayout reports whether the scenario's layout depends on the
// reference's random bucket shuffle.
func randomLayout(t *testing.T, s *golden.Scenario) bool {
	for _, p := range interleaveOf(t, s) {
		if p.Enabled() {
			return true
		}
	}
	return false
}

// checkManifest compares a decoded image with the scenario's manifest: the
// superblock, the log fill, every file (size, logged mode, owner, flags, and
// its map as the reference's shadow YAML gives it: exactly, or only its shape
// when exact is false) and every directory, the ADD_DAXDEV entries, and the
// order of entries as the reference's dry-run logplay printed it.
func checkManifest(t *testing.T, s *golden.Scenario, d *decodedImage, exact bool) {
	t.Helper()
	sb := d.sb
	if sb.UUID != s.FSUUID || sb.DevUUID != s.DevUUID || sb.SystemUUID != s.SystemUUID {
		t.Errorf("superblock UUIDs fs %s dev %s system %s, manifest %s %s %s", sb.UUID, sb.DevUUID, sb.SystemUUID, s.FSUUID, s.DevUUID, s.SystemUUID)
	}
	if sb.AllocUnit != s.AllocUnit || sb.LogLen != s.LogLen || sb.LogOffset != omf.LogOffset {
		t.Errorf("superblock alloc unit 0x%x log 0x%x+%d, manifest alloc unit 0x%x log length %d", sb.AllocUnit, sb.LogOffset, sb.LogLen, s.AllocUnit, s.LogLen)
	}
	if sb.DevSize != s.DevSize || sb.DevPath != s.DevicePath {
		t.Errorf("superblock device %q %d bytes, manifest %q %d", sb.DevPath, sb.DevSize, s.DevicePath, s.DevSize)
	}
	if sb.Version != omf.SuperblockVersion || sb.OMFMajor != 2 || sb.OMFMinor != 2 {
		t.Errorf("superblock version %d OMF %d.%d", sb.Version, sb.OMFMajor, sb.OMFMinor)
	}
	h := d.hdr
	if h.NextIndex != s.EntriesInUse || h.Capacity() != s.EntriesTotal || h.NextSeqnum != h.NextIndex || h.Len != sb.LogLen {
		t.Errorf("log header %+v, manifest %d of %d entries in use", h, s.EntriesInUse, s.EntriesTotal)
	}

	files, dirs := d.nodes()
	if len(files) != len(s.Files) || len(s.ShadowYAML) != len(s.Files) {
		t.Errorf("%d files in the log, %d in the manifest, %d shadow files", len(files), len(s.Files), len(s.ShadowYAML))
	}
	for _, mf := range s.Files {
		n := files[mf.Path]
		if n == nil {
			t.Errorf("file %s: not in the log", mf.Path)
			continue
		}
		req, err := golden.ParseMode(mf.Mode)
		if err != nil {
			t.Fatal(err)
		}
		if n.Size() != mf.Size || n.Mode() != golden.LoggedMode(req) || n.UID() != mf.UID || n.GID() != mf.GID || n.Flags() != omf.FileFlagsAllHostsRW {
			t.Errorf("file %s: size %d mode %o uid %d gid %d flags %d; manifest size %d mode %o (logged %o) uid %d gid %d",
				mf.Path, n.Size(), n.Mode(), n.UID(), n.GID(), n.Flags(), mf.Size, req, golden.LoggedMode(req), mf.UID, mf.GID)
		}
		y, ok := s.ShadowYAML[mf.Path]
		if !ok {
			t.Errorf("file %s: no shadow yaml", mf.Path)
			continue
		}
		sh, err := golden.ParseShadow(y)
		if err != nil {
			t.Fatalf("file %s: %v", mf.Path, err)
		}
		if sh.Path != mf.Path || sh.Size != n.Size() || sh.Mode != n.Mode() || sh.UID != n.UID() || sh.GID != n.GID() || sh.Flags != n.Flags() {
			t.Errorf("file %s: log has size %d mode %o uid %d gid %d flags %d, shadow yaml %+v", mf.Path, n.Size(), n.Mode(), n.UID(), n.GID(), n.Flags(), sh)
		}
		got, want := fmapString(n.FMap()), fmapString(sh.FMap)
		if !exact {
			got, want = fmapShape(n.FMap()), fmapShape(sh.FMap)
		}
		if got != want {
			t.Errorf("file %s: map %s, shadow yaml %s", mf.Path, got, want)
		}
	}

	wantDirs, err := golden.Dirs(s.Ops)
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) != len(wantDirs) {
		t.Errorf("%d directories in the log, the ops make %d", len(dirs), len(wantDirs))
	}
	var logDirs []string
	for _, e := range d.entries {
		if e.Type == omf.EntryMkdir {
			logDirs = append(logDirs, e.Path)
		}
	}
	for k, w := range wantDirs {
		n := dirs[w.Path]
		switch {
		case n == nil:
			t.Errorf("directory %s: not in the log", w.Path)
		case n.Mode() != w.Mode || n.UID() != w.UID || n.GID() != w.GID:
			t.Errorf("directory %s: mode %o uid %d gid %d, want %o %d %d", w.Path, n.Mode(), n.UID(), n.GID(), w.Mode, w.UID, w.GID)
		case k >= len(logDirs) || logDirs[k] != w.Path:
			t.Errorf("directory %s: logged in order %v", w.Path, logDirs)
		}
	}

	wantDax := []omf.Daxdev{{Size: sb.DevSize}}
	for _, o := range s.Ops {
		if o.Op == "add_daxdev" {
			wantDax = append(wantDax, omf.Daxdev{Size: o.DDSize, UUID: uuid.MustParse(o.DDUUID), Index: o.DDIndex})
		}
	}
	if got := d.tree.Daxdevs(); !slices.Equal(got, wantDax) {
		t.Errorf("device table %+v, want %+v", got, wantDax)
	}

	// The reference's dry-run logplay lists every entry, in log order.
	recs, err := golden.ParseLogplay(s.LogplayDryrun)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(recs)) != h.NextIndex {
		t.Errorf("logplay listed %d entries, the log has %d", len(recs), h.NextIndex)
	}
	for k, r := range recs {
		if k >= len(d.entries) {
			break
		}
		e := d.entries[k]
		if r.Index >= 0 && r.Index != int64(k) {
			t.Errorf("logplay line %d names entry %d", k, r.Index)
		}
		switch {
		case r.Dir:
			if e.Type != omf.EntryMkdir || e.Path != r.Path || e.Mode != r.Mode || e.UID != r.UID || e.GID != r.GID {
				t.Errorf("entry %d is %+v, logplay printed %+v", k, e, r)
			}
		case r.Daxdev:
			if e.Type != omf.EntryAddDaxdev || e.Daxdev.Index != r.DaxIndex || e.Daxdev.Size != r.Size || e.Daxdev.UUID.String() != r.Path {
				t.Errorf("entry %d is %+v, logplay printed %+v", k, e, r)
			}
		default:
			if e.Type != omf.EntryFile || e.Path != r.Path || e.Size != r.Size {
				t.Errorf("entry %d is %+v, logplay printed %+v", k, e, r)
			}
		}
	}
}

// firstFit returns the first unit i in [lo, hi) with units [i, i+need) free.
func firstFit(bm *alloc.Bitmap, lo, hi, need uint64) (uint64, bool) {
	for i := lo; i+need <= hi; i++ {
		free := true
		for k := i; k < i+need; k++ {
			if bm.Test(k) {
				free, i = false, k // continue after the used unit
				break
			}
		}
		if free {
			return i, true
		}
	}
	return 0, false
}

// checkLayoutRules checks that every file's map is what the reference's
// allocators (docs/format.md, "Allocation") give when each creat or cp is its
// own session, replaying the allocations in log order: a contiguous file gets
// one extent of its size rounded up to 2 MiB at the first fit from the start
// of the device; a striped file gets one interleaved extent with the requested
// strip count and chunk, strips of ceil(size/(nstrips*chunk)) chunks each,
// every strip in a different bucket at the first fit inside that bucket.
func checkLayoutRules(t *testing.T, s *golden.Scenario, d *decodedImage) {
	t.Helper()
	params := interleaveOf(t, s)
	au := d.sb.AllocUnit
	bm := alloc.NewBitmap(d.sb.DevSize, au)
	bm.Mark(0, d.sb.MetaSize())
	for i, e := range d.entries {
		if e.Type != omf.EntryFile {
			continue
		}
		p := params[e.Path]
		units := (e.Size + au - 1) / au
		if !p.Enabled() || e.Size < p.ChunkSize {
			if e.FMap.Type != omf.ExtSimple || len(e.FMap.Extents) != 1 {
				t.Errorf("entry %d (%s): map %s, want one simple extent", i, e.Path, fmapString(e.FMap))
				continue
			}
			x := e.FMap.Extents[0]
			at, ok := firstFit(bm, 0, bm.NBits(), units)
			if !ok || x.Offset != at*au || x.Len != units*au || x.DevIndex != 0 {
				t.Errorf("entry %d (%s): extent %s, first fit is 0x%x+0x%x", i, e.Path, fmapString(e.FMap), at*au, units*au)
			}
			bm.Mark(x.Offset, x.Len)
			continue
		}
		if e.FMap.Type != omf.ExtInterleave || len(e.FMap.Interleaved) != 1 {
			t.Errorf("entry %d (%s): map %s, want one interleaved extent", i, e.Path, fmapString(e.FMap))
			continue
		}
		ie := e.FMap.Interleaved[0]
		chunk := p.ChunkSize / au
		strip := (units + p.NStrips*chunk - 1) / (p.NStrips * chunk) * chunk
		bucket := bm.NBits() / p.NBuckets
		if uint64(len(ie.Strips)) != p.NStrips || ie.ChunkSize != p.ChunkSize {
			t.Errorf("entry %d (%s): %d strips of chunk 0x%x, want %d of 0x%x", i, e.Path, len(ie.Strips), ie.ChunkSize, p.NStrips, p.ChunkSize)
		}
		used := map[uint64]bool{}
		for k, x := range ie.Strips {
			b := x.Offset / au / bucket
			lo, hi := b*bucket, (b+1)*bucket
			switch at, ok := firstFit(bm, lo, hi, strip); {
			case x.Len != strip*au || x.DevIndex != 0:
				t.Errorf("entry %d (%s) strip %d: 0x%x+0x%x on device %d, want 0x%x bytes on device 0", i, e.Path, k, x.Offset, x.Len, x.DevIndex, strip*au)
			case b >= p.NBuckets || x.Offset%au != 0 || x.Offset/au+strip > hi:
				t.Errorf("entry %d (%s) strip %d: 0x%x+0x%x is not inside one of %d buckets of 0x%x bytes", i, e.Path, k, x.Offset, x.Len, p.NBuckets, bucket*au)
			case used[b]:
				t.Errorf("entry %d (%s) strip %d: bucket %d used twice", i, e.Path, k, b)
			case !ok || at*au != x.Offset:
				t.Errorf("entry %d (%s) strip %d: at 0x%x, the first fit in bucket %d is 0x%x (found %v)", i, e.Path, k, x.Offset, b, at*au, ok)
			}
			used[b] = true
			bm.Mark(x.Offset, x.Len)
		}
	}
}

// deviceFromImage writes a golden image into a sparse device file of the
// scenario's full size.
func deviceFromImage(t *testing.T, s *golden.Scenario) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "dax0.0")
	if err := os.WriteFile(p, s.Image, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, int64(s.DevSize)); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkFsckFigures compares a report with the figures of the reference's
// fsck output, and those with what the manifest's files imply.
func checkFsckFigures(t *testing.T, s *golden.Scenario, r *famfs.FsckReport, role string) {
	t.Helper()
	f, err := golden.ParseFsck(s.FsckOutput)
	if err != nil {
		t.Fatal(err)
	}
	// The manifest agrees with itself: the reference's figures are what its
	// files and directories add up to.
	var sum, backing uint64
	for _, mf := range s.Files {
		sum += mf.Size
		sh, err := golden.ParseShadow(s.ShadowYAML[mf.Path])
		if err != nil {
			t.Fatal(err)
		}
		backing += sh.FMap.Backing()
	}
	dirs, _ := golden.Dirs(s.Ops)
	if f.SumSizes != sum || f.Allocated != omf.LogOffset+s.LogLen+backing || f.Files != uint64(len(s.Files)) || f.Dirs != uint64(len(dirs)) || f.Role != "Owner" {
		t.Fatalf("reference fsck %+v disagrees with the manifest: %d files of %d bytes in %d bytes, %d directories", f, len(s.Files), sum, backing, len(dirs))
	}

	if r.Superblock == nil || r.Log == nil || r.LogErr != "" || !r.Clean() {
		t.Fatalf("fsck %+v", r)
	}
	if r.Role != role || r.Superblock.AllocUnit != f.AllocUnit || r.Superblock.LogLen != f.LogLen ||
		r.Superblock.DevPath != golden.ExpandDev(f.PrimaryPath, s.DevicePath) || r.Superblock.DevSize != f.PrimarySize {
		t.Errorf("fsck role %q superblock %+v; reference %+v", r.Role, r.Superblock, f)
	}
	got := golden.FsckFigures{
		EntriesInUse: r.EntriesUsed, EntrySlots: r.EntrySlots, LogSizeInUse: omf.EntryOffset(r.Log.NextIndex), LogSizeTotal: r.Log.Len,
		Collisions: r.Collisions, DeviceCapacity: r.DeviceCapacity, BitmapCapacity: r.BitmapCapacity,
		SumSizes: r.SumSizes, Allocated: r.Allocated, Free: r.Free, BadEntries: r.BadEntries(), Files: r.Files, Dirs: r.Dirs,
	}
	want := f
	want.Role, want.AllocUnit, want.LogLen, want.PrimaryPath, want.PrimarySize = "", 0, 0, "", 0
	if got != want {
		t.Errorf("fsck figures\n got %+v\nwant %+v", got, want)
	}
	if r.Files != f.Files || r.Dirs != f.Dirs {
		t.Errorf("fsck placed %d files and %d directories, reference counts %d and %d", r.Files, r.Dirs, f.Files, f.Dirs)
	}
}

// fileSHA256 hashes a file's contents read through ReadAt.
func fileSHA256(t *testing.T, fl *famfs.File) string {
	t.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(fl, 0, int64(fl.Size()))); err != nil {
		t.Fatalf("%s: %v", fl.Path(), err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// knownSources holds the contents of copied source files the generator
// recorded only by digest, where the digest gives them away.
var knownSources = [][]byte{[]byte("hello famfs\n")}

// sourceFor returns the content to copy in for a cp op: the reference's own
// source when it is known (its sha256 matches), else seeded stand-in data.
func sourceFor(o golden.Op, seed uint64) (content []byte, original bool) {
	for _, c := range knownSources {
		if sum := sha256.Sum256(c); uint64(len(c)) == o.Size && hex.EncodeToString(sum[:]) == o.SrcSHA256 {
			return c, true
		}
	}
	content = make([]byte, o.Size)
	prng.New(seed).Fill(content)
	return content, false
}

// checkData fills the seeded files and compares every file's content with
// the manifest's digest. Files that were neither seeded nor copied read as
// zeros on a fresh sparse device, as they did for the reference. Copied files
// are checked against copied (path → digest of what was copied in) when the
// reference's source is unknown.
func checkData(t *testing.T, fsys *famfs.FS, s *golden.Scenario, fill bool, copied map[string]string) {
	t.Helper()
	for _, mf := range s.Files {
		fl, err := fsys.OpenFile(mf.Path)
		if err != nil {
			t.Error(err)
			continue
		}
		if mf.Seed != nil && fill {
			if err := fl.Fill(*mf.Seed); err != nil {
				t.Fatal(err)
			}
		}
		want := mf.DataSHA256
		if d, ok := copied[mf.Path]; ok {
			want = d
		}
		if got := fileSHA256(t, fl); got != want {
			seed := "none"
			if mf.Seed != nil {
				seed = strconv.FormatUint(*mf.Seed, 10)
			}
			t.Errorf("file %s (seed %s): content sha256 %s, want %s", mf.Path, seed, got, want)
		}
		if mf.Seed != nil {
			if err := fl.Verify(*mf.Seed); err != nil {
				t.Errorf("file %s: %v", mf.Path, err)
			}
		}
	}
}

// checkAPI compares what the public API shows with the manifest.
func checkAPI(t *testing.T, fsys *famfs.FS, s *golden.Scenario) {
	t.Helper()
	var nfiles, ndirs int
	err := fsys.Walk("", func(i famfs.Info) error {
		if i.Path == "" {
			return nil
		}
		if i.IsDir() {
			ndirs++
		} else {
			nfiles++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dirs, _ := golden.Dirs(s.Ops)
	if nfiles != len(s.Files) || ndirs != len(dirs) {
		t.Errorf("walk found %d files and %d directories, want %d and %d", nfiles, ndirs, len(s.Files), len(dirs))
	}
	for _, mf := range s.Files {
		req, _ := golden.ParseMode(mf.Mode)
		i, err := fsys.Stat(mf.Path)
		if err != nil || i.IsDir() || i.Size != mf.Size || uint32(i.Mode.Perm()) != golden.LoggedMode(req) || i.UID != mf.UID || i.GID != mf.GID {
			t.Errorf("stat %s: %+v %v", mf.Path, i, err)
		}
	}
	for _, d := range dirs {
		i, err := fsys.Stat(d.Path)
		if err != nil || !i.IsDir() || uint32(i.Mode.Perm()) != d.Mode || i.UID != d.UID || i.GID != d.GID {
			t.Errorf("stat %s: %+v %v", d.Path, i, err)
		}
	}
}

// TestGoldenRead decodes every golden image and checks it against its
// manifest, then runs our fsck on it and fills its seeded files.
func TestGoldenRead(t *testing.T) {
	for _, s := range goldenScenarios(t) {
		t.Run(s.Name, func(t *testing.T) {
			d, err := decodeImage(s.Image)
			if err != nil {
				t.Fatal(err)
			}
			checkManifest(t, s, d, true)
			checkLayoutRules(t, s, d)

			dev := deviceFromImage(t, s)
			r, err := famfs.Fsck(dev, famfs.FsckOptions{SystemUUID: s.SystemUUID})
			if err != nil {
				t.Fatal(err)
			}
			// (The CLI's tests compare the text it prints from these
			// reports with the reference's, cli/fscktext_test.go.)
			checkFsckFigures(t, s, r, "Owner")

			// Another host sees the same, as a client.
			other := uuid.MustParse("0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b")
			rc, err := famfs.Fsck(dev, famfs.FsckOptions{SystemUUID: other})
			if err != nil {
				t.Fatal(err)
			}
			checkFsckFigures(t, s, rc, "Client")

			// The library opens it, shows the manifest's namespace, and the
			// seeded files filled through the reference's maps (striped ones
			// included) hold the reference's bytes.
			fsys, err := famfs.Open(dev, famfs.OpenOptions{SystemUUID: s.SystemUUID})
			if err != nil {
				t.Fatal(err)
			}
			defer fsys.Close()
			if fsys.Role() != famfs.Master {
				t.Fatalf("role %v", fsys.Role())
			}
			checkAPI(t, fsys, s)
			// File data is not in the images: copied files read as zeros.
			copied := map[string]string{}
			for _, o := range s.Ops {
				if o.Op == "cp" {
					sum := sha256.Sum256(make([]byte, o.Size))
					copied[o.Path] = hex.EncodeToString(sum[:])
				}
			}
			checkData(t, fsys, s, true, copied)
		})
	}
}

// replayOps runs a scenario's commands through the library, as the
// reference's CLI ran them: every creat, cp and mkdir is its own session
// (first-fit allocation), each file of a creat --multi too; file modes are
// logged with the umask removed. It returns the digest of what each cp
// copied in.
func replayOps(t *testing.T, fsys *famfs.FS, s *golden.Scenario) map[string]string {
	t.Helper()
	copied := map[string]string{}
	srcDir := t.TempDir()
	for k, o := range s.Ops {
		var mode uint32
		if o.Mode != "" {
			m, err := golden.ParseMode(o.Mode)
			if err != nil {
				t.Fatal(err)
			}
			mode = m
		}
		il, err := o.Interleave()
		if err != nil {
			t.Fatal(err)
		}
		switch o.Op {
		case "mkdir":
			if err := fsys.Mkdir(o.Path, famfs.MkdirOptions{Mode: mode, UID: o.UID, GID: o.GID, Parents: o.Parents}); err != nil {
				t.Fatalf("op %d: %v", k, err)
			}
		case "creat":
			fl, err := fsys.Create(o.Path, famfs.CreateOptions{Size: o.Size, Mode: golden.LoggedMode(mode), UID: o.UID, GID: o.GID, Interleave: famfs.Interleave(il)})
			if err != nil {
				t.Fatalf("op %d: %v", k, err)
			}
			if o.Seed != nil {
				if err := fl.Fill(*o.Seed); err != nil {
					t.Fatal(err)
				}
			}
		case "creat_multi":
			var files []*famfs.File
			for _, mf := range o.Files {
				fl, err := fsys.Create(mf.Path, famfs.CreateOptions{Size: mf.Size, Mode: golden.LoggedMode(mode), UID: o.UID, GID: o.GID})
				if err != nil {
					t.Fatalf("op %d: %v", k, err)
				}
				files = append(files, fl)
			}
			for i, fl := range files {
				if err := fl.Fill(o.Files[i].Seed); err != nil {
					t.Fatal(err)
				}
			}
		case "cp":
			content, original := sourceFor(o, uint64(k+1))
			src := filepath.Join(srcDir, fmt.Sprintf("%d-%s", k, filepath.Base(o.Src)))
			if err := os.WriteFile(src, content, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := copyIn(fsys, src, o.Path, famfs.CreateOptions{Mode: golden.LoggedMode(mode), UID: o.UID, GID: o.GID, Interleave: famfs.Interleave(il)}); err != nil {
				t.Fatalf("op %d: %v", k, err)
			}
			sum := sha256.Sum256(content)
			if !original {
				copied[o.Path] = hex.EncodeToString(sum[:])
			} else if hex.EncodeToString(sum[:]) != o.SrcSHA256 {
				t.Fatal("known source mismatch")
			}
		case "add_daxdev":
			d := famfs.Device{Size: o.DDSize, UUID: uuid.MustParse(o.DDUUID), Index: o.DDIndex}
			if err := fsys.AddDevice(d); err != nil {
				t.Fatalf("op %d: %v", k, err)
			}
		default:
			t.Fatalf("op %d: unknown op %q", k, o.Op)
		}
	}
	return copied
}

// readMeta reads the first ImageSize bytes of a device file.
func readMeta(t *testing.T, dev string) []byte {
	t.Helper()
	f, err := os.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, golden.ImageSize)
	if _, err := io.ReadFull(f, b); err != nil {
		t.Fatal(err)
	}
	return b
}

// firstDifference describes where two images first differ.
func firstDifference(got, want []byte) string {
	k := 0
	for k < len(got) && k < len(want) && got[k] == want[k] {
		k++
	}
	where := "superblock region"
	if k >= omf.LogOffset {
		off := uint64(k - omf.LogOffset)
		if off < omf.LogHeaderSize {
			where = fmt.Sprintf("log header byte 0x%x", off)
		} else {
			i := (off - omf.LogHeaderSize) / omf.EntrySize
			where = fmt.Sprintf("log entry %d byte 0x%x", i, (off-omf.LogHeaderSize)%omf.EntrySize)
		}
	}
	if k >= len(got) || k >= len(want) {
		return fmt.Sprintf("lengths %d and %d", len(got), len(want))
	}
	return fmt.Sprintf("device byte 0x%x (%s): 0x%02x, reference 0x%02x", k, where, got[k], want[k])
}

// newGoldenDevice runs mkfs with the scenario's identities and checks the
// summary the reference's mkfs printed (human-readable fsck of the new file
// system).
func newGoldenDevice(t *testing.T, s *golden.Scenario) string {
	t.Helper()
	dev := filepath.Join(t.TempDir(), "dax0.0")
	if _, err := famfs.Mkfs(dev, famfs.MkfsOptions{Size: s.DevSize, SystemUUID: s.SystemUUID, UUID: s.FSUUID, DevUUID: s.DevUUID, DevPath: s.DevicePath}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.MkfsDevsize(); err != nil || n != s.DevSize {
		t.Fatalf("mkfs devsize %d %v, device %d", n, err, s.DevSize)
	}
	return dev
}

// TestGoldenWrite replays each scenario through the library and compares the
// superblock and log it writes with the reference's, byte for byte. Where the
// reference shuffled buckets at random (striped files) the layout is checked
// against the allocation rules instead, and see TestGoldenWriteInterleavedExact.
func TestGoldenWrite(t *testing.T) {
	for _, s := range goldenScenarios(t) {
		t.Run(s.Name, func(t *testing.T) {
			dev := newGoldenDevice(t, s)
			fsys, err := famfs.Open(dev, famfs.OpenOptions{SystemUUID: s.SystemUUID, Rand: rand.New(rand.NewPCG(1, 2))})
			if err != nil {
				t.Fatal(err)
			}
			defer fsys.Close()
			copied := replayOps(t, fsys, s)

			img := readMeta(t, dev)
			d, err := decodeImage(img)
			if err != nil {
				t.Fatal(err)
			}
			exact := !randomLayout(t, s)
			checkManifest(t, s, d, exact)
			checkLayoutRules(t, s, d)
			if exact {
				if !bytes.Equal(img, s.Image) {
					t.Errorf("first 10 MiB differ from the reference image at %s", firstDifference(img, s.Image))
				}
			} else {
				compareModuloStrips(t, img, s.Image, d)
			}

			checkAPI(t, fsys, s)
			checkData(t, fsys, s, false, copied)
			r := fsckOf(t, fsys)
			checkFsckFigures(t, s, r, "Owner")
		})
	}
}

// compareModuloStrips compares two images whose striped files may sit in
// other buckets: everything but the strip offsets must be identical.
func compareModuloStrips(t *testing.T, img, ref []byte, d *decodedImage) {
	t.Helper()
	rd, err := decodeImage(ref)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(img[:omf.LogOffset+omf.LogHeaderSize], ref[:omf.LogOffset+omf.LogHeaderSize]) {
		t.Errorf("superblock or log header differ at %s", firstDifference(img[:omf.LogOffset+omf.LogHeaderSize], ref[:omf.LogOffset+omf.LogHeaderSize]))
	}
	if len(d.entries) != len(rd.entries) {
		t.Fatalf("%d entries, reference %d", len(d.entries), len(rd.entries))
	}
	for i := range d.entries {
		e := d.entries[i]
		if e.Type == omf.EntryFile && e.FMap.Type == omf.ExtInterleave && len(rd.entries[i].FMap.Interleaved) == 1 && len(e.FMap.Interleaved) == 1 {
			// Put the reference's strips in and re-encode.
			e.FMap.Interleaved = []omf.Interleave{{ChunkSize: e.FMap.Interleaved[0].ChunkSize, Strips: slices.Clone(e.FMap.Interleaved[0].Strips)}}
			for k := range e.FMap.Interleaved[0].Strips {
				if k < len(rd.entries[i].FMap.Interleaved[0].Strips) {
					e.FMap.Interleaved[0].Strips[k].Offset = rd.entries[i].FMap.Interleaved[0].Strips[k].Offset
				}
			}
			b := make([]byte, omf.EntrySize)
			if err := e.Encode(b); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, rd.raw[i]) {
				t.Errorf("entry %d (%s) differs from the reference's beyond its strip offsets: %s", i, e.Path, firstDifference(b, rd.raw[i]))
			}
			continue
		}
		if !bytes.Equal(d.raw[i], rd.raw[i]) {
			t.Errorf("entry %d (%s) differs from the reference's: %s", i, e.Path, firstDifference(d.raw[i], rd.raw[i]))
		}
	}
	end := omf.LogOffset + omf.EntryOffset(uint64(len(d.entries)))
	if !bytes.Equal(img[end:], ref[end:]) {
		t.Errorf("bytes past the entries differ")
	}
}

// scriptedShuffle is a rand.Source whose values make the allocator's
// Fisher–Yates shuffles produce chosen bucket orders.
type scriptedShuffle struct {
	vals []uint64
	err  error
}

func (s *scriptedShuffle) Uint64() uint64 {
	if len(s.vals) == 0 {
		s.err = fmt.Errorf("more random numbers drawn than scripted")
		return 0
	}
	v := s.vals[0]
	s.vals = s.vals[1:]
	return v
}

// oneValue is a Source of one scripted value, to probe how rand.Rand maps it.
type oneValue struct {
	v     uint64
	drawn int
}

func (o *oneValue) Uint64() uint64 {
	if o.drawn++; o.drawn > 1 {
		panic(o) // rejected: the reduction wants another draw
	}
	return o.v
}

// probeIntN returns rand.Rand.IntN(n) for a source whose first value is v,
// or -1 if IntN draws more than once.
func probeIntN(v, n uint64) (got int) {
	o := &oneValue{v: v}
	defer func() {
		if r := recover(); r != nil {
			if r != o {
				panic(r)
			}
			got = -1
		}
	}()
	return rand.New(o).IntN(int(n))
}

// sourceValueFor finds a source value that makes rand.Rand.IntN(n) return j
// in one draw, trying the values the usual reductions (mask for powers of
// two, multiply-high otherwise) need.
func sourceValueFor(n, j uint64) (uint64, error) {
	q, _ := bits.Div64(j, 0, n) // floor(j * 2^64 / n)
	for _, v := range []uint64{j, q + 2, q + 1, q} {
		if probeIntN(v, n) == int(j) {
			return v, nil
		}
	}
	return 0, fmt.Errorf("no source value gives IntN(%d) == %d", n, j)
}

// script appends the draws that make a Fisher–Yates shuffle of 0..n-1 (as
// the allocator does it: i from n-1 down to 1, swap with IntN(i+1)) end with
// prefix at the front.
func (s *scriptedShuffle) script(n uint64, prefix []uint64) error {
	want := slices.Clone(prefix)
	for b := uint64(0); b < n; b++ {
		if !slices.Contains(want, b) {
			want = append(want, b)
		}
	}
	cur := make([]uint64, n)
	for i := range cur {
		cur[i] = uint64(i)
	}
	for i := n - 1; i > 0; i-- {
		j := uint64(slices.Index(cur[:i+1], want[i]))
		v, err := sourceValueFor(i+1, j)
		if err != nil {
			return err
		}
		s.vals = append(s.vals, v)
		cur[i], cur[j] = cur[j], cur[i]
	}
	if !slices.Equal(cur, want) {
		return fmt.Errorf("scripted shuffle gives %v, want %v", cur, want)
	}
	return nil
}

// TestGoldenWriteInterleavedExact replays the scenarios with striped files
// with the bucket shuffle scripted to pick the buckets the reference picked:
// then the whole superblock and log must be the reference's, byte for byte.
func TestGoldenWriteInterleavedExact(t *testing.T) {
	n := 0
	for _, s := range goldenScenarios(t) {
		if !randomLayout(t, s) {
			continue
		}
		n++
		t.Run(s.Name, func(t *testing.T) {
			ref, err := decodeImage(s.Image)
			if err != nil {
				t.Fatal(err)
			}
			params := interleaveOf(t, s)
			src := &scriptedShuffle{}
			au := ref.sb.AllocUnit
			for _, e := range ref.entries {
				p := params[e.Path]
				if e.Type != omf.EntryFile || e.FMap.Type != omf.ExtInterleave || !p.Enabled() {
					continue
				}
				bucket := (ref.sb.DevSize / au) / p.NBuckets
				var prefix []uint64
				for _, x := range e.FMap.Interleaved[0].Strips {
					prefix = append(prefix, x.Offset/au/bucket)
				}
				if err := src.script(p.NBuckets, prefix); err != nil {
					t.Fatal(err)
				}
			}
			dev := newGoldenDevice(t, s)
			fsys, err := famfs.Open(dev, famfs.OpenOptions{SystemUUID: s.SystemUUID, Rand: rand.New(src)})
			if err != nil {
				t.Fatal(err)
			}
			defer fsys.Close()
			copied := replayOps(t, fsys, s)
			if src.err != nil || len(src.vals) != 0 {
				t.Fatalf("scripted shuffle: %v, %d values left", src.err, len(src.vals))
			}
			if img := readMeta(t, dev); !bytes.Equal(img, s.Image) {
				t.Errorf("first 10 MiB differ from the reference image at %s", firstDifference(img, s.Image))
			}
			checkData(t, fsys, s, false, copied)
		})
	}
	if n == 0 {
		t.Fatal("no golden scenario has striped files")
	}
}

// copyIn is the reference's cp of one file: src's bytes into a new file dst
// (written before the file is logged), or into dst as it is when dst is a
// file of exactly src's size.
func copyIn(fsys *famfs.FS, src, dst string, o famfs.CreateOptions) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if i, err := fsys.Stat(dst); err == nil && !i.IsDir() && i.Size == uint64(st.Size()) {
		f, err := fsys.OpenFile(dst)
		if err != nil {
			return err
		}
		return f.CopyFrom(in)
	}
	o.Size = uint64(st.Size())
	return fsys.Batch(func(b *famfs.Batch) error {
		sf, err := b.Create(dst, o)
		if err != nil {
			return err
		}
		_, err = sf.ReadFrom(in)
		return err
	})
}
