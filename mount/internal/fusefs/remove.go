package fusefs

import (
	"context"
	"syscall"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/mount/internal/errmap"
	"github.com/famfs-go/famfs/mount/internal/guard"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// remove serves unlink (dir false) and rmdir (dir true) of name in the
// directory x: on the master of a file system made for delete it logs the
// delete through the library (docs/delete.md); anywhere else it is refused
// and nothing changes.
func (t *Tree) remove(ctx context.Context, x *node, name string, dir bool) syscall.Errno {
	op := map[bool]string{false: "unlink", true: "rmdir"}[dir]
	path := join(x.n, name)
	if err := t.alive(); err != 0 {
		return err
	}
	if x.n.IsRoot() && name == metaName {
		return t.refuse(op, path)
	}
	sb := t.fsys.Superblock()
	if !sb.Reclaim {
		t.stats.refused.Add(1)
		t.lg.Info("refused: this file system was made without delete (mkfs.famfs --reclaim makes one that has it)", "op", op, "path", path)
		return errmap.Errno(famfs.ErrNoReclaim)
	}
	if t.fsys.Role() != famfs.Master {
		t.stats.refused.Add(1)
		t.lg.Info("refused: only the master deletes; this is a client mount", "op", op, "path", path)
		return errmap.Errno(famfs.ErrNotMaster)
	}
	child, ok := x.n.Child(name)
	switch {
	case !ok:
		return syscall.ENOENT
	case dir && !child.IsDir():
		return syscall.ENOTDIR
	case !dir && child.IsDir():
		return syscall.EISDIR
	}
	if !t.cfg.DefaultPermissions {
		if errno := t.mayRemove(ctx, x, child); errno != 0 {
			return errno
		}
	}
	err := t.fsys.Remove([]string{path}, famfs.RemoveOptions{})
	errno := errmap.Errno(err)
	switch errno {
	case 0:
		t.stats.removed.Add(1)
	case syscall.ENOSPC:
		t.lg.Warn("remove: the log is full", "path", path, "err", err)
	case syscall.EIO:
		t.lg.Warn("remove", "op", op, "path", path, "err", err)
	}
	return errno
}

// mayRemove applies the kernel's rules for unlink when the kernel does not
// (no default_permissions): the caller needs write and search permission on
// the directory, and in a sticky directory must own the entry or the
// directory (or be root).
func (t *Tree) mayRemove(ctx context.Context, x *node, child famfs.Node) syscall.Errno {
	c, ok := fuse.FromContext(ctx)
	if !ok {
		return syscall.EPERM
	}
	if c.Uid == 0 {
		return 0
	}
	var a, ca fuse.Attr
	x.fill(&a)
	ca.Uid = child.UID()
	t.overrides.apply(child.Ino(), &ca)
	mode := a.Mode & 0o7777
	var bits uint32
	switch {
	case c.Uid == a.Uid:
		bits = mode >> 6
	case inGroup(c, a.Gid):
		bits = mode >> 3
	default:
		bits = mode
	}
	if bits&3 != 3 {
		return syscall.EACCES
	}
	if mode&syscall.S_ISVTX != 0 && c.Uid != a.Uid && c.Uid != ca.Uid {
		return syscall.EPERM
	}
	return 0
}

// inGroup reports whether the caller is in group gid: its primary group or,
// as /proc says, one of its supplementary groups.
func inGroup(c *fuse.Caller, gid uint32) bool {
	p := guard.Peer{PID: int32(c.Pid), UID: c.Uid, GID: c.Gid}
	if p.InGroup(gid) {
		return true
	}
	p.Groups, _ = guard.ProcGroups(int(c.Pid))
	return p.InGroup(gid)
}
