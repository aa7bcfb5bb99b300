package grants

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/internal/control"
	"github.com/famfs-go/famfs/mount/internal/errmap"
	"github.com/famfs-go/famfs/mount/internal/guard"
	"golang.org/x/sys/unix"
)

// grant applies the protocol's checks, in its order, to one request. On
// success the answer carries the hold the lease is to keep.
func (g *Server) grant(req []byte, fds []int, p guard.Peer) answer {
	refuse := func(reason string, errno syscall.Errno) answer {
		g.refused[reason].Add(1)
		g.lg.Debug("grant refused", "uid", p.UID, "pid", p.PID, "reason", reason)
		return answer{reply: control.GrantReply{Status: errno}}
	}
	// 1. Well formed, exactly one descriptor.
	r, err := control.DecodeGrantRequest(req)
	if err != nil || len(fds) != 1 {
		return refuse(refMalformed, syscall.EINVAL)
	}
	fd := fds[0]
	// 2. A regular file of this mount, naming one of our nodes. An O_PATH
	// descriptor proves nothing (opening one checks no permission on the
	// file itself).
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_PATH != 0 {
		return refuse(refNotFamfs, syscall.EBADF)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		if g.cfg.Gone() {
			return refuse(refRemade, syscall.EIO) // our own getattr answers EIO now
		}
		return refuse(refNotFamfs, syscall.EBADF)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		return refuse(refDir, syscall.EISDIR)
	default:
		return refuse(refNotFamfs, syscall.EBADF)
	}
	if st.Dev != g.mntDev {
		return refuse(refNotFamfs, syscall.EBADF)
	}
	file, err := g.byIno(st.Ino)
	if err != nil {
		return refuse(refNotFamfs, syscall.EBADF)
	}
	// 3. Still the file system that was mounted.
	if g.cfg.Gone() || g.cfg.FS.CheckSuperblock() != nil {
		return refuse(refRemade, errmap.Errno(famfs.ErrFSChanged))
	}
	// 4. The access mode is the descriptor's.
	write := false
	switch fl & unix.O_ACCMODE {
	case unix.O_RDONLY:
	case unix.O_RDWR:
		write = g.cfg.FS.DataWritable()
	default:
		return refuse(refWriteOnly, syscall.EACCES)
	}
	// 5. The lease's hold, before the map is read: a file deleted since
	// (in a DELETE entry this daemon has not replayed yet, too) is not
	// handed out.
	hold, err := file.Hold()
	if err != nil {
		reason, errno := holdRefusal(err)
		if reason == refHold {
			g.lg.Warn("grant: holding the file", "ino", st.Ino, "err", err)
		}
		return refuse(reason, errno)
	}
	held := false
	defer func() {
		if !held {
			hold.Release()
		}
	}()
	reply := control.GrantReply{Ino: st.Ino}
	if err := g.describe(&reply, file); err != nil {
		return refuse(refTooBig, syscall.E2BIG)
	}
	if r.Flags&control.GrantWantDevice == 0 {
		held = true
		return answer{reply: reply, hold: hold}
	}
	// 6. Trust: only callers who may open the device themselves, or the
	// zerocopy_group, get a descriptor of it.
	if !g.cfg.Trust.Trusted(p, write) {
		return refuse(refUntrusted, syscall.EACCES)
	}
	flags := os.O_RDONLY
	if write {
		flags = os.O_RDWR
		reply.Flags |= control.GrantWritable
	}
	dev, err := os.OpenFile(g.cfg.Device, flags|syscall.O_CLOEXEC, 0)
	if err != nil {
		g.lg.Warn("grant: opening the device", "device", g.cfg.Device, "err", err)
		errno := syscall.EIO
		if !errors.As(err, &errno) || errno == 0 || errno == syscall.EIO {
			errno = syscall.ENXIO
		}
		return refuse(refDevice, errno)
	}
	g.lg.Debug("grant", "uid", p.UID, "pid", p.PID, "ino", st.Ino, "write", write)
	held = true
	return answer{reply: reply, dev: dev, hold: hold}
}

// holdRefusal is the answer to a grant whose hold failed with err: the
// reason counted, and the errno errmap gives.
func holdRefusal(err error) (reason string, errno syscall.Errno) {
	switch {
	case errors.Is(err, famfs.ErrDeleted):
		reason = refDeleted
	case errors.Is(err, famfs.ErrEvicted):
		reason = refEvicted
	default:
		reason = refHold
	}
	return reason, errmap.Errno(err)
}

// describe fills the reply's map and device facts for file.
func (g *Server) describe(r *control.GrantReply, file *famfs.File) error {
	sb := g.cfg.FS.Superblock()
	r.FileSize = file.Size()
	r.AllocUnit = sb.AllocUnit
	r.FSUUID = sb.UUID
	r.DevAlign = g.align
	if g.cfg.Coherent {
		r.Flags |= control.GrantNonCoherent
	}
	if g.devDax {
		r.Flags |= control.GrantDevDax
	}
	for _, s := range file.Segments() {
		r.Segments = append(r.Segments, control.Segment(s))
	}
	if len(r.Segments) > control.MaxGrantSegments {
		return fmt.Errorf("%d segments", len(r.Segments))
	}
	return nil
}

// fileByIno opens the file with inode number ino.
func (g *Server) fileByIno(ino uint64) (*famfs.File, error) {
	n, ok := g.cfg.FS.NodeByIno(ino)
	if !ok || n.IsDir() || n.IsSymlink() {
		return nil, fmt.Errorf("inode %d: %w", ino, os.ErrNotExist)
	}
	return n.Open()
}
