package fusefs

import (
	"context"
	"errors"
	"io"
	"sync"
	"syscall"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/mount/internal/errmap"
	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// node is what every famfs inode embeds.
type node struct {
	fs.Inode
	t *Tree
	n famfs.Node
}

func (x *node) fill(a *fuse.Attr) {
	t := x.t
	n := x.n
	a.Ino = n.Ino()
	a.Mode = n.Perm()
	a.Uid, a.Gid = n.UID(), n.GID()
	switch {
	case n.IsDir():
		a.Mode |= syscall.S_IFDIR
		a.Nlink = 2
		a.Size = 4096
	case n.IsSymlink():
		a.Mode = syscall.S_IFLNK | 0o777
		a.Nlink = 1
		a.Size = uint64(len(n.Target()))
	default:
		a.Mode |= syscall.S_IFREG
		a.Nlink = 1
		a.Size = n.Size()
		a.Blocks = n.Allocated() / 512
	}
	a.Blksize = t.blksize
	t.setTimes(a)
	t.overrides.apply(n.Ino(), a)
}

func (x *node) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if err := x.t.alive(); err != 0 {
		return err
	}
	x.t.stats.getattr.Add(1)
	x.fill(&out.Attr)
	out.SetTimeout(x.t.cfg.Timeout)
	return 0
}

// Setattr accepts chmod and chown (kept for the life of the mount, as the
// reference's FUSE daemon does) and time changes (ignored: the log has no
// times); any size change is refused.
func (x *node) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if err := x.t.alive(); err != 0 {
		return err
	}
	if sz, ok := in.GetSize(); ok && (x.n.IsDir() || sz != x.n.Size()) {
		return x.t.refuse("truncate", x.n.Path())
	}
	x.t.overrides.set(x.n.Ino(), in)
	x.fill(&out.Attr)
	out.SetTimeout(x.t.cfg.Timeout)
	return 0
}

func (x *node) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	return x.t.statfs(out)
}

// Namespace changes are the master CLI's business, never the mount's.

func (x *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, x.t.refuse("mkdir", join(x.n, name))
}
func (x *node) Mknod(ctx context.Context, name string, mode, dev uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, x.t.refuse("mknod", join(x.n, name))
}
func (x *node) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, x.t.refuse("create", join(x.n, name))
}
func (x *node) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, x.t.refuse("link", join(x.n, name))
}
func (x *node) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, x.t.refuse("symlink", join(x.n, name))
}
func (x *node) Unlink(ctx context.Context, name string) syscall.Errno {
	return x.t.remove(ctx, x, name, false)
}
func (x *node) Rmdir(ctx context.Context, name string) syscall.Errno {
	return x.t.remove(ctx, x, name, true)
}
func (x *node) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	return x.t.refuse("rename", join(x.n, name))
}

func join(n famfs.Node, name string) string {
	if p := n.Path(); p != "" {
		return p + "/" + name
	}
	return name
}

var (
	_ fs.NodeMkdirer   = (*node)(nil)
	_ fs.NodeCreater   = (*node)(nil)
	_ fs.NodeRenamer   = (*node)(nil)
	_ fs.NodeSetattrer = (*node)(nil)
)

// dirNode is a directory of the namespace (the root included).
type dirNode struct{ node }

func (d *dirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	t := d.t
	if err := t.alive(); err != 0 {
		return nil, err
	}
	t.stats.lookup.Add(1)
	if d.n.IsRoot() && name == metaName {
		ch := d.GetChild(metaName)
		if ch == nil {
			return nil, syscall.ENOENT
		}
		ch.Operations().(*metaDir).fill(&out.Attr)
		t.entryTimeouts(out)
		return ch, 0
	}
	child, ok := d.n.Child(name)
	if !ok {
		out.SetEntryTimeout(t.negativeTimeout())
		return nil, syscall.ENOENT
	}
	in := t.inodeFor(ctx, &d.Inode, child)
	in.Operations().(interface{ fill(*fuse.Attr) }).fill(&out.Attr)
	t.entryTimeouts(out)
	return in, 0
}

// OpendirHandle lists the directory once per open and lets the kernel cache
// the listing (FOPEN_CACHE_DIR); the poller invalidates it when replay adds
// an entry.
func (d *dirNode) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	t := d.t
	if err := t.alive(); err != 0 {
		return nil, 0, err
	}
	t.stats.readdir.Add(1)
	parentIno := d.n.Ino()
	if p, ok := d.n.Parent(); ok {
		parentIno = p.Ino()
	}
	list := []fuse.DirEntry{
		{Name: ".", Mode: syscall.S_IFDIR, Ino: d.n.Ino()},
		{Name: "..", Mode: syscall.S_IFDIR, Ino: parentIno},
	}
	if d.n.IsRoot() {
		list = append(list, fuse.DirEntry{Name: metaName, Mode: syscall.S_IFDIR, Ino: inoMeta})
	}
	for _, c := range d.n.Children() {
		if d.n.IsRoot() && c.Name() == metaName {
			continue // the mount's own .meta hides a logged one
		}
		mode := uint32(syscall.S_IFREG)
		switch {
		case c.IsDir():
			mode = syscall.S_IFDIR
		case c.IsSymlink():
			mode = syscall.S_IFLNK
		}
		list = append(list, fuse.DirEntry{Name: c.Name(), Mode: mode, Ino: c.Ino()})
	}
	var ff uint32
	if t.cfg.Timeout > 0 {
		ff = fuse.FOPEN_CACHE_DIR
	}
	return &dirHandle{list: list}, ff, 0
}

// dirHandle is an open directory's listing.
type dirHandle struct {
	mu   sync.Mutex
	list []fuse.DirEntry
	pos  int
}

func (h *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pos >= len(h.list) {
		return nil, 0
	}
	e := h.list[h.pos]
	h.pos++
	return &e, 0
}

func (h *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pos = int(min(off, uint64(len(h.list))))
	return 0
}

var (
	_ fs.NodeLookuper       = (*dirNode)(nil)
	_ fs.NodeOpendirHandler = (*dirNode)(nil)
	_ fs.FileReaddirenter   = (*dirHandle)(nil)
	_ fs.FileSeekdirer      = (*dirHandle)(nil)
)

// linkNode is a symbolic link of the namespace: the kernel follows it with
// the target Readlink gives (docs/format.md, "SYMLINK").
type linkNode struct{ node }

func (l *linkNode) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	if err := l.t.alive(); err != 0 {
		return nil, err
	}
	l.t.stats.readlink.Add(1)
	return []byte(l.n.Target()), 0
}

var _ fs.NodeReadlinker = (*linkNode)(nil)

// fileNode is a regular file of the namespace.
type fileNode struct {
	node
	once sync.Once
	file *famfs.File
	err  error
}

func (f *fileNode) handle() (*famfs.File, error) {
	f.once.Do(func() { f.file, f.err = f.n.Open() })
	return f.file, f.err
}

func (f *fileNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	t := f.t
	if err := t.alive(); err != 0 {
		return nil, 0, err
	}
	t.stats.open.Add(1)
	if flags&syscall.O_TRUNC != 0 && f.n.Size() > 0 {
		return nil, 0, t.refuse("truncate", f.n.Path())
	}
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY && !t.fsys.DataWritable() {
		return nil, 0, syscall.EROFS
	}
	file, err := f.handle()
	if err != nil {
		t.lg.Warn("open", "path", f.n.Path(), "err", err)
		return nil, 0, errmap.Errno(err)
	}
	// The handle holds the file: were it deleted, its space waits for the
	// release (docs/delete.md, "Holds"). A hold refused: the file is
	// deleted (ENOENT), or this daemon was evicted from the participant
	// table and serves no data (EIO).
	h, err := file.Hold()
	if err != nil {
		return nil, 0, errmap.Errno(err)
	}
	return &openFile{hold: h}, t.cfg.OpenFlags, 0
}

// openFile is an open handle of a file: it holds the file until the kernel
// releases the handle (the last close, after the last mapping through the
// mount is gone).
type openFile struct{ hold *famfs.Hold }

func (h *openFile) Release(ctx context.Context) syscall.Errno {
	h.hold.Release()
	return 0
}

var _ fs.FileReleaser = (*openFile)(nil)

// validHandle reports whether a handle's hold still protects its file: after
// an eviction its file's memory may be another file's (docs/delete.md).
func validHandle(fh fs.FileHandle) bool {
	h, ok := fh.(*openFile)
	return !ok || h.hold.Valid()
}

func (f *fileNode) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	t := f.t
	if err := t.alive(); err != 0 {
		return nil, err
	}
	file, err := f.handle()
	if err != nil || off < 0 || !validHandle(fh) {
		return nil, syscall.EIO
	}
	t.stats.read.Add(1)
	span, err := file.Span(uint64(off), uint64(len(dest)))
	if err != nil {
		return nil, errmap.Errno(err)
	}
	want := min(uint64(len(dest)), file.Size()-min(uint64(off), file.Size()))
	if uint64(len(span)) == want {
		// The whole read is contiguous on the device: hand the kernel the
		// shared memory itself (it copies straight from our mapping).
		if t.cfg.Coherent {
			famfs.InvalidateCache(span)
		}
		t.stats.readBytes.Add(uint64(len(span)))
		return fuse.ReadResultData(span), 0
	}
	if t.cfg.Coherent {
		file.InvalidateRange(uint64(off), want)
	}
	n, err := file.ReadAt(dest[:want], off)
	if err != nil && !errors.Is(err, io.EOF) {
		t.lg.Warn("read", "path", f.n.Path(), "off", off, "err", err)
		return nil, errmap.Errno(err)
	}
	t.stats.readBytes.Add(uint64(n))
	return fuse.ReadResultData(dest[:n]), 0
}

func (f *fileNode) Write(ctx context.Context, fh fs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	t := f.t
	if err := t.alive(); err != 0 {
		return 0, err
	}
	file, err := f.handle()
	if err != nil || off < 0 || !validHandle(fh) {
		return 0, syscall.EIO
	}
	t.stats.write.Add(1)
	if uint64(off) >= file.Size() {
		t.stats.refused.Add(1)
		return 0, errmap.Errno(famfs.ErrFileSize) // EFBIG: famfs files never grow
	}
	n, err := file.WriteAt(data, off)
	if n > 0 && t.cfg.Coherent {
		file.FlushRange(uint64(off), uint64(n))
	}
	t.stats.writeBytes.Add(uint64(n))
	switch {
	case err == nil:
		return uint32(n), 0
	case errors.Is(err, famfs.ErrFileSize) && n > 0:
		return uint32(n), 0 // a short write; the next one gets EFBIG
	}
	errno := errmap.Errno(err)
	if errno == syscall.EROFS {
		return 0, errno
	}
	t.lg.Warn("write", "path", f.n.Path(), "off", off, "err", err)
	return uint32(n), errno
}

func (f *fileNode) Flush(ctx context.Context, fh fs.FileHandle) syscall.Errno { return 0 }

func (f *fileNode) Fsync(ctx context.Context, fh fs.FileHandle, flags uint32) syscall.Errno {
	if file, err := f.handle(); err == nil && f.t.cfg.Coherent && f.t.fsys.DataWritable() {
		file.Flush()
	}
	return 0
}

// Allocate accepts what is already allocated (famfs files are fully
// allocated) and refuses growth.
func (f *fileNode) Allocate(ctx context.Context, fh fs.FileHandle, off, size uint64, mode uint32) syscall.Errno {
	if mode == 0 && off+size <= f.n.Size() {
		return 0
	}
	return f.t.refuse("fallocate", f.n.Path())
}

var (
	_ fs.NodeOpener    = (*fileNode)(nil)
	_ fs.NodeReader    = (*fileNode)(nil)
	_ fs.NodeWriter    = (*fileNode)(nil)
	_ fs.NodeAllocater = (*fileNode)(nil)
	_ fs.NodeFsyncer   = (*fileNode)(nil)
)
