package mount

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/control"
	"github.com/famfs-go/famfs/omf"
	"golang.org/x/sys/unix"
)

// The grant socket hands out file maps and device descriptors to programs
// that prove, with a descriptor they opened through this mount, which file
// they may use (control.Grant, and the C preload library). The wire format is
// in docs/protocol.md, "Grant protocol", and control/grant.go.
//
// Every grant is a lease: it takes a hold on the file (File.Hold,
// docs/delete.md "Holds") that the connection keeps until it closes. The
// connection's goroutine sits in a read of it, so the peer's close (or
// death) ends the holds at once.

// Refusal reasons, as GET /status counts them.
const (
	refMalformed = "malformed"       // EINVAL
	refNotFamfs  = "not_famfs"       // EBADF: not a file of this mount, or an O_PATH descriptor
	refDir       = "directory"       // EISDIR
	refRemade    = "remade"          // EIO: the file system was re-made
	refWriteOnly = "write_only"      // EACCES: an O_WRONLY descriptor
	refDeleted   = "deleted"         // ENOENT: the file was deleted
	refEvicted   = "evicted"         // EIO: this daemon's participant slot was evicted
	refHold      = "hold_error"      // EIO: the hold failed otherwise (logged)
	refTooBig    = "too_big"         // E2BIG: more segments than one reply holds
	refUntrusted = "untrusted"       // EACCES: the caller may not open the device
	refDevice    = "device_error"    // the daemon could not open the device
	refLeases    = "too_many_leases" // EDQUOT: the user holds control.MaxLeasesPerUID leases
)

var refusalNames = []string{refMalformed, refNotFamfs, refDir, refRemade, refWriteOnly, refDeleted, refEvicted, refHold,
	refTooBig, refUntrusted, refDevice, refLeases}

// releaser is a hold (*famfs.Hold; tests use their own).
type releaser interface{ Release() }

// grantAnswer is the outcome of one request: the reply, the device
// descriptor to attach, and on success the hold the lease keeps.
type grantAnswer struct {
	reply control.GrantReply
	dev   *os.File
	hold  releaser
}

// grantState is the grant socket's part of a Server.
type grantState struct {
	path       atomic.Pointer[string] // the socket, once it serves
	mntDev     uint64                 // st_dev of the mount
	zcGroup    int64                  // gid of -o zerocopy_group, or -1
	align      uint64                 // mapping alignment of the device
	devDax     bool                   // the device is a devdax char device
	limit      *connLimiter           // grant socket connections without a lease
	leases     *connLimiter           // leases in force, by uid
	leaseConns atomic.Int64           // connections holding leases

	idle   time.Duration                                   // control.GrantIdleTimeout (tests shorten it)
	answer func(req []byte, fds []int, p peer) grantAnswer // Server.grant (tests stub it)

	ctlLimit   *connLimiter  // control socket connections
	ctlRefused atomic.Uint64 // control requests refused for want of trust

	made, mapOnly atomic.Uint64
	refused       map[string]*atomic.Uint64
}

// serveGrants starts the grant socket. It needs the mount up (it takes the
// mount's st_dev from a stat of the mount point).
func (s *Server) serveGrants() (func(), error) {
	g := &s.grants
	g.init(s.grant)
	if s.opts.ZeroCopyGroup != "" {
		gid, err := lookupGroup(s.opts.ZeroCopyGroup)
		if err != nil {
			return nil, err
		}
		g.zcGroup = int64(gid)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(s.opts.Mountpoint, &st); err != nil {
		return nil, fmt.Errorf("grant socket: stat of the mount %s: %w", s.opts.Mountpoint, err)
	}
	g.mntDev = st.Dev
	g.align, g.devDax = s.deviceFacts()
	path := control.GrantSocketPath(s.opts.Mountpoint)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	os.Remove(path)
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		return nil, fmt.Errorf("grant socket %s: %w", path, err)
	}
	// Anyone may ask: each request proves its file with a descriptor.
	if err := os.Chmod(path, 0o666); err != nil {
		ln.Close()
		return nil, fmt.Errorf("grant socket %s: %w", path, err)
	}
	// The name programs find it by, from a file's st_dev alone.
	link := control.GrantLinkPath(g.mntDev)
	os.Remove(link)
	if err := os.Symlink(path, link); err != nil {
		ln.Close()
		return nil, fmt.Errorf("grant socket %s: %w", link, err)
	}
	lln := &limitedListener{Listener: ln, lim: g.limit}
	g.path.Store(&path)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := lln.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				s.lg.Warn("grant socket: accept", "err", err)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			go s.grantConn(c.(*limitedConn))
		}
	}()
	return func() {
		g.path.Store(nil)
		ln.Close()
		<-done
		if n := g.leases.open(); n > 0 {
			// The programs keep their mappings; their connections (and
			// holds) stay until this process exits.
			s.lg.Warn("grant socket: stopping with leases in force: programs still map files of this mount", "leases", n)
		}
		if t, err := os.Readlink(link); err == nil && t == path {
			os.Remove(link)
		}
		os.Remove(path)
	}, nil
}

// init readies the grant state; answer decides each request.
func (g *grantState) init(answer func(req []byte, fds []int, p peer) grantAnswer) {
	g.refused = map[string]*atomic.Uint64{}
	for _, r := range refusalNames {
		g.refused[r] = new(atomic.Uint64)
	}
	g.zcGroup = -1
	g.limit = newConnLimiter()
	g.leases = newLeaseLimiter()
	if g.idle == 0 {
		g.idle = control.GrantIdleTimeout
	}
	if g.answer == nil {
		g.answer = answer
	}
}

// grantConn answers requests on one connection, one at a time, until the
// peer closes it, or, while it holds no lease, stays idle for g.idle. Each
// granted request is a lease: its hold lasts until the connection closes.
func (s *Server) grantConn(c *limitedConn) {
	g := &s.grants
	var holds []releaser
	defer func() {
		c.Close()
		for _, h := range holds {
			h.Release()
			g.leases.release(c.peer.uid)
		}
		if len(holds) > 0 {
			g.leaseConns.Add(-1)
			s.lg.Debug("grant: leases ended", "uid", c.peer.uid, "pid", c.peer.pid, "leases", len(holds))
		}
	}()
	uc := c.Conn.(*net.UnixConn)
	buf := make([]byte, 64)
	oob := make([]byte, syscall.CmsgSpace(8*4))
	for {
		if len(holds) == 0 {
			uc.SetReadDeadline(time.Now().Add(g.idle))
		} else {
			uc.SetReadDeadline(time.Time{}) // a lease lasts as long as its connection
		}
		n, oobn, flags, _, err := uc.ReadMsgUnix(buf, oob)
		if err != nil || n == 0 && oobn == 0 {
			return // closed, idle or broken
		}
		var fds []int
		if msgs, err := syscall.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, m := range msgs {
				if got, err := syscall.ParseUnixRights(&m); err == nil {
					fds = append(fds, got...)
				}
			}
		}
		var req []byte
		if flags&(syscall.MSG_TRUNC|syscall.MSG_CTRUNC) == 0 {
			req = buf[:n]
		}
		a := g.answer(req, fds, c.peer)
		for _, fd := range fds {
			syscall.Close(fd)
		}
		if a.hold != nil {
			if !g.leases.take(c.peer.uid) {
				a.hold.Release()
				if a.dev != nil {
					a.dev.Close()
				}
				g.refused[refLeases].Add(1)
				s.lg.Debug("grant refused", "uid", c.peer.uid, "pid", c.peer.pid, "reason", refLeases)
				a = grantAnswer{reply: control.GrantReply{Status: syscall.EDQUOT}}
			} else {
				holds = append(holds, a.hold)
				if len(holds) == 1 {
					c.freeSlot() // counted as leases from now on
					g.leaseConns.Add(1)
				}
				if a.dev != nil {
					g.made.Add(1)
				} else {
					g.mapOnly.Add(1)
				}
			}
		}
		err = s.sendGrant(uc, a.reply, a.dev)
		if a.dev != nil {
			a.dev.Close()
		}
		if err != nil {
			s.lg.Debug("grant socket: reply", "err", err)
			return // the peer did not take it: its holds end with the connection
		}
	}
}

func (s *Server) sendGrant(uc *net.UnixConn, reply control.GrantReply, dev *os.File) error {
	msg := reply.Encode()
	if len(msg) > 64<<10 {
		// One message must fit the send buffer; the daemon is root, so it
		// may raise the buffer past net.core.wmem_max.
		if raw, err := uc.SyscallConn(); err == nil {
			raw.Control(func(fd uintptr) {
				if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 2*len(msg)+(64<<10)) != nil {
					unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, 2*len(msg)+(64<<10))
				}
			})
		}
	}
	var rights []byte
	if dev != nil {
		rights = syscall.UnixRights(int(dev.Fd()))
	}
	uc.SetWriteDeadline(time.Now().Add(s.grants.idle))
	_, _, err := uc.WriteMsgUnix(msg, rights, nil)
	return err
}

// grant applies the protocol's checks, in its order, to one request. On
// success the answer carries the hold the lease is to keep.
func (s *Server) grant(req []byte, fds []int, p peer) grantAnswer {
	g := &s.grants
	refuse := func(reason string, errno syscall.Errno) grantAnswer {
		g.refused[reason].Add(1)
		s.lg.Debug("grant refused", "uid", p.uid, "pid", p.pid, "reason", reason)
		return grantAnswer{reply: control.GrantReply{Status: errno}}
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
		if s.dead.Load() != nil {
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
	file, err := s.fileByIno(st.Ino)
	if err != nil {
		return refuse(refNotFamfs, syscall.EBADF)
	}
	// 3. Still the file system that was mounted.
	if s.dead.Load() != nil || s.fsys.CheckSuperblock() != nil {
		return refuse(refRemade, syscall.EIO)
	}
	// 4. The access mode is the descriptor's.
	write := false
	switch fl & unix.O_ACCMODE {
	case unix.O_RDONLY:
	case unix.O_RDWR:
		write = s.fsys.DataWritable()
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
			s.lg.Warn("grant: holding the file", "ino", st.Ino, "err", err)
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
	if err := s.describe(&reply, file); err != nil {
		return refuse(refTooBig, syscall.E2BIG)
	}
	if r.Flags&control.GrantWantDevice == 0 {
		held = true
		return grantAnswer{reply: reply, hold: hold}
	}
	// 6. Trust: only callers who may open the device themselves, or the
	// zerocopy_group, get a descriptor of it.
	if !s.trusted(p, write) {
		return refuse(refUntrusted, syscall.EACCES)
	}
	flags := os.O_RDONLY
	if write {
		flags = os.O_RDWR
		reply.Flags |= control.GrantWritable
	}
	dev, err := os.OpenFile(s.opts.Device, flags|syscall.O_CLOEXEC, 0)
	if err != nil {
		s.lg.Warn("grant: opening the device", "device", s.opts.Device, "err", err)
		errno := syscall.EIO
		if !errors.As(err, &errno) || errno == 0 || errno == syscall.EIO {
			errno = syscall.ENXIO
		}
		return refuse(refDevice, errno)
	}
	s.lg.Debug("grant", "uid", p.uid, "pid", p.pid, "ino", st.Ino, "write", write)
	held = true
	return grantAnswer{reply: reply, dev: dev, hold: hold}
}

// holdRefusal is the answer to a grant whose hold failed with err.
func holdRefusal(err error) (reason string, errno syscall.Errno) {
	switch {
	case errors.Is(err, famfs.ErrDeleted):
		return refDeleted, syscall.ENOENT
	case errors.Is(err, famfs.ErrEvicted):
		return refEvicted, syscall.EIO
	}
	return refHold, syscall.EIO
}

// describe fills the reply's map and device facts for file.
func (s *Server) describe(r *control.GrantReply, file *famfs.File) error {
	sb := s.fsys.Superblock()
	r.FileSize = file.Size()
	r.AllocUnit = sb.AllocUnit
	r.FSUUID = sb.UUID
	r.DevAlign = s.grants.align
	if s.coherent {
		r.Flags |= control.GrantNonCoherent
	}
	if s.grants.devDax {
		r.Flags |= control.GrantDevDax
	}
	mapped := (r.FileSize + r.AllocUnit - 1) / r.AllocUnit * r.AllocUnit
	fm := file.Info().FMap
	r.Segments = fm.Segments(mapped)
	if len(r.Segments) > control.MaxGrantSegments {
		return fmt.Errorf("%d segments", len(r.Segments))
	}
	return nil
}

// fileByIno opens the file with inode number ino.
func (s *Server) fileByIno(ino uint64) (*famfs.File, error) {
	n, ok := s.fsys.NodeByIno(ino)
	if !ok || n.IsDir() || n.IsSymlink() {
		return nil, fmt.Errorf("inode %d: %w", ino, os.ErrNotExist)
	}
	return n.Open()
}

// deviceFacts returns the device's mapping alignment and whether it is a
// devdax character device.
func (s *Server) deviceFacts() (align uint64, devDax bool) {
	align = omf.AllocUnit
	if a := s.fsys.DeviceAlign(); a > 0 {
		align = a
	}
	return align, s.fsys.DeviceKind() == famfs.DaxDevice
}

// grantStatus is what GET /status shows of the grant socket.
func (s *Server) grantStatus() *control.GrantStats {
	g := &s.grants
	if g.refused == nil {
		return nil
	}
	out := &control.GrantStats{Made: g.made.Load(), MapOnly: g.mapOnly.Load(), Refused: map[string]uint64{},
		Connections: g.limit.open(), ConnectionsRefused: g.limit.refused.Load(),
		Leases: g.leases.open(), LeaseConns: uint64(max(g.leaseConns.Load(), 0))}
	for r, c := range g.refused {
		out.Refused[r] = c.Load()
	}
	if g.zcGroup >= 0 {
		out.ZeroCopyGroup = s.opts.ZeroCopyGroup
	}
	return out
}
