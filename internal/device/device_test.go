package device

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func newFile(t *testing.T, size uint64) *Device {
	t.Helper()
	d, err := Create(filepath.Join(t.TempDir(), "dev"), size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestCreateSparseFile(t *testing.T) {
	d := newFile(t, 8<<30)
	if d.Kind != RegularFile || d.Size != 8<<30 || d.Align != DefaultAlign {
		t.Fatalf("%+v", d)
	}
	var st syscall.Stat_t
	syscall.Fstat(int(d.Fd()), &st)
	if st.Blocks != 0 {
		t.Fatalf("new device file is not sparse: %d blocks", st.Blocks)
	}
}

func TestMapReadWriteAcrossMappings(t *testing.T) {
	d := newFile(t, 64<<20)
	a, err := d.Map(2<<20, 4<<20, true)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Unmap()
	b, err := d.Map(0, 8<<20, false)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Unmap()
	if err := a.WriteAt([]byte("famfs"), 100); err != nil {
		t.Fatal(err)
	}
	a.Flush(100, 5)
	b.Invalidate(2<<20+100, 5)
	got := make([]byte, 5)
	if err := b.ReadAt(got, 2<<20+100); err != nil || string(got) != "famfs" {
		t.Fatalf("read %q %v", got, err)
	}
	if err := b.WriteAt(got, 0); err == nil {
		t.Fatal("write through read-only mapping succeeded")
	}
	if err := a.StoreU64(8, 0x1122334455667788); err != nil {
		t.Fatal(err)
	}
	if v, err := b.LoadU64(2<<20 + 8); err != nil || v != 0x1122334455667788 {
		t.Fatalf("load %x %v", v, err)
	}
	// View shows the mapped bytes themselves, within bounds only
	if err := b.View(2<<20+100, 5, func(p []byte) {
		if string(p) != "famfs" || cap(p) != 5 {
			t.Fatalf("view %q cap %d", p, cap(p))
		}
	}); err != nil {
		t.Fatal(err)
	}
	for _, r := range [][2]uint64{{8<<20 - 4, 5}, {8 << 20, 1}, {9 << 20, 0}, {1, ^uint64(0)}} {
		if err := b.View(r[0], r[1], func([]byte) { t.Fatal("view out of bounds ran") }); err == nil {
			t.Fatalf("view 0x%x+0x%x beyond the mapping accepted", r[0], r[1])
		}
	}
	// A regular file maps at any page (a 4 KiB allocation unit needs it),
	// not at any byte.
	if _, err := d.Map(1<<20+512, 4096, false); err == nil {
		t.Fatal("an offset off the page grid accepted")
	}
	if m, err := d.Map(1<<20+4096, 4096, false); err != nil {
		t.Fatalf("a page-aligned offset refused: %v", err)
	} else {
		m.Unmap()
	}
	if _, err := d.Map(62<<20, 4<<20, false); err == nil || !strings.Contains(err.Error(), "beyond the end") {
		t.Fatalf("map past the end: %v", err)
	}
}

func TestMapRunsComposesOneSlice(t *testing.T) {
	d := newFile(t, 64<<20)
	w, _ := d.Map(0, 64<<20, true)
	defer w.Unmap()
	for i := range 8 {
		w.WriteAt(bytes.Repeat([]byte{byte('a' + i)}, 2<<20), uint64(i)*(2<<20))
	}
	// virtual [0,2M) <- device chunk 5, [2M,6M) <- chunks 1,2
	m, err := d.MapRuns([]Run{{0, 5 << 21, 2 << 20}, {2 << 20, 1 << 21, 4 << 20}}, 6<<20, 5<<20, false)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Unmap()
	p := m.Bytes()
	if len(p) != 5<<20 || uintptr(len(p)) == 0 {
		t.Fatalf("len %d", len(p))
	}
	if p[0] != 'f' || p[2<<20] != 'b' || p[4<<20] != 'c' || p[5<<20-1] != 'c' {
		t.Fatalf("composed bytes wrong: %c %c %c", p[0], p[2<<20], p[4<<20])
	}
	// a store through the writable device mapping is visible in the composed one
	w.WriteAt([]byte{'Z'}, 5<<21+7)
	if p[7] != 'Z' {
		t.Fatal("composed mapping is not the shared memory")
	}
}

func TestFaultBecomesError(t *testing.T) {
	d := newFile(t, 8<<20)
	m, err := d.Map(0, 8<<20, true)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Unmap()
	if err := d.File().Truncate(4096); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	err = m.ReadAt(buf, 4<<20)
	if !errors.Is(err, ErrFault) {
		t.Fatalf("read of a truncated device: %v", err)
	}
	if err := m.WriteAt(buf, 6<<20); !errors.Is(err, ErrFault) {
		t.Fatalf("write of a truncated device: %v", err)
	}
	var seen byte
	if err := m.View(4<<20, 16, func(p []byte) { seen = p[3] }); !errors.Is(err, ErrFault) {
		t.Fatalf("view of a truncated device: %v (read %d)", err, seen)
	}
}

func TestRefusesNonDevices(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	syscall.Mkfifo(fifo, 0o600)
	for _, c := range []struct{ path, want string }{
		{"/dev/zero", "not a dax device"},
		{dir, "directory"},
		{filepath.Join(dir, "missing"), "no such file"},
	} {
		d, err := Open(c.path, false)
		if err == nil {
			d.Close()
			t.Errorf("%s: opened", c.path)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.path, err, c.want)
		}
	}
	// A FIFO would block in open(2) without a writer; famfs opens with O_RDWR
	// when writing, which does not block, and must then refuse it.
	if d, err := Open(fifo, true); err == nil || !strings.Contains(err.Error(), "FIFO") {
		if d != nil {
			d.Close()
		}
		t.Errorf("fifo: %v", err)
	}
}

func TestCacheOpsRun(t *testing.T) {
	b := make([]byte, 10000)
	Flush(b[3:])
	Invalidate(b[1:4097])
	HardFlush(b)
	Flush(nil)
	if CacheOps() == "" {
		t.Fatal("no description")
	}
	t.Log(CacheOps())
	_ = os.Getpagesize()
}
