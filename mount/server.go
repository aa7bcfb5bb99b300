package mount

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/omf"
	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// maxIO is the largest read or write request the kernel sends (1 MiB; the
// go-fuse default is 128 KiB).
const maxIO = 1 << 20

// Server is a running famfs mount.
type Server struct {
	opts      Options
	fsys      *famfs.FS
	fuse      *fuse.Server
	root      *dirNode
	lg        *slog.Logger
	started   time.Time
	coherent  bool
	overrides overrides

	dead     atomic.Pointer[string] // set once the device was re-made
	stats    counters
	grants   grantState    // grant and control sockets (grant.go, guard.go)
	lastLog  atomic.Uint64 // header next_index at the last poll
	trigger  chan chan replayResult
	stop     chan struct{}
	stopOnce sync.Once
	pollDone chan struct{}
	blksize  uint32 // st_blksize: the allocation unit
}

type counters struct {
	lookup, getattr, readdir, open, read, readBytes, write, writeBytes atomic.Uint64
	refused, polls, replays, applied, notifies, problems               atomic.Uint64
	removed, readlink                                                  atomic.Uint64
}

type replayResult struct {
	st  famfs.ReplayStatus
	err error
}

// Serve opens the file system on opts.Device, mounts it on opts.Mountpoint
// and starts serving and polling. It returns once the kernel has the mount.
func Serve(opts Options) (*Server, error) {
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
	s := &Server{opts: opts, fsys: fsys, lg: lg, started: time.Now(), blksize: uint32(fsys.Superblock().AllocUnit),
		trigger: make(chan chan replayResult), stop: make(chan struct{}), pollDone: make(chan struct{})}
	switch opts.Coherence {
	case CoherenceOn:
		s.coherent = true
	case CoherenceAuto, "":
		s.coherent = fsys.DeviceKind() == famfs.DaxDevice
	}
	next, slots, _ := fsys.LogStatus()
	s.lastLog.Store(next)
	if famfs.LogNearlyFull(next, slots) {
		lg.Warn("the famfs log is over 90% full", "used", next, "slots", slots)
	}

	s.root = &dirNode{node{srv: s, n: fsys.Root()}}
	timeout := opts.Timeout
	neg := s.negativeTimeout()
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
	if !s.fsys.DataWritable() {
		mo.DirectMountFlags |= syscall.MS_RDONLY
	}
	if opts.DefaultPermissions {
		mo.Options = append(mo.Options, "default_permissions")
	}
	fopts := &fs.Options{
		MountOptions:    mo,
		EntryTimeout:    &timeout,
		AttrTimeout:     &timeout,
		NegativeTimeout: &neg,
		RootStableAttr:  &fs.StableAttr{Mode: syscall.S_IFDIR, Ino: s.root.n.Ino()},
		OnAdd:           s.onAdd,
	}
	srv, err := fs.Mount(opts.Mountpoint, s.root, fopts)
	if err != nil {
		fsys.Close()
		return nil, fmt.Errorf("mount %s on %s: %w", opts.Device, opts.Mountpoint, err)
	}
	s.fuse = srv
	go s.poll()
	return s, nil
}

// onAdd creates .meta and its two files under the root.
func (s *Server) onAdd(ctx context.Context) {
	sb := s.fsys.Superblock()
	meta := s.root.NewPersistentInode(ctx, &metaDir{srv: s}, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: inoMeta})
	s.root.AddChild(metaName, meta, false)
	sbf := meta.NewPersistentInode(ctx, &metaFile{srv: s, ino: inoSuperblock, off: 0, size: omf.SuperblockRegion},
		fs.StableAttr{Mode: syscall.S_IFREG, Ino: inoSuperblock})
	meta.AddChild(famfs.MetaSuperblock, sbf, false)
	lf := meta.NewPersistentInode(ctx, &metaFile{srv: s, ino: inoLog, off: sb.LogOffset, size: sb.LogLen},
		fs.StableAttr{Mode: syscall.S_IFREG, Ino: inoLog})
	meta.AddChild(famfs.MetaLog, lf, false)
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
		close(s.stop)
		<-s.pollDone
		// Programs granted leases map the device directly: the mount's end
		// does not end their mappings. This participant stays registered,
		// with its heartbeat, until the last of them lets go, so that no
		// file they map is reused under them (docs/delete.md, "Leases").
		if n := s.grants.leases.open(); n > 0 && s.fsys.Superblock().Reclaim {
			s.lg.Warn("unmounted with preload leases in force: staying registered as a participant until they end (SIGKILL gives up; the slot then needs famfs evict)", "leases", n)
			s.grants.leases.waitIdle()
			s.lg.Info("the last preload lease ended")
		}
		s.fsys.Close()
	})
}

// alive returns EIO once the device was re-made under the mount.
func (s *Server) alive() syscall.Errno {
	if s.dead.Load() != nil {
		return syscall.EIO
	}
	return 0
}

// refuse logs and counts an operation famfs forbids and returns EPERM.
func (s *Server) refuse(op, path string) syscall.Errno {
	s.count(&s.stats.refused)
	if s.dead.Load() != nil {
		return syscall.EIO
	}
	s.lg.Info("refused: famfs files and directories are created only by the master's famfs CLI and never change size or go away", "op", op, "path", path)
	return syscall.EPERM
}

func (s *Server) count(c *atomic.Uint64)         { c.Add(1) }
func (s *Server) add(c *atomic.Uint64, n uint64) { c.Add(n) }
func (s *Server) entryTimeouts(out *fuse.EntryOut) {
	out.SetEntryTimeout(s.opts.Timeout)
	out.SetAttrTimeout(s.opts.Timeout)
}

// negativeTimeout bounds how long the kernel trusts "no such file": replay
// invalidates negative entries it knows of, and this is the safety net.
func (s *Server) negativeTimeout() time.Duration { return min(s.opts.Timeout, time.Second) }

// setTimes gives everything one time: when the mount started, so attributes
// do not flap.
func (s *Server) setTimes(a *fuse.Attr) {
	sec, nsec := uint64(s.started.Unix()), uint32(s.started.Nanosecond())
	a.Atime, a.Mtime, a.Ctime = sec, sec, sec
	a.Atimensec, a.Mtimensec, a.Ctimensec = nsec, nsec, nsec
}

func (s *Server) openFlags() uint32 {
	switch s.opts.Cache {
	case CacheOpen:
		return 0
	case CacheKeep:
		return fuse.FOPEN_KEEP_CACHE
	}
	return fuse.FOPEN_DIRECT_IO | fuse.FOPEN_PARALLEL_DIRECT_WRITES
}

// inodeFor returns the kernel inode for a namespace node under parent.
func (s *Server) inodeFor(ctx context.Context, parent *fs.Inode, n famfs.Node) *fs.Inode {
	if ch := parent.GetChild(n.Name()); ch != nil {
		return ch
	}
	switch {
	case n.IsDir():
		return parent.NewInode(ctx, &dirNode{node{srv: s, n: n}}, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: n.Ino()})
	case n.IsSymlink():
		return parent.NewInode(ctx, &linkNode{node{srv: s, n: n}}, fs.StableAttr{Mode: syscall.S_IFLNK, Ino: n.Ino()})
	}
	return parent.NewInode(ctx, &fileNode{node: node{srv: s, n: n}}, fs.StableAttr{Mode: syscall.S_IFREG, Ino: n.Ino()})
}

func (s *Server) statfs(out *fuse.StatfsOut) syscall.Errno {
	if err := s.alive(); err != 0 {
		return err
	}
	u := s.fsys.Stats()
	next, slots, _ := s.fsys.LogStatus()
	const bsize = 4096
	out.Bsize, out.Frsize = bsize, bsize
	out.Blocks = u.Capacity / bsize
	free := u.Free
	if s.fsys.Superblock().Reclaim {
		// Space a delete freed that a participant may still reach is not
		// free yet (docs/delete.md, "Reporting").
		if sp, err := s.fsys.Space(); err == nil {
			free -= min(sp.Waiting, free)
		}
	}
	out.Bfree = free / bsize
	out.Bavail = out.Bfree
	out.Files = slots
	out.Ffree = slots - min(next, slots)
	out.NameLen = omf.MaxRelPath
	return 0
}

// poll watches the log header and the superblock in shared memory and
// applies new entries as they appear.
func (s *Server) poll() {
	defer close(s.pollDone)
	t := time.NewTicker(s.opts.PollInterval)
	defer t.Stop()
	for {
		var reply chan replayResult
		select {
		case <-s.stop:
			return
		case <-t.C:
		case reply = <-s.trigger:
		}
		s.count(&s.stats.polls)
		if s.dead.Load() == nil {
			if err := s.fsys.CheckSuperblock(); err != nil {
				msg := err.Error()
				s.dead.Store(&msg)
				s.lg.Error("the file system under this mount is gone; serving EIO from now on (unmount and mount again)", "device", s.opts.Device, "err", err)
			}
		}
		var res replayResult
		if s.dead.Load() != nil {
			res.err = famfs.ErrFSChanged
		} else if changed, err := s.fsys.Changed(); err != nil {
			res.err = err
		} else if changed || reply != nil {
			res.st, res.err = s.replay()
		}
		if reply != nil {
			reply <- res
		}
	}
}

// replay applies new entries and tells the kernel about them.
func (s *Server) replay() (famfs.ReplayStatus, error) {
	st, err := s.fsys.Refresh()
	s.lastLog.Store(st.LogNext)
	if st.Applied > 0 {
		s.count(&s.stats.replays)
		s.add(&s.stats.applied, st.Applied)
	}
	s.add(&s.stats.problems, uint64(len(st.Problems)))
	if len(st.Added) > 0 || len(st.Removed) > 0 {
		s.notify(append(st.Added, st.Removed...))
	}
	if slots := st.Capacity; st.Applied > 0 {
		before, after := st.LogNext-st.Applied, st.LogNext
		if !famfs.LogNearlyFull(before, slots) && famfs.LogNearlyFull(after, slots) {
			s.lg.Warn("the famfs log is over 90% full", "used", after, "slots", slots)
		}
	}
	if err != nil && !errors.Is(err, famfs.ErrLogDamaged) {
		s.lg.Warn("replay", "err", err)
	}
	return st, err
}

// notify drops the kernel's entries and cached listings that the new (and
// deleted) nodes make stale. Only directories the kernel knows need telling.
func (s *Server) notify(added []famfs.Node) {
	dirs := map[*fs.Inode]bool{}
	for _, n := range added {
		p, _ := n.Parent()
		in := s.kernelInode(p)
		if in == nil {
			continue
		}
		name := n.Name()
		if p.IsRoot() && name == metaName {
			continue
		}
		in.NotifyEntry(name)
		dirs[in] = true
		s.count(&s.stats.notifies)
	}
	for in := range dirs {
		in.NotifyContent(0, 0)
	}
}

// kernelInode finds the go-fuse inode of a namespace directory, if the
// kernel has looked it up.
func (s *Server) kernelInode(n famfs.Node) *fs.Inode {
	if !n.IsValid() {
		return nil
	}
	parent, ok := n.Parent()
	if !ok {
		return &s.root.Inode
	}
	p := s.kernelInode(parent)
	if p == nil {
		return nil
	}
	return p.GetChild(n.Name())
}

// Replay makes the poller replay now and waits for the result.
func (s *Server) Replay() (famfs.ReplayStatus, error) {
	reply := make(chan replayResult, 1)
	select {
	case s.trigger <- reply:
	case <-s.stop:
		return famfs.ReplayStatus{}, errors.New("the mount is shutting down")
	}
	r := <-reply
	return r.st, r.err
}

// Invalidate drops the kernel's cached pages of the file at rel.
func (s *Server) Invalidate(rel string) error {
	n, err := s.fsys.Lookup(rel)
	if err != nil {
		return err
	}
	if p, ok := n.Parent(); ok {
		if in := s.kernelInode(p); in != nil {
			if ch := in.GetChild(n.Name()); ch != nil {
				ch.NotifyContent(0, 0)
			}
		}
	}
	return nil
}

// Status reports what the control socket's /status returns.
func (s *Server) statusCounters() map[string]uint64 {
	c := &s.stats
	return map[string]uint64{
		"lookup": c.lookup.Load(), "getattr": c.getattr.Load(), "readdir": c.readdir.Load(),
		"open": c.open.Load(), "read": c.read.Load(), "read_bytes": c.readBytes.Load(),
		"write": c.write.Load(), "write_bytes": c.writeBytes.Load(), "refused": c.refused.Load(),
		"polls": c.polls.Load(), "replays": c.replays.Load(), "entries_applied": c.applied.Load(),
		"notifications": c.notifies.Load(), "problems": c.problems.Load(), "removed": c.removed.Load(),
		"readlink": c.readlink.Load(),
	}
}
