package grants

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/internal/control"
	"github.com/famfs-go/famfs/mount/internal/guard"
	"golang.org/x/sys/unix"
)

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

// Config configures a grant Server.
type Config struct {
	FS         *famfs.FS
	Device     string // the device path, opened for device descriptors
	Mountpoint string
	// Trust decides who gets a device descriptor.
	Trust guard.Trust
	// ZeroCopyGroup is the group's name, for status.
	ZeroCopyGroup string
	// Coherent: the mount flushes and invalidates CPU caches; granted
	// programs are told to as well.
	Coherent bool
	// Gone reports whether the file system under the mount was re-made.
	Gone   func() bool
	Logger *slog.Logger
}

// releaser is a hold (*famfs.Hold; tests use their own).
type releaser interface{ Release() }

// answer is the outcome of one request: the reply, the device descriptor to
// attach, and on success the hold the lease keeps.
type answer struct {
	reply control.GrantReply
	dev   *os.File
	hold  releaser
}

// Server is the grant socket of one mount.
type Server struct {
	cfg        Config
	lg         *slog.Logger
	path       atomic.Pointer[string] // the socket, once it serves
	mntDev     uint64                 // st_dev of the mount
	align      uint64                 // mapping alignment of the device
	devDax     bool                   // the device is a devdax char device
	limit      *guard.Limiter         // connections without a lease
	leases     *guard.Limiter         // leases in force, by uid
	leaseConns atomic.Int64           // connections holding leases

	idle   time.Duration                                    // control.GrantIdleTimeout (tests shorten it)
	answer func(req []byte, fds []int, p guard.Peer) answer // Server.grant (tests stub it)
	byIno  func(ino uint64) (*famfs.File, error)            // Server.fileByIno (tests stub it)

	made, mapOnly atomic.Uint64
	refused       map[string]*atomic.Uint64
}

// New returns a grant server; Serve starts its socket.
func New(cfg Config) *Server {
	g := &Server{cfg: cfg, lg: cfg.Logger}
	if g.lg == nil {
		g.lg = slog.Default()
	}
	if g.cfg.Gone == nil {
		g.cfg.Gone = func() bool { return false }
	}
	g.init()
	return g
}

// init readies the counters and limiters.
func (g *Server) init() {
	g.refused = map[string]*atomic.Uint64{}
	for _, r := range refusalNames {
		g.refused[r] = new(atomic.Uint64)
	}
	g.limit = guard.NewConnLimiter()
	g.leases = guard.NewLeaseLimiter()
	if g.idle == 0 {
		g.idle = control.GrantIdleTimeout
	}
	if g.answer == nil {
		g.answer = g.grant
	}
	if g.byIno == nil {
		g.byIno = g.fileByIno
	}
}

// Serve starts the grant socket at control.GrantSocketPath(mountpoint),
// with its link by st_dev. It needs the mount up (it takes the mount's
// st_dev from a stat of the mount point). The function it returns stops it.
func (g *Server) Serve() (func(), error) {
	mpt := g.cfg.Mountpoint
	var st syscall.Stat_t
	if err := syscall.Stat(mpt, &st); err != nil {
		return nil, fmt.Errorf("grant socket: stat of the mount %s: %w", mpt, err)
	}
	g.mntDev = st.Dev
	g.align, g.devDax = g.deviceFacts()
	path := control.GrantSocketPath(mpt)
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
	lln := guard.Limit(ln, g.limit)
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
				g.lg.Warn("grant socket: accept", "err", err)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			go g.serveConn(c.(*guard.Conn))
		}
	}()
	return func() {
		g.path.Store(nil)
		ln.Close()
		<-done
		if n := g.leases.Open(); n > 0 {
			// The programs keep their mappings; their connections (and
			// holds) stay until this process exits.
			g.lg.Warn("grant socket: stopping with leases in force: programs still map files of this mount", "leases", n)
		}
		if t, err := os.Readlink(link); err == nil && t == path {
			os.Remove(link)
		}
		os.Remove(path)
	}, nil
}

// Leases returns the number of leases in force.
func (g *Server) Leases() uint64 { return g.leases.Open() }

// WaitIdle returns once no lease is in force.
func (g *Server) WaitIdle() { g.leases.WaitIdle() }

// serveConn answers requests on one connection, one at a time, until the
// peer closes it, or, while it holds no lease, stays idle for g.idle. Each
// granted request is a lease: its hold lasts until the connection closes.
func (g *Server) serveConn(c *guard.Conn) {
	p := c.Peer()
	var holds []releaser
	defer func() {
		c.Close()
		for _, h := range holds {
			h.Release()
			g.leases.Release(p.UID)
		}
		if len(holds) > 0 {
			g.leaseConns.Add(-1)
			g.lg.Debug("grant: leases ended", "uid", p.UID, "pid", p.PID, "leases", len(holds))
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
		a := g.answer(req, fds, p)
		for _, fd := range fds {
			syscall.Close(fd)
		}
		if a.hold != nil {
			if !g.leases.Take(p.UID) {
				a.hold.Release()
				if a.dev != nil {
					a.dev.Close()
				}
				g.refused[refLeases].Add(1)
				g.lg.Debug("grant refused", "uid", p.UID, "pid", p.PID, "reason", refLeases)
				a = answer{reply: control.GrantReply{Status: syscall.EDQUOT}}
			} else {
				holds = append(holds, a.hold)
				if len(holds) == 1 {
					c.FreeSlot() // counted as leases from now on
					g.leaseConns.Add(1)
				}
				if a.dev != nil {
					g.made.Add(1)
				} else {
					g.mapOnly.Add(1)
				}
			}
		}
		err = g.send(uc, a.reply, a.dev)
		if a.dev != nil {
			a.dev.Close()
		}
		if err != nil {
			g.lg.Debug("grant socket: reply", "err", err)
			return // the peer did not take it: its holds end with the connection
		}
	}
}

func (g *Server) send(uc *net.UnixConn, reply control.GrantReply, dev *os.File) error {
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
	uc.SetWriteDeadline(time.Now().Add(g.idle))
	_, _, err := uc.WriteMsgUnix(msg, rights, nil)
	return err
}

// deviceFacts returns the device's mapping alignment and whether it is a
// devdax character device.
func (g *Server) deviceFacts() (align uint64, devDax bool) {
	align = famfs.Format().AllocUnit
	d := g.cfg.FS.Device()
	if d.Align > 0 {
		align = d.Align
	}
	return align, d.Kind == famfs.DaxDevice
}

// Stats counts what the grant socket handed out and refused
// (docs/protocol.md, GET /status's "grants").
type Stats struct {
	Made, MapOnly      uint64            // device descriptors handed out; maps without one
	Refused            map[string]uint64 // by reason
	ZeroCopyGroup      string            // the group trusted with descriptors, if any
	Connections        uint64            // open now, holding no lease yet
	ConnectionsRefused uint64            // closed at once: per-uid or total cap
	Leases, LeaseConns uint64            // grants in force now; the connections that hold them
}

// Stats is what GET /status shows of the grant socket.
func (g *Server) Stats() Stats {
	out := Stats{Made: g.made.Load(), MapOnly: g.mapOnly.Load(), Refused: map[string]uint64{},
		Connections: g.limit.Open(), ConnectionsRefused: g.limit.Refused(),
		Leases: g.leases.Open(), LeaseConns: uint64(max(g.leaseConns.Load(), 0))}
	for r, c := range g.refused {
		out.Refused[r] = c.Load()
	}
	if g.cfg.Trust.HasGroup {
		out.ZeroCopyGroup = g.cfg.ZeroCopyGroup
	}
	return out
}
