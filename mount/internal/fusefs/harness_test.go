package fusefs

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	famfs "github.com/famfs-go/famfs"
	"github.com/google/uuid"
	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

var (
	masterID = uuid.MustParse("6d6d6d6d-0000-4000-8000-000000000001")
	clientID = uuid.MustParse("6d6d6d6d-0000-4000-8000-000000000002")
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// mkfs makes a file system on a sparse file and returns its path.
func mkfs(t *testing.T, reclaim bool) string {
	t.Helper()
	dev := filepath.Join(t.TempDir(), "famfs.img")
	if _, err := famfs.Mkfs(dev, famfs.MkfsOptions{Size: 4 << 30, SystemUUID: masterID, Reclaim: reclaim}); err != nil {
		t.Fatal(err)
	}
	return dev
}

// openFS opens dev as host id.
func openFS(t *testing.T, dev string, id uuid.UUID, o famfs.OpenOptions) *famfs.FS {
	t.Helper()
	o.SystemUUID, o.Logger = id, quiet
	f, err := famfs.Open(dev, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// notes records what the tree tells the kernel (fs.ServerCallbacks).
type notes struct {
	mu      sync.Mutex
	entries []string // "parent-nodeid/name"
	inodes  []uint64
}

func (n *notes) DeleteNotify(parent, child uint64, name string) fuse.Status { return fuse.OK }
func (n *notes) EntryNotify(parent uint64, name string) fuse.Status {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.entries = append(n.entries, name)
	return fuse.OK
}
func (n *notes) InodeNotify(node uint64, off, length int64) fuse.Status {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.inodes = append(n.inodes, node)
	return fuse.OK
}
func (n *notes) InodeRetrieveCache(node uint64, offset int64, dest []byte) (int, fuse.Status) {
	return 0, fuse.ENOSYS
}
func (n *notes) InodeNotifyStoreCache(node uint64, offset int64, data []byte) fuse.Status {
	return fuse.ENOSYS
}

// env is a node tree driven as the kernel would, without a mount.
type env struct {
	t     *testing.T
	fsys  *famfs.FS
	tree  *Tree
	raw   fuse.RawFileSystem
	notes *notes
	// caller of the requests; root by default
	caller fuse.Caller
}

var started = time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC)

func newEnv(t *testing.T, fsys *famfs.FS, cfg Config) *env {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	if cfg.Started.IsZero() {
		cfg.Started = started
	}
	tree := New(fsys, cfg)
	o := tree.Options(fuse.MountOptions{})
	n := &notes{}
	o.ServerCallbacks = n
	raw := fs.NewNodeFS(tree.Root(), o)
	return &env{t: t, fsys: fsys, tree: tree, raw: raw, notes: n, caller: fuse.Caller{Pid: uint32(os.Getpid())}}
}

// defaultConfig is a mount's default: one hour's timeout, direct I/O.
func defaultConfig() Config {
	return Config{Timeout: time.Hour, OpenFlags: fuse.FOPEN_DIRECT_IO, DefaultPermissions: true}
}

func (e *env) hdr(node uint64) fuse.InHeader { return fuse.InHeader{NodeId: node, Caller: e.caller} }

func (e *env) lookup(parent uint64, name string) (fuse.EntryOut, syscall.Errno) {
	var out fuse.EntryOut
	h := e.hdr(parent)
	st := e.raw.Lookup(nil, &h, name, &out)
	return out, syscall.Errno(st)
}

// walk looks up each name from the root and returns the last node id.
func (e *env) walk(names ...string) uint64 {
	e.t.Helper()
	id := uint64(fuse.FUSE_ROOT_ID)
	for _, n := range names {
		out, errno := e.lookup(id, n)
		if errno != 0 {
			e.t.Fatalf("lookup %q: %v", n, errno)
		}
		id = out.NodeId
	}
	return id
}

func (e *env) getattr(node uint64) (fuse.AttrOut, syscall.Errno) {
	var out fuse.AttrOut
	in := fuse.GetAttrIn{InHeader: e.hdr(node)}
	return out, syscall.Errno(e.raw.GetAttr(nil, &in, &out))
}

func (e *env) open(node uint64, flags uint32) (fuse.OpenOut, syscall.Errno) {
	var out fuse.OpenOut
	in := fuse.OpenIn{InHeader: e.hdr(node), Flags: flags}
	return out, syscall.Errno(e.raw.Open(nil, &in, &out))
}

func (e *env) mustOpen(node uint64, flags uint32) uint64 {
	e.t.Helper()
	out, errno := e.open(node, flags)
	if errno != 0 {
		e.t.Fatalf("open: %v", errno)
	}
	return out.Fh
}

func (e *env) release(node, fh uint64) {
	in := fuse.ReleaseIn{InHeader: e.hdr(node), Fh: fh}
	e.raw.Release(nil, &in)
}

func (e *env) read(node, fh uint64, off int64, size int) ([]byte, syscall.Errno) {
	in := fuse.ReadIn{InHeader: e.hdr(node), Fh: fh, Offset: uint64(off), Size: uint32(size)}
	buf := make([]byte, size)
	res, st := e.raw.Read(nil, &in, buf)
	if st != fuse.OK {
		return nil, syscall.Errno(st)
	}
	b, st := res.Bytes(buf)
	res.Done()
	return append([]byte(nil), b...), syscall.Errno(st)
}

func (e *env) write(node, fh uint64, off int64, data []byte) (uint32, syscall.Errno) {
	in := fuse.WriteIn{InHeader: e.hdr(node), Fh: fh, Offset: uint64(off), Size: uint32(len(data))}
	n, st := e.raw.Write(nil, &in, data)
	return n, syscall.Errno(st)
}

func (e *env) setattr(node uint64, in fuse.SetAttrIn) (fuse.AttrOut, syscall.Errno) {
	in.InHeader = e.hdr(node)
	var out fuse.AttrOut
	return out, syscall.Errno(e.raw.SetAttr(nil, &in, &out))
}

func (e *env) unlink(parent uint64, name string) syscall.Errno {
	h := e.hdr(parent)
	return syscall.Errno(e.raw.Unlink(nil, &h, name))
}

func (e *env) rmdir(parent uint64, name string) syscall.Errno {
	h := e.hdr(parent)
	return syscall.Errno(e.raw.Rmdir(nil, &h, name))
}

// readdir lists a directory with READDIRPLUS, as the kernel does.
func (e *env) readdir(node uint64) ([]fuse.DirEntry, []fuse.EntryOut, uint32) {
	e.t.Helper()
	var oo fuse.OpenOut
	oin := fuse.OpenIn{InHeader: e.hdr(node)}
	if st := e.raw.OpenDir(nil, &oin, &oo); st != fuse.OK {
		e.t.Fatalf("opendir: %v", st)
	}
	var ents []fuse.DirEntry
	var outs []fuse.EntryOut
	off := uint64(0)
	for {
		buf := make([]byte, 4096)
		l := fuse.NewDirEntryList(buf, off)
		in := fuse.ReadIn{InHeader: e.hdr(node), Fh: oo.Fh, Offset: off, Size: uint32(len(buf))}
		if st := e.raw.ReadDirPlus(nil, &in, l); st != fuse.OK {
			e.t.Fatalf("readdirplus: %v", st)
		}
		got, gotOuts, err := fuse.ParseDirLookupEntries(l.Bytes())
		if err != nil {
			e.t.Fatal(err)
		}
		if len(got) == 0 {
			break
		}
		ents, outs = append(ents, got...), append(outs, gotOuts...)
		off = got[len(got)-1].Off
	}
	rin := fuse.ReleaseIn{InHeader: e.hdr(node), Fh: oo.Fh}
	e.raw.ReleaseDir(&rin)
	return ents, outs, oo.OpenFlags
}

func create(t *testing.T, fsys *famfs.FS, path string, o famfs.CreateOptions) *famfs.File {
	t.Helper()
	f, err := fsys.Create(path, o)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
