package famfs_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	famfs "github.com/famfs-go/famfs"
	"github.com/google/uuid"
)

// Two hosts share one device: the master (the host that ran Mkfs) creates a
// file and writes it; a client replays the log and maps the same memory.
func Example() {
	dir, _ := os.MkdirTemp("", "famfs-example")
	defer os.RemoveAll(dir)
	dev := filepath.Join(dir, "dax.img") // a sparse regular file stands in for /dev/dax0.0

	masterID := uuid.MustParse("0a0a0a0a-0000-4000-8000-000000000001")
	clientID := uuid.MustParse("0b0b0b0b-0000-4000-8000-000000000002")
	if _, err := famfs.Mkfs(dev, famfs.MkfsOptions{Size: 4 << 30, SystemUUID: masterID}); err != nil {
		log.Fatal(err)
	}

	master, err := famfs.Open(dev, famfs.OpenOptions{SystemUUID: masterID})
	if err != nil {
		log.Fatal(err)
	}
	defer master.Close()
	if err := master.Mkdir("shared", famfs.MkdirOptions{Mode: 0o755}); err != nil {
		log.Fatal(err)
	}
	f, err := master.Create("shared/greeting", famfs.CreateOptions{Size: 64, Mode: 0o644})
	if err != nil {
		log.Fatal(err)
	}
	m, _ := f.Map(famfs.MapOptions{})
	copy(m.Bytes(), "hello from the master")
	m.Flush() // write the cache lines back so other hosts see them
	m.Unmap()

	client, err := famfs.Open(dev, famfs.OpenOptions{SystemUUID: clientID})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	cf, err := client.OpenFile("shared/greeting")
	if err != nil {
		log.Fatal(err)
	}
	cm, _ := cf.Map(famfs.MapOptions{})
	defer cm.Unmap()
	cm.Invalidate() // drop stale cache lines before reading shared memory
	fmt.Println(master.Role(), client.Role(), cf.Size())
	fmt.Printf("%s\n", cm.Bytes()[:21])
	// Output:
	// master client 64
	// hello from the master
}

// A client learns about new files by refreshing (the mount's daemon does this
// by polling Changed).
func ExampleFS_Refresh() {
	dir, _ := os.MkdirTemp("", "famfs-example")
	defer os.RemoveAll(dir)
	dev := filepath.Join(dir, "dax.img")
	masterID, clientID := uuid.New(), uuid.New()
	famfs.Mkfs(dev, famfs.MkfsOptions{Size: 4 << 30, SystemUUID: masterID})
	master, _ := famfs.Open(dev, famfs.OpenOptions{SystemUUID: masterID})
	defer master.Close()
	client, _ := famfs.Open(dev, famfs.OpenOptions{SystemUUID: clientID})
	defer client.Close()

	// A batch logs both files in one append: a client sees both or neither.
	master.Batch(func(b *famfs.Batch) error {
		b.Create("a", famfs.CreateOptions{Size: 1 << 20, Mode: 0o644})
		b.Create("b", famfs.CreateOptions{Size: 3 << 20, Mode: 0o600})
		return nil
	})
	changed, _ := client.Changed()
	st, _ := client.Refresh()
	fmt.Println(changed, st.Applied)
	infos, _ := client.ReadDir("")
	for _, i := range infos {
		fmt.Println(i.Name, i.Size, i.Mode)
	}
	// Output:
	// true 2
	// a 1048576 -rw-r--r--
	// b 3145728 -rw-------
}

// Seeded data is byte-identical to the reference's `creat --randomize --seed`.
func ExampleFile_Fill() {
	dir, _ := os.MkdirTemp("", "famfs-example")
	defer os.RemoveAll(dir)
	dev := filepath.Join(dir, "dax.img")
	id := uuid.New()
	famfs.Mkfs(dev, famfs.MkfsOptions{Size: 4 << 30, SystemUUID: id})
	fsys, _ := famfs.Open(dev, famfs.OpenOptions{SystemUUID: id})
	defer fsys.Close()
	f, _ := fsys.Create("rand", famfs.CreateOptions{Size: 23, Mode: 0o644})
	f.Fill(1)
	b := make([]byte, 8)
	f.ReadAt(b, 0)
	fmt.Printf("% x\n", b)
	fmt.Println(f.Verify(1) == nil, f.Verify(2) == nil)
	// Output:
	// 28 49 91 ee 66 b6 fb 34
	// true false
}

// Fsck checks a device without changing it.
func ExampleFsck() {
	dir, _ := os.MkdirTemp("", "famfs-example")
	defer os.RemoveAll(dir)
	dev := filepath.Join(dir, "dax.img")
	id := uuid.New()
	famfs.Mkfs(dev, famfs.MkfsOptions{Size: 4 << 30, SystemUUID: id})
	fsys, _ := famfs.Open(dev, famfs.OpenOptions{SystemUUID: id})
	fsys.Mkdir("d/e", famfs.MkdirOptions{Mode: 0o755, Parents: true})
	fsys.Create("d/e/f", famfs.CreateOptions{Size: 5 << 20, Mode: 0o644})
	fsys.Close()

	r, _ := famfs.Fsck(dev, famfs.FsckOptions{SystemUUID: id})
	fmt.Println(r.Clean(), r.Role, r.EntriesUsed, r.Files, r.Dirs, r.Allocated>>20, "MiB allocated")
	// Output:
	// true Owner 3 1 2 16 MiB allocated
}

// newExampleFS makes a file system on a sparse file and opens it as the
// master; the caller removes dir.
func newExampleFS() (fsys *famfs.FS, dev, dir string, master uuid.UUID) {
	dir, _ = os.MkdirTemp("", "famfs-example")
	dev = filepath.Join(dir, "dax.img")
	master = uuid.New()
	if _, err := famfs.Mkfs(dev, famfs.MkfsOptions{Size: 4 << 30, SystemUUID: master}); err != nil {
		log.Fatal(err)
	}
	fsys, err := famfs.Open(dev, famfs.OpenOptions{SystemUUID: master})
	if err != nil {
		log.Fatal(err)
	}
	return fsys, dev, dir, master
}

// Map places a striped file's chunks back to back: one slice, no copies,
// whatever the layout on the device.
func ExampleFile_Map() {
	fsys, _, dir, _ := newExampleFS()
	defer os.RemoveAll(dir)
	defer fsys.Close()
	f, err := fsys.Create("striped", famfs.CreateOptions{Size: 9 << 20, Mode: 0o644,
		Interleave: famfs.Interleave{NBuckets: 4, NStrips: 2, ChunkSize: 2 << 20}})
	if err != nil {
		log.Fatal(err)
	}
	m, err := f.Map(famfs.MapOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Unmap()
	b := m.Bytes()
	for i := range b {
		b[i] = byte(i / (2 << 20)) // the chunk number, in every byte of it
	}
	m.Flush()
	fmt.Println(len(b), len(f.Segments()), "device runs")
	one := make([]byte, 1)
	f.ReadAt(one, 5<<20) // ReadAt goes to the same memory
	fmt.Println(one[0])
	// Output:
	// 9437184 5 device runs
	// 2
}

// A client watches for new files: poll the cheap Changed, then Refresh, which
// reports the nodes it added. A Node never changes or moves, so it may be
// kept; Open needs no path lookup.
func ExampleFS_Changed() {
	master, dev, dir, _ := newExampleFS()
	defer os.RemoveAll(dir)
	defer master.Close()
	client, err := famfs.Open(dev, famfs.OpenOptions{SystemUUID: uuid.New()})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	master.Mkdir("in", famfs.MkdirOptions{Mode: 0o755})
	f, _ := master.Create("in/job1", famfs.CreateOptions{Size: 4096, Mode: 0o644})
	f.WriteAt([]byte("ready"), 0)
	f.Flush()

	for {
		if changed, _ := client.Changed(); changed {
			break
		}
		time.Sleep(time.Millisecond) // the mount's daemon polls every 2 ms
	}
	st, _ := client.Refresh()
	for _, n := range st.Added {
		if n.IsDir() {
			fmt.Println("dir ", n.Path())
			continue
		}
		cf, _ := n.Open()
		cf.Invalidate()
		b := make([]byte, 5)
		cf.ReadAt(b, 0)
		fmt.Println("file", n.Path(), n.Size(), string(b))
	}
	in, _ := client.Lookup("in")
	for _, k := range in.Children() {
		fmt.Println(k.Name(), k.Ino() == st.Added[1].Ino())
	}
	// Output:
	// dir  in
	// file in/job1 4096 ready
	// job1 true
}
