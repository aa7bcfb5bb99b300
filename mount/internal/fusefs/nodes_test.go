package fusefs

import (
	"bytes"
	"slices"
	"syscall"
	"testing"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/internal/omf"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// The attributes lookup and getattr give: the log's mode, owner and size,
// the log's inode number, the allocation unit as st_blksize, the mount's
// start as every time, and the configured timeouts.
func TestLookupGetattr(t *testing.T) {
	fsys := openFS(t, mkfs(t, false), masterID, famfs.OpenOptions{})
	if err := fsys.Mkdir("d", famfs.MkdirOptions{Mode: 0o750, UID: 1000, GID: 100}); err != nil {
		t.Fatal(err)
	}
	create(t, fsys, "d/f", famfs.CreateOptions{Size: 5000, Mode: 0o640, UID: 1001, GID: 101})
	if err := fsys.Symlink("d/f", "l", famfs.SymlinkOptions{UID: 7, GID: 8}); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, fsys, defaultConfig())
	au := uint32(fsys.Superblock().AllocUnit)
	nd, _ := fsys.Lookup("d")
	nf, _ := fsys.Lookup("d/f")

	d, errno := e.lookup(fuse.FUSE_ROOT_ID, "d")
	if errno != 0 {
		t.Fatal(errno)
	}
	if a := d.Attr; a.Mode != syscall.S_IFDIR|0o750 || a.Uid != 1000 || a.Gid != 100 || a.Ino != nd.Ino() || a.Nlink != 2 || a.Size != 4096 || a.Blksize != au {
		t.Errorf("d: %+v", a)
	}
	if d.EntryValid != 3600 || d.AttrValid != 3600 {
		t.Errorf("d: timeouts %d %d", d.EntryValid, d.AttrValid)
	}
	f, errno := e.lookup(d.NodeId, "f")
	if errno != 0 {
		t.Fatal(errno)
	}
	a := f.Attr
	if a.Mode != syscall.S_IFREG|0o640 || a.Uid != 1001 || a.Gid != 101 || a.Size != 5000 || a.Ino != nf.Ino() ||
		a.Nlink != 1 || a.Blksize != au || a.Blocks != nf.Allocated()/512 {
		t.Errorf("f: %+v", a)
	}
	if a.Mtime != uint64(started.Unix()) || a.Mtimensec != uint32(started.Nanosecond()) || a.Atime != a.Mtime || a.Ctime != a.Mtime {
		t.Errorf("f: times %+v", a)
	}
	ga, errno := e.getattr(f.NodeId)
	if errno != 0 || ga.Attr != a || ga.AttrValid != 3600 {
		t.Errorf("getattr: %v %+v, want %+v", errno, ga.Attr, a)
	}
	if _, errno := e.lookup(d.NodeId, "missing"); errno != syscall.ENOENT {
		t.Errorf("missing: %v", errno)
	}

	l, errno := e.lookup(fuse.FUSE_ROOT_ID, "l")
	if errno != 0 || l.Attr.Mode != syscall.S_IFLNK|0o777 || l.Attr.Size != 3 || l.Attr.Uid != 7 {
		t.Errorf("l: %v %+v", errno, l.Attr)
	}
	h := e.hdr(l.NodeId)
	if target, st := e.raw.Readlink(nil, &h); st != fuse.OK || string(target) != "d/f" {
		t.Errorf("readlink: %v %q", st, target)
	}

	root, errno := e.getattr(fuse.FUSE_ROOT_ID)
	if errno != 0 || root.Attr.Mode&syscall.S_IFMT != syscall.S_IFDIR || root.Attr.Ino != fsys.Root().Ino() {
		t.Errorf("root: %v %+v", errno, root.Attr)
	}
	c := map[string]uint64{}
	e.tree.Counters(c)
	if c["lookup"] != 4 || c["getattr"] != 2 || c["readlink"] != 1 {
		t.Errorf("counters: %v", c)
	}
}

// .meta holds the raw superblock and log, read-only, as files of their
// regions' sizes.
func TestMeta(t *testing.T) {
	fsys := openFS(t, mkfs(t, false), masterID, famfs.OpenOptions{})
	e := newEnv(t, fsys, defaultConfig())
	sb := fsys.Superblock()
	m, errno := e.lookup(fuse.FUSE_ROOT_ID, famfs.MetaDir)
	if errno != 0 || m.Attr.Mode != syscall.S_IFDIR|0o755 || m.Attr.Ino != inoMeta || m.NodeId == 0 {
		t.Fatalf(".meta: %v %+v", errno, m.Attr)
	}
	if ga, errno := e.getattr(m.NodeId); errno != 0 || ga.Attr.Ino != inoMeta {
		t.Errorf(".meta getattr: %v %+v", errno, ga.Attr)
	}
	for _, c := range []struct {
		name      string
		ino       uint64
		off, size uint64
	}{
		{famfs.MetaSuperblock, inoSuperblock, 0, omf.SuperblockRegion},
		{famfs.MetaLog, inoLog, sb.LogOffset, sb.LogLen},
	} {
		f, errno := e.lookup(m.NodeId, c.name)
		if errno != 0 || f.Attr.Mode != syscall.S_IFREG|0o444 || f.Attr.Ino != c.ino || f.Attr.Size != c.size {
			t.Errorf("%s: %v %+v", c.name, errno, f.Attr)
			continue
		}
		if ga, errno := e.getattr(f.NodeId); errno != 0 || ga.Attr.Size != c.size {
			t.Errorf("%s getattr: %v %+v", c.name, errno, ga.Attr)
		}
		if _, errno := e.open(f.NodeId, syscall.O_RDWR); errno != syscall.EACCES {
			t.Errorf("%s open rw: %v", c.name, errno)
		}
		oo, errno := e.open(f.NodeId, syscall.O_RDONLY)
		if errno != 0 || oo.OpenFlags&fuse.FOPEN_DIRECT_IO == 0 {
			t.Fatalf("%s open: %v %+v", c.name, errno, oo)
		}
		got, errno := e.read(f.NodeId, oo.Fh, 0, 4096)
		want := make([]byte, 4096)
		fsys.ReadMeta(want, c.off)
		if errno != 0 || !bytes.Equal(got, want) {
			t.Errorf("%s read: %v, %d bytes", c.name, errno, len(got))
		}
		if got, errno := e.read(f.NodeId, oo.Fh, int64(c.size)-10, 4096); errno != 0 || len(got) != 10 {
			t.Errorf("%s read at the end: %v, %d bytes", c.name, errno, len(got))
		}
		if got, errno := e.read(f.NodeId, oo.Fh, int64(c.size), 4096); errno != 0 || len(got) != 0 {
			t.Errorf("%s read past the end: %v, %d bytes", c.name, errno, len(got))
		}
		if _, errno := e.setattr(f.NodeId, fuse.SetAttrIn{SetAttrInCommon: fuse.SetAttrInCommon{Valid: fuse.FATTR_MODE, Mode: 0o666}}); errno != syscall.EPERM {
			t.Errorf("%s chmod: %v", c.name, errno)
		}
		e.release(f.NodeId, oo.Fh)
	}
	// Nothing in .meta goes away or appears.
	for _, name := range []string{famfs.MetaLog, famfs.MetaSuperblock, "nothing"} {
		if errno := e.unlink(m.NodeId, name); errno != syscall.EPERM {
			t.Errorf("unlink .meta/%s: %v, want EPERM", name, errno)
		}
		if errno := e.rmdir(m.NodeId, name); errno != syscall.EPERM {
			t.Errorf("rmdir .meta/%s: %v, want EPERM", name, errno)
		}
	}
	if _, errno := e.lookup(m.NodeId, famfs.MetaLog); errno != 0 {
		t.Errorf(".meta/.log after the refused unlink: %v", errno)
	}
	var eo fuse.EntryOut
	if errno := e.raw.Mkdir(nil, &fuse.MkdirIn{InHeader: e.hdr(m.NodeId), Mode: 0o755}, "d", &eo); errno != fuse.Status(syscall.EPERM) {
		t.Errorf("mkdir in .meta: %v, want EPERM", errno)
	}
	if errno := e.raw.Rename(nil, &fuse.RenameIn{InHeader: e.hdr(m.NodeId), Newdir: m.NodeId}, famfs.MetaLog, "x"); errno != fuse.Status(syscall.EPERM) {
		t.Errorf("rename in .meta: %v, want EPERM", errno)
	}
}

// A listing has ., .., the mount's .meta at the root (hiding a logged one)
// and the directory's entries with their types and inode numbers.
func TestReaddir(t *testing.T) {
	fsys := openFS(t, mkfs(t, false), masterID, famfs.OpenOptions{})
	if err := fsys.Mkdir("d", famfs.MkdirOptions{Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	create(t, fsys, "f", famfs.CreateOptions{Size: 1, Mode: 0o644})
	create(t, fsys, "d/g", famfs.CreateOptions{Size: 1, Mode: 0o644})
	if err := fsys.Symlink("f", "l", famfs.SymlinkOptions{}); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, fsys, defaultConfig())
	ents, outs, flags := e.readdir(fuse.FUSE_ROOT_ID)
	type ent struct {
		name string
		mode uint32
	}
	var got []ent
	for _, de := range ents {
		got = append(got, ent{de.Name, de.Mode & syscall.S_IFMT})
	}
	want := []ent{{".", syscall.S_IFDIR}, {"..", syscall.S_IFDIR}, {famfs.MetaDir, syscall.S_IFDIR},
		{"d", syscall.S_IFDIR}, {"f", syscall.S_IFREG}, {"l", syscall.S_IFLNK}}
	slices.SortFunc(got[3:], func(a, b ent) int { return cmpString(a.name, b.name) })
	if !slices.Equal(got, want) {
		t.Errorf("root: %v, want %v", got, want)
	}
	if flags&fuse.FOPEN_CACHE_DIR == 0 {
		t.Errorf("opendir flags %#x: the listing is cacheable", flags)
	}
	nf, _ := fsys.Lookup("f")
	for i, de := range ents {
		if de.Name == "f" && (de.Ino != nf.Ino() || outs[i].Attr.Size != 1) {
			t.Errorf("f: %+v %+v", de, outs[i].Attr)
		}
	}
	d := e.walk("d")
	ents, _, _ = e.readdir(d)
	if len(ents) != 3 || ents[2].Name != "g" {
		t.Errorf("d: %+v", ents)
	}
	// No cache time: no cached listing either.
	e0 := newEnv(t, fsys, Config{})
	if _, _, flags := e0.readdir(fuse.FUSE_ROOT_ID); flags&fuse.FOPEN_CACHE_DIR != 0 {
		t.Errorf("opendir flags %#x with timeout 0", flags)
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// pattern is n bytes that differ at every offset that matters here.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>12)
	}
	return b
}

// Reads of a contiguous file come from the device mapping; an interleaved
// file's reads that cross a chunk are copied. Both see the file's bytes,
// and nothing past its end.
func TestRead(t *testing.T) {
	fsys := openFS(t, mkfs(t, false), masterID, famfs.OpenOptions{})
	const size = 5<<20 + 1234
	data := pattern(size)
	for _, name := range []string{"contig", "striped"} {
		o := famfs.CreateOptions{Size: size, Mode: 0o644}
		if name == "striped" {
			o.Interleave = famfs.Interleave{NBuckets: 4, NStrips: 2, ChunkSize: 2 << 20}
		}
		f := create(t, fsys, name, o)
		if _, err := f.WriteAt(data, 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, coherent := range []bool{false, true} {
		cfg := defaultConfig()
		cfg.Coherent = coherent
		e := newEnv(t, fsys, cfg)
		for _, name := range []string{"contig", "striped"} {
			id := e.walk(name)
			oo, errno := e.open(id, syscall.O_RDONLY)
			if errno != 0 || oo.OpenFlags != fuse.FOPEN_DIRECT_IO {
				t.Fatalf("%s: open %v %+v", name, errno, oo)
			}
			for _, r := range []struct {
				off  int64
				size int
			}{
				{0, 4096}, {1 << 20, 1 << 20}, {2<<20 - 512, 1 << 20}, {4<<20 - 100, 200}, {size - 100, 4096}, {size, 4096}, {size + 5000, 10},
			} {
				got, errno := e.read(id, oo.Fh, r.off, r.size)
				end := min(int64(size), r.off+int64(r.size))
				var want []byte
				if r.off < size {
					want = data[r.off:end]
				}
				if errno != 0 || !bytes.Equal(got, want) {
					t.Errorf("%s coherent=%v read %d+%d: %v, %d bytes, want %d", name, coherent, r.off, r.size, errno, len(got), len(want))
				}
			}
			if _, errno := e.read(id, oo.Fh, -1, 10); errno != syscall.EIO {
				t.Errorf("negative offset: %v", errno)
			}
			e.release(id, oo.Fh)
		}
		c := map[string]uint64{}
		e.tree.Counters(c)
		if c["open"] != 2 || c["read"] != 14 || c["read_bytes"] == 0 {
			t.Errorf("counters: %v", c)
		}
	}
}

// Writes stay within the file: a write past its end is EFBIG, one that
// crosses it is short. A client writes only when its data is writable.
func TestWrite(t *testing.T) {
	dev := mkfs(t, false)
	fsys := openFS(t, dev, masterID, famfs.OpenOptions{})
	create(t, fsys, "f", famfs.CreateOptions{Size: 5000, Mode: 0o666})
	for _, coherent := range []bool{false, true} {
		cfg := defaultConfig()
		cfg.Coherent = coherent
		e := newEnv(t, fsys, cfg)
		id := e.walk("f")
		fh := e.mustOpen(id, syscall.O_RDWR)
		if n, errno := e.write(id, fh, 10, []byte("hello")); n != 5 || errno != 0 {
			t.Errorf("write: %d %v", n, errno)
		}
		if got, _ := e.read(id, fh, 10, 5); string(got) != "hello" {
			t.Errorf("read back %q", got)
		}
		if n, errno := e.write(id, fh, 4998, []byte("0123456789")); n != 2 || errno != 0 {
			t.Errorf("write across the end: %d %v", n, errno)
		}
		for _, off := range []int64{5000, 1 << 30} {
			if n, errno := e.write(id, fh, off, []byte("x")); n != 0 || errno != syscall.EFBIG {
				t.Errorf("write at %d: %d %v", off, n, errno)
			}
		}
		if _, errno := e.write(id, fh, -1, []byte("x")); errno != syscall.EIO {
			t.Errorf("negative offset: %v", errno)
		}
		fin := fuse.FsyncIn{InHeader: e.hdr(id), Fh: fh}
		if st := e.raw.Fsync(nil, &fin); st != fuse.OK {
			t.Errorf("fsync: %v", st)
		}
		flin := fuse.FlushIn{InHeader: e.hdr(id), Fh: fh}
		if st := e.raw.Flush(nil, &flin); st != fuse.OK {
			t.Errorf("flush: %v", st)
		}
		e.release(id, fh)
		c := map[string]uint64{}
		e.tree.Counters(c)
		if c["write"] != 4 || c["write_bytes"] != 7 || c["refused"] != 2 {
			t.Errorf("counters: %v", c)
		}
	}

	// A client mount: read-only data unless asked for rw.
	ro := newEnv(t, openFS(t, dev, clientID, famfs.OpenOptions{}), defaultConfig())
	id := ro.walk("f")
	for _, fl := range []uint32{syscall.O_WRONLY, syscall.O_RDWR} {
		if _, errno := ro.open(id, fl); errno != syscall.EROFS {
			t.Errorf("client open %#o: %v", fl, errno)
		}
	}
	rw := newEnv(t, openFS(t, dev, clientID, famfs.OpenOptions{WritableData: true}), defaultConfig())
	id = rw.walk("f")
	fh := rw.mustOpen(id, syscall.O_RDWR)
	if n, errno := rw.write(id, fh, 0, []byte("client")); n != 6 || errno != 0 {
		t.Errorf("client rw write: %d %v", n, errno)
	}
	rw.release(id, fh)
	// The master's -o ro.
	mro := newEnv(t, openFS(t, dev, masterID, famfs.OpenOptions{ReadOnly: true}), defaultConfig())
	if _, errno := mro.open(mro.walk("f"), syscall.O_RDWR); errno != syscall.EROFS {
		t.Errorf("master ro open: %v", errno)
	}
}

// Every namespace change but delete is refused with EPERM and changes
// nothing; chmod, chown and time changes are accepted; a truncate to the
// same size is, and fallocate within the file.
func TestRefused(t *testing.T) {
	fsys := openFS(t, mkfs(t, false), masterID, famfs.OpenOptions{})
	if err := fsys.Mkdir("d", famfs.MkdirOptions{Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	create(t, fsys, "f", famfs.CreateOptions{Size: 5000, Mode: 0o644})
	e := newEnv(t, fsys, defaultConfig())
	f, d := e.walk("f"), e.walk("d")
	root := uint64(fuse.FUSE_ROOT_ID)
	var eo fuse.EntryOut
	var co fuse.CreateOut
	h := e.hdr(root)
	for op, errno := range map[string]syscall.Errno{
		"mkdir":        syscall.Errno(e.raw.Mkdir(nil, &fuse.MkdirIn{InHeader: h, Mode: 0o755}, "new", &eo)),
		"mknod":        syscall.Errno(e.raw.Mknod(nil, &fuse.MknodIn{InHeader: h, Mode: syscall.S_IFIFO | 0o644}, "new", &eo)),
		"create":       syscall.Errno(e.raw.Create(nil, &fuse.CreateIn{InHeader: h, Mode: 0o644}, "new", &co)),
		"rename":       syscall.Errno(e.raw.Rename(nil, &fuse.RenameIn{InHeader: h, Newdir: d}, "f", "g")),
		"link":         syscall.Errno(e.raw.Link(nil, &fuse.LinkIn{InHeader: e.hdr(d), Oldnodeid: f}, "g", &eo)),
		"symlink":      syscall.Errno(e.raw.Symlink(nil, &h, "f", "s", &eo)),
		"unlink":       e.unlink(root, "f"), // not made for delete
		"rmdir":        e.rmdir(root, "d"),
		"unlink .meta": e.unlink(root, famfs.MetaDir),
	} {
		if errno != syscall.EPERM {
			t.Errorf("%s: %v, want EPERM", op, errno)
		}
	}
	for _, c := range []struct {
		node uint64
		size uint64
		want syscall.Errno
	}{{f, 0, syscall.EPERM}, {f, 1 << 30, syscall.EPERM}, {f, 5000, 0}, {d, 4096, syscall.EPERM}} {
		if _, errno := e.setattr(c.node, fuse.SetAttrIn{SetAttrInCommon: fuse.SetAttrInCommon{Valid: fuse.FATTR_SIZE, Size: c.size}}); errno != c.want {
			t.Errorf("truncate %d to %d: %v, want %v", c.node, c.size, errno, c.want)
		}
	}
	if _, errno := e.open(f, syscall.O_RDWR|syscall.O_TRUNC); errno != syscall.EPERM {
		t.Errorf("open O_TRUNC: %v", errno)
	}
	fh := e.mustOpen(f, syscall.O_RDWR)
	for _, c := range []struct {
		off, size uint64
		mode      uint32
		want      syscall.Errno
	}{{0, 5000, 0, 0}, {0, 5001, 0, syscall.EPERM}, {0, 10, 1, syscall.EPERM}} {
		in := fuse.FallocateIn{InHeader: e.hdr(f), Fh: fh, Offset: c.off, Length: c.size, Mode: c.mode}
		if errno := syscall.Errno(e.raw.Fallocate(nil, &in)); errno != c.want {
			t.Errorf("fallocate %+v: %v", c, errno)
		}
	}
	e.release(f, fh)
	if _, err := fsys.Lookup("new"); err == nil {
		t.Error("a refused create made a file")
	}
	if a, _ := e.getattr(f); a.Attr.Size != 5000 {
		t.Errorf("size %d after refused truncates", a.Attr.Size)
	}
	// Time changes are accepted (and ignored).
	if _, errno := e.setattr(f, fuse.SetAttrIn{SetAttrInCommon: fuse.SetAttrInCommon{Valid: fuse.FATTR_MTIME, Mtime: 1}}); errno != 0 {
		t.Errorf("utimes: %v", errno)
	}
	c := map[string]uint64{}
	e.tree.Counters(c)
	if c["refused"] != 15 {
		t.Errorf("refused %d", c["refused"])
	}
}

// chmod and chown are kept in memory: getattr and later lookups show them,
// the file type stays.
func TestOverrides(t *testing.T) {
	fsys := openFS(t, mkfs(t, false), masterID, famfs.OpenOptions{})
	create(t, fsys, "f", famfs.CreateOptions{Size: 1, Mode: 0o644, UID: 1, GID: 2})
	e := newEnv(t, fsys, defaultConfig())
	f := e.walk("f")
	out, errno := e.setattr(f, fuse.SetAttrIn{SetAttrInCommon: fuse.SetAttrInCommon{Valid: fuse.FATTR_MODE, Mode: syscall.S_IFREG | 0o4600}})
	if errno != 0 || out.Attr.Mode != syscall.S_IFREG|0o4600 || out.Attr.Uid != 1 {
		t.Fatalf("chmod: %v %+v", errno, out.Attr)
	}
	out, errno = e.setattr(f, fuse.SetAttrIn{SetAttrInCommon: fuse.SetAttrInCommon{Valid: fuse.FATTR_UID | fuse.FATTR_GID, Owner: fuse.Owner{Uid: 10, Gid: 20}}})
	if errno != 0 || out.Attr.Mode != syscall.S_IFREG|0o4600 || out.Attr.Uid != 10 || out.Attr.Gid != 20 {
		t.Fatalf("chown: %v %+v", errno, out.Attr)
	}
	if a, _ := e.getattr(f); a.Attr.Mode != syscall.S_IFREG|0o4600 || a.Attr.Uid != 10 || a.Attr.Gid != 20 {
		t.Errorf("getattr: %+v", a.Attr)
	}
	if l, _ := e.lookup(fuse.FUSE_ROOT_ID, "f"); l.Attr.Mode != syscall.S_IFREG|0o4600 || l.Attr.Uid != 10 {
		t.Errorf("lookup: %+v", l.Attr)
	}
	// Another mount of the same file system knows nothing of them.
	if l, _ := newEnv(t, fsys, defaultConfig()).lookup(fuse.FUSE_ROOT_ID, "f"); l.Attr.Mode != syscall.S_IFREG|0o644 || l.Attr.Uid != 1 {
		t.Errorf("other tree: %+v", l.Attr)
	}
}

// statfs reports famfs capacity and free space in 4 KiB blocks and the
// log's slots as inodes.
func TestStatfs(t *testing.T) {
	for _, reclaim := range []bool{false, true} {
		fsys := openFS(t, mkfs(t, reclaim), masterID, famfs.OpenOptions{})
		create(t, fsys, "f", famfs.CreateOptions{Size: 3 << 20, Mode: 0o644})
		e := newEnv(t, fsys, defaultConfig())
		var out fuse.StatfsOut
		h := e.hdr(fuse.FUSE_ROOT_ID)
		if st := e.raw.StatFs(nil, &h, &out); st != fuse.OK {
			t.Fatal(st)
		}
		u := fsys.Stats()
		next, slots, _ := fsys.LogStatus()
		if out.Bsize != 4096 || out.Blocks != u.Capacity/4096 || out.Bfree != u.Free/4096 || out.Bavail != out.Bfree ||
			out.Files != slots || out.Ffree != slots-next || out.NameLen != omf.MaxRelPath {
			t.Errorf("reclaim=%v: %+v (usage %+v, log %d/%d)", reclaim, out, u, next, slots)
		}
	}
}

// Once the device is re-made under the mount every operation answers EIO.
func TestGone(t *testing.T) {
	fsys := openFS(t, mkfs(t, true), masterID, famfs.OpenOptions{})
	create(t, fsys, "f", famfs.CreateOptions{Size: 1, Mode: 0o644})
	if err := fsys.Symlink("f", "l", famfs.SymlinkOptions{}); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, fsys, defaultConfig())
	f, l, m := e.walk("f"), e.walk("l"), e.walk(famfs.MetaDir)
	fh := e.mustOpen(f, syscall.O_RDWR)
	if _, gone := e.tree.Gone(); gone {
		t.Fatal("gone before MarkGone")
	}
	e.tree.MarkGone("re-made")
	if msg, gone := e.tree.Gone(); !gone || msg != "re-made" {
		t.Fatalf("Gone: %q %v", msg, gone)
	}
	root := uint64(fuse.FUSE_ROOT_ID)
	_, lookupErr := e.lookup(root, "f")
	_, getattrErr := e.getattr(f)
	_, metaErr := e.getattr(m)
	_, openErr := e.open(f, syscall.O_RDONLY)
	_, readErr := e.read(f, fh, 0, 1)
	_, writeErr := e.write(f, fh, 0, []byte("x"))
	_, chmodErr := e.setattr(f, fuse.SetAttrIn{SetAttrInCommon: fuse.SetAttrInCommon{Valid: fuse.FATTR_MODE, Mode: 0o600}})
	_, truncErr := e.setattr(f, fuse.SetAttrIn{SetAttrInCommon: fuse.SetAttrInCommon{Valid: fuse.FATTR_SIZE}})
	h := e.hdr(l)
	_, readlinkErr := e.raw.Readlink(nil, &h)
	var so fuse.StatfsOut
	rh := e.hdr(root)
	var eo fuse.EntryOut
	var oo fuse.OpenOut
	for op, errno := range map[string]syscall.Errno{
		"lookup": lookupErr, "getattr": getattrErr, ".meta getattr": metaErr, "open": openErr, "read": readErr,
		"write": writeErr, "chmod": chmodErr, "truncate": truncErr, "readlink": syscall.Errno(readlinkErr),
		"statfs":  syscall.Errno(e.raw.StatFs(nil, &rh, &so)),
		"mkdir":   syscall.Errno(e.raw.Mkdir(nil, &fuse.MkdirIn{InHeader: rh}, "x", &eo)),
		"opendir": syscall.Errno(e.raw.OpenDir(nil, &fuse.OpenIn{InHeader: rh}, &oo)),
		"unlink":  e.unlink(root, "f"),
	} {
		if errno != syscall.EIO {
			t.Errorf("%s: %v, want EIO", op, errno)
		}
	}
	e.release(f, fh)
	if _, err := fsys.Lookup("f"); err != nil {
		t.Error("unlink on a dead mount removed the file")
	}
}

// Notify tells the kernel of new entries under directories it knows, and
// drops their cached listings; Invalidate drops a file's pages.
func TestNotify(t *testing.T) {
	dev := mkfs(t, false)
	master := openFS(t, dev, masterID, famfs.OpenOptions{})
	for _, d := range []string{"known", "unknown"} {
		if err := master.Mkdir(d, famfs.MkdirOptions{Mode: 0o755}); err != nil {
			t.Fatal(err)
		}
	}
	create(t, master, "known/f", famfs.CreateOptions{Size: 1, Mode: 0o644})
	client := openFS(t, dev, clientID, famfs.OpenOptions{})
	e := newEnv(t, client, defaultConfig())
	known := e.walk("known")
	f := e.walk("known", "f")
	create(t, master, "known/new", famfs.CreateOptions{Size: 1, Mode: 0o644})
	create(t, master, "unknown/new", famfs.CreateOptions{Size: 1, Mode: 0o644})
	create(t, master, "top", famfs.CreateOptions{Size: 1, Mode: 0o644})
	st, err := client.Refresh()
	if err != nil || len(st.Added) != 3 {
		t.Fatalf("refresh: %v %+v", err, st)
	}
	e.tree.Notify(st.Added)
	slices.Sort(e.notes.entries)
	if !slices.Equal(e.notes.entries, []string{"new", "top"}) {
		t.Errorf("entries notified: %v", e.notes.entries)
	}
	slices.Sort(e.notes.inodes)
	if !slices.Equal(e.notes.inodes, []uint64{fuse.FUSE_ROOT_ID, known}) {
		t.Errorf("listings dropped: %v (root 1, known %d)", e.notes.inodes, known)
	}
	c := map[string]uint64{}
	e.tree.Counters(c)
	if c["notifications"] != 2 {
		t.Errorf("notifications %d", c["notifications"])
	}
	// The new entry is there to look up.
	if _, errno := e.lookup(known, "new"); errno != 0 {
		t.Errorf("lookup of the new entry: %v", errno)
	}
	e.notes.inodes = nil
	if err := e.tree.Invalidate("known/f"); err != nil {
		t.Fatal(err)
	}
	if err := e.tree.Invalidate("unknown/new"); err != nil { // not looked up: nothing to drop
		t.Fatal(err)
	}
	if !slices.Equal(e.notes.inodes, []uint64{f}) {
		t.Errorf("invalidate: %v, want [%d]", e.notes.inodes, f)
	}
	if err := e.tree.Invalidate("missing"); err == nil {
		t.Error("invalidate of a missing file")
	}
}

// A handle holds its file until it is released; every open answers with
// the configured cache flags.
func TestOpenHold(t *testing.T) {
	fsys := openFS(t, mkfs(t, true), masterID, famfs.OpenOptions{})
	create(t, fsys, "f", famfs.CreateOptions{Size: 1, Mode: 0o644})
	cfg := defaultConfig()
	cfg.OpenFlags = fuse.FOPEN_KEEP_CACHE
	e := newEnv(t, fsys, cfg)
	f := e.walk("f")
	oo, errno := e.open(f, syscall.O_RDONLY)
	if errno != 0 || oo.OpenFlags != fuse.FOPEN_KEEP_CACHE {
		t.Fatalf("open: %v %+v", errno, oo)
	}
	e.release(f, oo.Fh)
}
