package mount

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/internal/control"
	"github.com/famfs-go/famfs/mount/internal/ctlsock"
	"github.com/famfs-go/famfs/mount/internal/fusefs"
	"github.com/famfs-go/famfs/mount/internal/grants"
	"github.com/famfs-go/famfs/mount/internal/guard"
	"github.com/famfs-go/famfs/mount/internal/poller"
	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// maxIO is the largest read or write request the kernel sends (1 MiB; the
// go-fuse default is 128 KiB).
const maxIO = 1 << 20

// Server is a running famfs mount: the node tree (fusefs) mounted through
// go-fuse, the poller that keeps it current, and, once ServeControl runs,
// the grant and control sockets.
type Server struct {
	opts     Options
	fsys     *famfs.FS
	fuse     *fuse.Server
	tree     *fusefs.Tree
	poller   *poller.Poller
	lg       *slog.Logger
	started  time.Time
	coherent bool

	grants   atomic.Pointer[grants.Server]  // once ServeControl runs
	ctl      atomic.Pointer[ctlsock.Socket] // once ServeControl runs
	stopOnce sync.Once
}

// Serve opens the file system on opts.Device, mounts it on opts.Mountpoint
// and starts serving and polling. It returns once the kernel has the mount.
func Serve(opts Options) (*Server, error) {
	s, err := newServer(opts)
	if err != nil {
		return nil, err
	}
	srv, err := fs.Mount(opts.Mountpoint, s.tree.Root(), s.tree.Options(mountOptions(s.opts, s.fsys, s.lg)))
	if err != nil {
		s.fsys.Close()
		return nil, fmt.Errorf("mount %s on %s: %w", opts.Device, opts.Mountpoint, err)
	}
	s.fuse = srv
	s.poller.Start()
	return s, nil
}

// newServer opens the file system and makes the node tree and the poller,
// ready to mount.
func newServer(opts Options) (*Server, error) {
	lg := opts.Logger
	if lg == nil {
		lg = slog.Default()
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	fsys, err := famfs.Open(opts.Device, famfs.OpenOptions{
		SystemUUID:   opts.SystemUUID,
		ReadOnly:     opts.ReadOnly,
		WritableData: opts.ReadWrite,
		Logger:       lg,
		// Registers at once on a file system made for delete: this daemon
		// holds files for its handles and the preload's leases.
		Participant:     famfs.DaemonParticipant,
		ParticipantName: opts.Mountpoint,
		Lease:           opts.Lease,
	})
	if err != nil && !errors.Is(err, famfs.ErrLogDamaged) {
		return nil, err
	}
	s := &Server{opts: opts, fsys: fsys, lg: lg, started: time.Now()}
	switch opts.Coherence {
	case CoherenceOn:
		s.coherent = true
	case CoherenceAuto, "":
		s.coherent = fsys.Device().Kind == famfs.DaxDevice
	}
	s.tree = fusefs.New(fsys, fusefs.Config{
		Timeout:            opts.Timeout,
		OpenFlags:          openFlags(opts.Cache),
		DefaultPermissions: opts.DefaultPermissions,
		Coherent:           s.coherent,
		Started:            s.started,
		Logger:             lg,
	})
	s.poller = poller.New(poller.Config{FS: fsys, Interval: opts.PollInterval, Device: opts.Device, Target: s.tree, Logger: lg})
	return s, nil
}

// mountOptions are the kernel mount's options.
func mountOptions(opts Options, fsys *famfs.FS, lg *slog.Logger) fuse.MountOptions {
	mo := fuse.MountOptions{
		FsName:            opts.Device,
		Name:              "famfs",
		DirectMountStrict: true,
		DirectMountFlags:  syscall.MS_NOSUID | syscall.MS_NODEV,
		AllowOther:        opts.AllowOther,
		MaxWrite:          maxIO,
		MaxReadAhead:      maxIO,
		Debug:             opts.Debug,
		DisableXAttrs:     true, // no attributes: the kernel then asks once, not per file (ls -l)
		ExtraCapabilities: fuse.CAP_DIRECT_IO_ALLOW_MMAP | fuse.CAP_AUTO_INVAL_DATA,
		MaxBackground:     64,
		// Read answers with a slice of the device mapping, never a file
		// descriptor: splicing cannot apply, and trying it cost a pipe
		// setup (and, for 1 MiB reads, a log line) per read.
		DisableSplice: true,
		Logger:        fuseLogger(lg, opts.Debug),
	}
	if !fsys.DataWritable() {
		mo.DirectMountFlags |= syscall.MS_RDONLY
	}
	if opts.DefaultPermissions {
		mo.Options = append(mo.Options, "default_permissions")
	}
	return mo
}

// openFlags are the FOPEN_* flags of the cache mode.
func openFlags(c CacheMode) uint32 {
	switch c {
	case CacheOpen:
		return 0
	case CacheKeep:
		return fuse.FOPEN_KEEP_CACHE
	}
	return fuse.FOPEN_DIRECT_IO | fuse.FOPEN_PARALLEL_DIRECT_WRITES
}

// FS returns the file system being served.
func (s *Server) FS() *famfs.FS { return s.fsys }

// Wait blocks until the mount is gone (unmounted by anyone).
func (s *Server) Wait() {
	s.fuse.Wait()
	s.shutdown()
}

// Unmount unmounts and stops the poller.
func (s *Server) Unmount() error {
	err := s.fuse.Unmount()
	s.shutdown()
	return err
}

func (s *Server) shutdown() {
	s.stopOnce.Do(func() {
		s.poller.Stop()
		// Programs granted leases map the device directly: the mount's end
		// does not end their mappings. This participant stays registered,
		// with its heartbeat, until the last of them lets go, so that no
		// file they map is reused under them (docs/delete.md, "Leases").
		if g := s.grants.Load(); g != nil && g.Leases() > 0 && s.fsys.Superblock().Reclaim {
			s.lg.Warn("unmounted with preload leases in force: staying registered as a participant until they end (SIGKILL gives up; the slot then needs famfs evict)", "leases", g.Leases())
			g.WaitIdle()
			s.lg.Info("the last preload lease ended")
		}
		s.fsys.Close()
	})
}

// Replay makes the poller replay now and waits for the result.
func (s *Server) Replay() (famfs.ReplayStatus, error) { return s.poller.Replay() }

// Invalidate drops the kernel's cached pages of the file at rel.
func (s *Server) Invalidate(rel string) error { return s.tree.Invalidate(rel) }

// ServeControl answers the mount's control socket and grant socket, whose
// paths derive from the mount point (docs/protocol.md), until the mount goes
// away. Stale socket files are replaced.
func (s *Server) ServeControl() (func(), error) {
	trust := guard.Trust{Device: s.opts.Device}
	if s.opts.ZeroCopyGroup != "" {
		gid, err := guard.LookupGroup(s.opts.ZeroCopyGroup)
		if err != nil {
			return nil, err
		}
		trust.Group, trust.HasGroup = gid, true
	}
	g := grants.New(grants.Config{
		FS: s.fsys, Device: s.opts.Device, Mountpoint: s.opts.Mountpoint, Trust: trust,
		ZeroCopyGroup: s.opts.ZeroCopyGroup, Coherent: s.coherent, Logger: s.lg,
		Gone: func() bool { _, gone := s.tree.Gone(); return gone },
	})
	stopGrants, err := g.Serve()
	if err != nil {
		return nil, err
	}
	s.grants.Store(g)
	ctl := ctlsock.New(ctlsock.Config{
		Status: func() any { return s.Status() }, Replay: func() any { return replayAnswer(s.Replay()) },
		Invalidate: s.Invalidate, Trust: trust, Level: s.opts.Level,
	})
	stopCtl, err := ctl.Serve(control.SocketPath(s.opts.Mountpoint))
	if err != nil {
		stopGrants()
		return nil, err
	}
	s.ctl.Store(ctl)
	return func() {
		stopCtl()
		stopGrants()
	}, nil
}

func (s *Server) level() slog.Level {
	if s.opts.Level != nil {
		return s.opts.Level.Level()
	}
	return slog.LevelInfo
}

// replayAnswer is what POST /replay returns for a replay's outcome.
func replayAnswer(st famfs.ReplayStatus, err error) Replay {
	out := Replay{Applied: st.Applied, Next: st.Next}
	if st.Stuck != nil {
		out.Stuck = st.Stuck.Error()
	}
	if err != nil {
		out.Error = err.Error()
	}
	return out
}

// grantStats and connStats are the status's views of the sockets' counts.
func grantStats(x grants.Stats) *GrantStats {
	return &GrantStats{Made: x.Made, MapOnly: x.MapOnly, Refused: x.Refused, ZeroCopyGroup: x.ZeroCopyGroup,
		Connections: x.Connections, ConnectionsRefused: x.ConnectionsRefused, Leases: x.Leases, LeaseConns: x.LeaseConns}
}

func connStats(x ctlsock.Stats) *ConnStats {
	return &ConnStats{Open: x.Open, Refused: x.Refused, Forbidden: x.Forbidden}
}

// Status assembles what GET /status returns.
func (s *Server) Status() Status {
	next, slots, stuck := s.fsys.LogStatus()
	sb := s.fsys.Superblock()
	counters := map[string]uint64{}
	s.tree.Counters(counters)
	s.poller.Counters(counters)
	st := Status{
		PID: os.Getpid(), Device: s.opts.Device, Mountpoint: s.opts.Mountpoint,
		HostUUID: s.fsys.HostUUID().String(), FSUUID: sb.UUID.String(), Role: s.fsys.Role().String(),
		ReadOnly: !s.fsys.DataWritable(), CacheMode: string(s.opts.Cache), Started: s.started.Format(time.RFC3339Nano),
		LogLevel: s.level().String(), ReplayNext: next, LogEntries: s.poller.LastLog(), LogCapacity: slots,
		PollInterval: float64(s.opts.PollInterval) / float64(time.Millisecond), Counters: counters,
	}
	if g := s.grants.Load(); g != nil {
		st.Grants = grantStats(g.Stats())
	}
	if c := s.ctl.Load(); c != nil {
		st.Control = connStats(c.Stats())
	}
	st.Coherence = "off"
	if s.coherent {
		st.Coherence = "on"
	}
	if slots > 0 {
		st.LogFill = 100 * float64(st.LogEntries) / float64(slots)
	}
	if stuck != nil {
		st.ReplayStuck = stuck.Error()
	}
	u := s.fsys.Stats()
	st.Problems = u.Problems
	if sb.Reclaim {
		sp := &SpaceStatus{Holders: []string{}, Evicted: u.Evicted}
		if x, err := s.fsys.Space(); err == nil {
			sp.CapacityBytes, sp.InUseBytes, sp.FreeBytes, sp.WaitingBytes = x.Capacity, x.InUse, x.Free, x.Waiting
			for _, h := range x.Holders {
				sp.Holders = append(sp.Holders, h.String())
			}
		}
		st.Space = sp
	}
	if msg, gone := s.tree.Gone(); gone {
		st.FSChanged = msg
	}
	return st
}
