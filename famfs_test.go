package famfs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
)

var (
	masterID = uuid.MustParse("11111111-1111-4111-8111-111111111111")
	clientID = uuid.MustParse("22222222-2222-4222-8222-222222222222")
)

// newFS makes a 4 GiB sparse device file and a file system on it, and opens
// it as the master.
func newFS(t testing.TB) (*FS, string) {
	t.Helper()
	dev := filepath.Join(t.TempDir(), "famfs.img")
	if _, err := Mkfs(dev, MkfsOptions{Size: 4 << 30, SystemUUID: masterID}); err != nil {
		t.Fatal(err)
	}
	return openAs(t, dev, masterID), dev
}

func openAs(t testing.TB, dev string, id uuid.UUID) *FS {
	t.Helper()
	f, err := Open(dev, OpenOptions{SystemUUID: id})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestMasterCreatesClientSees(t *testing.T) {
	m, dev := newFS(t)
	if m.Role() != Master {
		t.Fatal("mkfs host is not the master")
	}
	c := openAs(t, dev, clientID)
	if c.Role() != Client {
		t.Fatal("other host is not a client")
	}
	if err := m.Mkdir("a/b", MkdirOptions{Mode: 0o755, Parents: true}); err != nil {
		t.Fatal(err)
	}
	f, err := m.Create("a/b/data", CreateOptions{Size: 5 << 20, Mode: 0o640, UID: 7, GID: 8})
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("hello across hosts")
	if _, err := f.WriteAt(msg, 3<<20); err != nil {
		t.Fatal(err)
	}
	f.Flush()

	if _, err := c.Stat("a/b/data"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("client saw the file before refreshing: %v", err)
	}
	st, err := c.Refresh()
	if err != nil || st.Applied != 3 {
		t.Fatalf("refresh %+v %v", st, err)
	}
	info, err := c.Stat("/a/b/./data")
	if err != nil || info.Size != 5<<20 || info.Mode.Perm() != 0o640 || info.UID != 7 || info.GID != 8 || info.Ino != f.Info().Ino {
		t.Fatalf("%+v %v", info, err)
	}
	cf, _ := c.OpenFile("a/b/data")
	got := make([]byte, len(msg))
	cf.Invalidate()
	if _, err := cf.ReadAt(got, 3<<20); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("client read %q %v", got, err)
	}
	// the client may not write data or the log
	if _, err := cf.WriteAt(msg, 0); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("client write: %v", err)
	}
	if _, err := c.Create("x", CreateOptions{Size: 1}); !errors.Is(err, ErrNotMaster) {
		t.Fatalf("client create: %v", err)
	}
	// Map on the client is read-only and is the same memory
	mp, err := cf.Map(MapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Unmap()
	if mp.Writable() || !bytes.Equal(mp.Bytes()[3<<20:3<<20+len(msg)], msg) || len(mp.Bytes()) != 5<<20 {
		t.Fatal("client mapping")
	}
	f.WriteAt([]byte("X"), 3<<20)
	if mp.Bytes()[3<<20] != 'X' {
		t.Fatal("mapping is not the shared memory")
	}
}

func TestReadWriteEdges(t *testing.T) {
	m, _ := newFS(t)
	f, err := m.Create("f", CreateOptions{Size: 100, Mode: 0o644})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if n, err := f.ReadAt(buf, 90); n != 10 || err != io.EOF {
		t.Fatalf("short read %d %v", n, err)
	}
	if _, err := f.ReadAt(buf, 100); err != io.EOF {
		t.Fatalf("read at EOF %v", err)
	}
	if n, err := f.WriteAt(buf, 90); n != 10 || !errors.Is(err, ErrFileSize) {
		t.Fatalf("write past end %d %v", n, err)
	}
	if _, err := m.Create("f", CreateOptions{Size: 100}); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("duplicate create %v", err)
	}
	if _, err := m.Create("nodir/f", CreateOptions{Size: 100}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing parent %v", err)
	}
	if _, err := m.Create("f/g", CreateOptions{Size: 100}); !errors.Is(err, ErrNotDir) {
		t.Fatalf("file as parent %v", err)
	}
	if _, err := m.Create("../x", CreateOptions{Size: 100}); !errors.Is(err, ErrBadPath) {
		t.Fatalf("escape %v", err)
	}
	if _, err := m.Create("g", CreateOptions{Size: 0}); !errors.Is(err, fs.ErrInvalid) {
		t.Fatalf("zero size %v", err)
	}
	if err := m.Mkdir("f", MkdirOptions{}); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("mkdir over file %v", err)
	}
	if err := m.Mkdir("f/x", MkdirOptions{Parents: true}); !errors.Is(err, ErrNotDir) {
		t.Fatalf("mkdir -p through file %v", err)
	}
	if err := m.Mkdir("", MkdirOptions{Parents: true}); err != nil {
		t.Fatalf("mkdir -p root %v", err)
	}
}

func TestFillVerifyInterleavedMap(t *testing.T) {
	m, _ := newFS(t)
	f, err := m.Create("s", CreateOptions{Size: 9<<20 + 3, Mode: 0o644,
		Interleave: Interleave{NBuckets: 4, NStrips: 2, ChunkSize: 2 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Info().Map.Interleave) != 1 {
		t.Fatal("not interleaved")
	}
	if err := f.Fill(42); err != nil {
		t.Fatal(err)
	}
	if err := f.Verify(42); err != nil {
		t.Fatal(err)
	}
	var ve *VerifyError
	if err := f.Verify(43); !errors.As(err, &ve) || ve.Offset != 0 {
		t.Fatalf("wrong seed %v", err)
	}
	f.WriteAt([]byte{0}, 5<<20+7)
	if err := f.Verify(42); !errors.As(err, &ve) || ve.Offset != 5<<20+4 {
		t.Fatalf("corrupted byte: %v", err)
	}
	// The mapping reads the interleaved file in file order.
	mp, err := f.Map(MapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Unmap()
	whole := make([]byte, f.Size())
	f.ReadAt(whole, 0)
	if !bytes.Equal(mp.Bytes(), whole) {
		t.Fatal("mapping differs from ReadAt")
	}
}

func TestFsckClean(t *testing.T) {
	m, dev := newFS(t)
	m.Mkdir("d", MkdirOptions{Mode: 0o755})
	m.Create("d/f", CreateOptions{Size: 3 << 20})
	r, err := Fsck(dev, FsckOptions{SystemUUID: masterID})
	if err != nil || !r.Clean() || r.Role != "Owner" || r.Files != 1 || r.Dirs != 1 || r.Allocated != 10<<20+4<<20 {
		t.Fatalf("%+v %v", r, err)
	}
}

// Nothing may be logged as .meta or under it at the root: every mount
// serves its own .meta there and would hide it.
func TestMetaDirReserved(t *testing.T) {
	m, _ := newFS(t)
	if _, err := m.Create(".meta", CreateOptions{Size: 4096}); !errors.Is(err, fs.ErrExist) {
		t.Errorf("create .meta: %v", err)
	}
	if _, err := m.Create("/.meta/x", CreateOptions{Size: 4096}); !errors.Is(err, ErrBadPath) {
		t.Errorf("create .meta/x: %v", err)
	}
	if err := m.Mkdir(".meta", MkdirOptions{Mode: 0o755}); !errors.Is(err, fs.ErrExist) {
		t.Errorf("mkdir .meta: %v", err)
	}
	if err := m.Mkdir(".meta", MkdirOptions{Mode: 0o755, Parents: true}); err != nil {
		t.Errorf("mkdir -p .meta: %v", err)
	}
	if err := m.Mkdir(".meta/a/b", MkdirOptions{Mode: 0o755, Parents: true}); !errors.Is(err, ErrBadPath) {
		t.Errorf("mkdir -p .meta/a/b: %v", err)
	}
	// Elsewhere the name is ordinary.
	if err := m.Mkdir("d/.meta", MkdirOptions{Mode: 0o755, Parents: true}); err != nil {
		t.Errorf("mkdir d/.meta: %v", err)
	}
	if next, _, _ := m.LogStatus(); next != 2 {
		t.Errorf("%d log entries, want 2", next)
	}
}

// Fsck of a directory that is not a famfs mount says so.
func TestFsckNotAMount(t *testing.T) {
	if _, err := Fsck(t.TempDir(), FsckOptions{}); !errors.Is(err, fs.ErrInvalid) || !strings.Contains(err.Error(), "not the root of a famfs mount") {
		t.Fatalf("fsck of a plain directory: %v", err)
	}
}
