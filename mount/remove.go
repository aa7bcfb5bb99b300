package mount

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"

	famfs "github.com/famfs-go/famfs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// remove serves unlink (dir false) and rmdir (dir true) of name in the
// directory x: on the master of a file system made for delete it logs the
// delete through the library (docs/delete.md); anywhere else it is refused
// and nothing changes.
func (s *Server) remove(ctx context.Context, x *node, name string, dir bool) syscall.Errno {
	op := map[bool]string{false: "unlink", true: "rmdir"}[dir]
	path := join(x.n, name)
	if err := s.alive(); err != 0 {
		return err
	}
	if x.n.IsRoot() && name == metaName {
		return s.refuse(op, path)
	}
	sb := s.fsys.Superblock()
	if !sb.Reclaim {
		s.count(&s.stats.refused)
		s.lg.Info("refused: this file system was made without delete (mkfs.famfs --reclaim makes one that has it)", "op", op, "path", path)
		return syscall.EPERM
	}
	if s.fsys.Role() != famfs.Master {
		s.count(&s.stats.refused)
		s.lg.Info("refused: only the master deletes; this is a client mount", "op", op, "path", path)
		return syscall.EROFS
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
	if !s.opts.DefaultPermissions {
		if errno := s.mayRemove(ctx, x, child); errno != 0 {
			return errno
		}
	}
	err := s.fsys.Remove([]string{path}, famfs.RemoveOptions{})
	switch {
	case err == nil:
		s.count(&s.stats.removed)
		return 0
	case errors.Is(err, famfs.ErrNotEmpty):
		return syscall.ENOTEMPTY
	case errors.Is(err, fs.ErrNotExist):
		return syscall.ENOENT
	case errors.Is(err, famfs.ErrLogFull):
		s.lg.Warn("remove: the log is full", "path", path, "err", err)
		return syscall.ENOSPC
	case errors.Is(err, famfs.ErrNotMaster), errors.Is(err, famfs.ErrReadOnly):
		return syscall.EROFS
	}
	s.lg.Warn("remove", "op", op, "path", path, "err", err)
	return syscall.EIO
}

// inGroup reports whether the caller is in group gid: its primary group or,
// as /proc says, one of its supplementary groups.
func inGroup(c *fuse.Caller, gid uint32) bool {
	if c.Gid == gid {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.Pid))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Groups:"); ok {
			for _, g := range strings.Fields(rest) {
				if g == strconv.FormatUint(uint64(gid), 10) {
					return true
				}
			}
		}
	}
	return false
}

// mayRemove applies the kernel's rules for unlink when the kernel does not
// (no default_permissions): the caller needs write and search permission on
// the directory, and in a sticky directory must own the entry or the
// directory (or be root).
func (s *Server) mayRemove(ctx context.Context, x *node, child famfs.Node) syscall.Errno {
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
	s.overrides.apply(child.Ino(), &ca)
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
