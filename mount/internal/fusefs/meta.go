package fusefs

import (
	"context"
	"syscall"

	"github.com/famfs-go/famfs/mount/internal/errmap"
	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// metaDir is .meta at the mount root.
type metaDir struct {
	fs.Inode
	t *Tree
}

func (m *metaDir) fill(a *fuse.Attr) {
	a.Ino, a.Mode, a.Nlink, a.Size = inoMeta, syscall.S_IFDIR|0o755, 2, 4096
	m.t.setTimes(a)
}

func (m *metaDir) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	m.fill(&out.Attr)
	out.SetTimeout(m.t.cfg.Timeout)
	return m.t.alive()
}

// .meta holds exactly its two files: every change inside it is refused with
// EPERM (go-fuse would answer success for an unlink it has no handler for).
func (m *metaDir) Unlink(ctx context.Context, name string) syscall.Errno {
	return m.t.refuse("unlink", metaName+"/"+name)
}
func (m *metaDir) Rmdir(ctx context.Context, name string) syscall.Errno {
	return m.t.refuse("rmdir", metaName+"/"+name)
}
func (m *metaDir) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, m.t.refuse("mkdir", metaName+"/"+name)
}
func (m *metaDir) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, m.t.refuse("create", metaName+"/"+name)
}
func (m *metaDir) Mknod(ctx context.Context, name string, mode, dev uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, m.t.refuse("mknod", metaName+"/"+name)
}
func (m *metaDir) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, m.t.refuse("link", metaName+"/"+name)
}
func (m *metaDir) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, m.t.refuse("symlink", metaName+"/"+name)
}
func (m *metaDir) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	return m.t.refuse("rename", metaName+"/"+name)
}
func (m *metaDir) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return m.t.refuse("setattr", metaName)
}

var (
	_ fs.NodeUnlinker  = (*metaDir)(nil)
	_ fs.NodeRmdirer   = (*metaDir)(nil)
	_ fs.NodeMkdirer   = (*metaDir)(nil)
	_ fs.NodeCreater   = (*metaDir)(nil)
	_ fs.NodeMknoder   = (*metaDir)(nil)
	_ fs.NodeLinker    = (*metaDir)(nil)
	_ fs.NodeSymlinker = (*metaDir)(nil)
	_ fs.NodeRenamer   = (*metaDir)(nil)
	_ fs.NodeSetattrer = (*metaDir)(nil)
)

// metaFile is .meta/.superblock or .meta/.log: a raw device region, read-only.
type metaFile struct {
	fs.Inode
	t         *Tree
	ino       uint64
	off, size uint64
}

func (m *metaFile) fill(a *fuse.Attr) {
	a.Ino, a.Mode, a.Nlink, a.Size = m.ino, syscall.S_IFREG|0o444, 1, m.size
	a.Blocks = m.size / 512
	a.Blksize = m.t.blksize
	m.t.setTimes(a)
}

func (m *metaFile) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	m.fill(&out.Attr)
	out.SetTimeout(m.t.cfg.Timeout)
	return 0
}

func (m *metaFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY || flags&syscall.O_TRUNC != 0 {
		return nil, 0, syscall.EACCES
	}
	// Always fresh: the log changes under the mount.
	return nil, fuse.FOPEN_DIRECT_IO, 0
}

func (m *metaFile) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if off < 0 || uint64(off) >= m.size {
		return fuse.ReadResultData(nil), 0
	}
	n := min(uint64(len(dest)), m.size-uint64(off))
	k, err := m.t.fsys.ReadMeta(dest[:n], m.off+uint64(off))
	if err != nil {
		return nil, errmap.Errno(err)
	}
	return fuse.ReadResultData(dest[:k]), 0
}

func (m *metaFile) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return m.t.refuse("setattr", metaName)
}

var (
	_ fs.NodeOpener    = (*metaFile)(nil)
	_ fs.NodeReader    = (*metaFile)(nil)
	_ fs.NodeGetattrer = (*metaDir)(nil)
)
