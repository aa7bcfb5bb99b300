package mount

import (
	"context"
	"syscall"

	"github.com/famfs-go/famfs/control"
	"github.com/hanwen/go-fuse/v2/fs"
)

// Extended attributes. famfs keeps none; the mount answers one, read-only:
// user.famfs.grant on every file and on the root names the mount's grant
// socket, so that a program holding a descriptor can tell it is a famfs file
// and where to ask for zero-copy access (control.Grant).
//
// The attribute is not listed by listxattr: tools that copy attributes (cp
// -a, rsync -X, tar --xattrs) would otherwise stamp it on copies outside
// famfs.

// grantXattr answers getxattr of attr.
func (s *Server) grantXattr(attr string, dest []byte) (uint32, syscall.Errno) {
	if err := s.alive(); err != 0 {
		return 0, err
	}
	p := s.grants.path.Load()
	if attr != control.GrantXattr || p == nil {
		return 0, syscall.ENODATA
	}
	if len(dest) < len(*p) {
		return uint32(len(*p)), syscall.ERANGE
	}
	return uint32(copy(dest, *p)), 0
}

func (f *fileNode) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	return f.srv.grantXattr(attr, dest)
}

func (d *dirNode) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	if !d.n.IsRoot() {
		if err := d.srv.alive(); err != 0 {
			return 0, err
		}
		return 0, syscall.ENODATA
	}
	return d.srv.grantXattr(attr, dest)
}

// Listxattr lists nothing (see above).
func (x *node) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	return 0, x.srv.alive()
}

// Setxattr and Removexattr: famfs stores no attributes.
func (x *node) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	if err := x.srv.alive(); err != 0 {
		return err
	}
	if attr == control.GrantXattr {
		return syscall.EPERM
	}
	return syscall.ENOTSUP
}

func (x *node) Removexattr(ctx context.Context, attr string) syscall.Errno {
	if err := x.srv.alive(); err != 0 {
		return err
	}
	if attr == control.GrantXattr {
		return syscall.EPERM
	}
	return syscall.ENODATA
}

var (
	_ fs.NodeGetxattrer    = (*fileNode)(nil)
	_ fs.NodeGetxattrer    = (*dirNode)(nil)
	_ fs.NodeListxattrer   = (*node)(nil)
	_ fs.NodeSetxattrer    = (*node)(nil)
	_ fs.NodeRemovexattrer = (*node)(nil)
)
