package fusefs

import (
	"context"
	"log/slog"
	"sync/atomic"
	"syscall"
	"time"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/mount/internal/errmap"
	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Config is what the node tree needs of the mount's options.
type Config struct {
	// Timeout is the kernel's entry and attribute cache time (replay
	// invalidates what changes); zero also turns off FOPEN_CACHE_DIR.
	Timeout time.Duration
	// OpenFlags are the FOPEN_* flags every open of a file answers with
	// (the cache mode).
	OpenFlags uint32
	// DefaultPermissions: the kernel checks mode, uid and gid itself;
	// without it, unlink and rmdir apply the kernel's rules here.
	DefaultPermissions bool
	// Coherent: flush and invalidate CPU caches around the data copied.
	Coherent bool
	// Started is the one time every node shows.
	Started time.Time
	Logger  *slog.Logger
}

// Tree is the node tree of one mount.
type Tree struct {
	cfg       Config
	fsys      *famfs.FS
	lg        *slog.Logger
	root      *dirNode
	blksize   uint32 // st_blksize: the allocation unit
	overrides overrides
	gone      atomic.Pointer[string] // set once the device was re-made
	stats     counters
}

type counters struct {
	lookup, getattr, readdir, open, read, readBytes, write, writeBytes atomic.Uint64
	refused, notifies, removed, readlink                               atomic.Uint64
}

// New returns the node tree of fsys.
func New(fsys *famfs.FS, cfg Config) *Tree {
	lg := cfg.Logger
	if lg == nil {
		lg = slog.Default()
	}
	t := &Tree{cfg: cfg, fsys: fsys, lg: lg, blksize: uint32(fsys.Superblock().AllocUnit)}
	t.root = &dirNode{node{t: t, n: fsys.Root()}}
	return t
}

// Root is the root node, for fs.Mount or fs.NewNodeFS.
func (t *Tree) Root() fs.InodeEmbedder { return t.root }

// Options returns the go-fuse options the tree needs (timeouts, the root's
// inode number, .meta made when the root is added) around mo.
func (t *Tree) Options(mo fuse.MountOptions) *fs.Options {
	timeout := t.cfg.Timeout
	neg := t.negativeTimeout()
	return &fs.Options{
		MountOptions:    mo,
		EntryTimeout:    &timeout,
		AttrTimeout:     &timeout,
		NegativeTimeout: &neg,
		RootStableAttr:  &fs.StableAttr{Mode: syscall.S_IFDIR, Ino: t.root.n.Ino()},
		OnAdd:           t.onAdd,
	}
}

// Inode numbers of the mount's own files (below those of log entries, which
// start at 16; the root is 1).
const (
	inoMeta       = 2
	inoSuperblock = 3
	inoLog        = 4
	metaName      = famfs.MetaDir
)

// onAdd creates .meta and its two files under the root.
func (t *Tree) onAdd(ctx context.Context) {
	sb := t.fsys.Superblock()
	meta := t.root.NewPersistentInode(ctx, &metaDir{t: t}, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: inoMeta})
	t.root.AddChild(metaName, meta, false)
	sbf := meta.NewPersistentInode(ctx, &metaFile{t: t, ino: inoSuperblock, off: 0, size: famfs.Format().SuperblockRegion},
		fs.StableAttr{Mode: syscall.S_IFREG, Ino: inoSuperblock})
	meta.AddChild(famfs.MetaSuperblock, sbf, false)
	lf := meta.NewPersistentInode(ctx, &metaFile{t: t, ino: inoLog, off: sb.LogOffset, size: sb.LogLen},
		fs.StableAttr{Mode: syscall.S_IFREG, Ino: inoLog})
	meta.AddChild(famfs.MetaLog, lf, false)
}

// MarkGone records that the file system under the mount was re-made (msg
// says how): every operation answers EIO from now on.
func (t *Tree) MarkGone(msg string) { t.gone.Store(&msg) }

// Gone returns what MarkGone recorded.
func (t *Tree) Gone() (string, bool) {
	if p := t.gone.Load(); p != nil {
		return *p, true
	}
	return "", false
}

// alive returns EIO once the device was re-made under the mount.
func (t *Tree) alive() syscall.Errno {
	if t.gone.Load() != nil {
		return errmap.Errno(famfs.ErrFSChanged)
	}
	return 0
}

// refuse logs and counts an operation famfs forbids and returns EPERM.
func (t *Tree) refuse(op, path string) syscall.Errno {
	t.stats.refused.Add(1)
	if err := t.alive(); err != 0 {
		return err
	}
	t.lg.Info("refused: famfs files and directories are created only by the master's famfs CLI and never change size or go away", "op", op, "path", path)
	return syscall.EPERM
}

// Counters adds the tree's counters to m, by the names GET /status shows.
func (t *Tree) Counters(m map[string]uint64) {
	c := &t.stats
	for k, v := range map[string]*atomic.Uint64{
		"lookup": &c.lookup, "getattr": &c.getattr, "readdir": &c.readdir,
		"open": &c.open, "read": &c.read, "read_bytes": &c.readBytes,
		"write": &c.write, "write_bytes": &c.writeBytes, "refused": &c.refused,
		"notifications": &c.notifies, "removed": &c.removed, "readlink": &c.readlink,
	} {
		m[k] = v.Load()
	}
}

func (t *Tree) entryTimeouts(out *fuse.EntryOut) {
	out.SetEntryTimeout(t.cfg.Timeout)
	out.SetAttrTimeout(t.cfg.Timeout)
}

// negativeTimeout bounds how long the kernel trusts "no such file": replay
// invalidates negative entries it knows of, and this is the safety net.
func (t *Tree) negativeTimeout() time.Duration { return min(t.cfg.Timeout, time.Second) }

// setTimes gives everything one time: when the mount started, so attributes
// do not flap.
func (t *Tree) setTimes(a *fuse.Attr) {
	sec, nsec := uint64(t.cfg.Started.Unix()), uint32(t.cfg.Started.Nanosecond())
	a.Atime, a.Mtime, a.Ctime = sec, sec, sec
	a.Atimensec, a.Mtimensec, a.Ctimensec = nsec, nsec, nsec
}

// inodeFor returns the kernel inode for a namespace node under parent.
func (t *Tree) inodeFor(ctx context.Context, parent *fs.Inode, n famfs.Node) *fs.Inode {
	if ch := parent.GetChild(n.Name()); ch != nil {
		return ch
	}
	switch {
	case n.IsDir():
		return parent.NewInode(ctx, &dirNode{node{t: t, n: n}}, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: n.Ino()})
	case n.IsSymlink():
		return parent.NewInode(ctx, &linkNode{node{t: t, n: n}}, fs.StableAttr{Mode: syscall.S_IFLNK, Ino: n.Ino()})
	}
	return parent.NewInode(ctx, &fileNode{node: node{t: t, n: n}}, fs.StableAttr{Mode: syscall.S_IFREG, Ino: n.Ino()})
}

func (t *Tree) statfs(out *fuse.StatfsOut) syscall.Errno {
	if err := t.alive(); err != 0 {
		return err
	}
	u := t.fsys.Stats()
	next, slots, _ := t.fsys.LogStatus()
	const bsize = 4096
	out.Bsize, out.Frsize = bsize, bsize
	out.Blocks = u.Capacity / bsize
	free := u.Free
	if t.fsys.Superblock().Reclaim {
		// Space a delete freed that a participant may still reach is not
		// free yet (docs/delete.md, "Reporting").
		if sp, err := t.fsys.Space(); err == nil {
			free -= min(sp.Waiting, free)
		}
	}
	out.Bfree = free / bsize
	out.Bavail = out.Bfree
	out.Files = slots
	out.Ffree = slots - min(next, slots)
	out.NameLen = uint32(famfs.Format().MaxRelPath)
	return 0
}

// Notify drops the kernel's entries and cached listings that the new (and
// deleted) nodes make stale. Only directories the kernel knows need telling.
func (t *Tree) Notify(changed []famfs.Node) {
	dirs := map[*fs.Inode]bool{}
	for _, n := range changed {
		p, _ := n.Parent()
		in := t.kernelInode(p)
		if in == nil {
			continue
		}
		name := n.Name()
		if p.IsRoot() && name == metaName {
			continue
		}
		in.NotifyEntry(name)
		dirs[in] = true
		t.stats.notifies.Add(1)
	}
	for in := range dirs {
		in.NotifyContent(0, 0)
	}
}

// kernelInode finds the go-fuse inode of a namespace directory, if the
// kernel has looked it up.
func (t *Tree) kernelInode(n famfs.Node) *fs.Inode {
	if !n.IsValid() {
		return nil
	}
	parent, ok := n.Parent()
	if !ok {
		return &t.root.Inode
	}
	p := t.kernelInode(parent)
	if p == nil {
		return nil
	}
	return p.GetChild(n.Name())
}

// Invalidate drops the kernel's cached pages of the file at rel.
func (t *Tree) Invalidate(rel string) error {
	n, err := t.fsys.Lookup(rel)
	if err != nil {
		return err
	}
	if p, ok := n.Parent(); ok {
		if in := t.kernelInode(p); in != nil {
			if ch := in.GetChild(n.Name()); ch != nil {
				ch.NotifyContent(0, 0)
			}
		}
	}
	return nil
}
