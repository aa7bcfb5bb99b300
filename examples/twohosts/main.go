// Command twohosts plays one host of the famfs demo. Run it once as the
// master (the host whose system UUID made the file system) and once as a
// client, as separate processes with different FAMFS_SYSTEM_UUID values:
//
//	FAMFS_SYSTEM_UUID=$MASTER twohosts -role master /dev/shm/famfs-demo.img
//	FAMFS_SYSTEM_UUID=$CLIENT twohosts -role client /dev/shm/famfs-demo.img
//
// The master creates a directory, a plain file and a striped file with seeded
// data; the client replays the log, maps each file (one slice that is the
// shared memory) and verifies the data.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/alloc"
)

func main() {
	role := flag.String("role", "client", "master or client")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: twohosts -role master|client <device>")
		os.Exit(16)
	}
	fsys, err := famfs.Open(flag.Arg(0), famfs.OpenOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer fsys.Close()
	fmt.Printf("[%s] opened %s as %s (host %s)\n", *role, flag.Arg(0), fsys.Role(), fsys.HostUUID())
	switch *role {
	case "master":
		master(fsys)
	default:
		client(fsys)
	}
}

var demo = []struct {
	path string
	size uint64
	seed uint64
	il   alloc.Interleave
}{
	{"demo/plain.bin", 48 << 20, 42, alloc.Interleave{}},
	{"demo/striped.bin", 64 << 20, 7, alloc.Interleave{NBuckets: 4, NStrips: 4, ChunkSize: 2 << 20}},
}

func master(fsys *famfs.FS) {
	if err := fsys.Mkdir("demo", famfs.MkdirOptions{Mode: 0o755, Parents: true}); err != nil {
		log.Fatal(err)
	}
	for _, d := range demo {
		f, err := fsys.Create(d.path, famfs.CreateOptions{Size: d.size, Mode: 0o644, Interleave: d.il})
		if err != nil {
			log.Fatal(err)
		}
		if err := f.Fill(d.seed); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("[master] created %s: %d bytes, %d device run(s), seed %d\n", d.path, d.size, len(f.Segments()), d.seed)
	}
}

func client(fsys *famfs.FS) {
	st, err := fsys.Refresh()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("[client] replayed %d log entries\n", st.Next)
	for _, d := range demo {
		f, err := fsys.OpenFile(d.path)
		if err != nil {
			log.Fatal(err)
		}
		m, err := f.Map(famfs.MapOptions{})
		if err != nil {
			log.Fatal(err)
		}
		t0 := time.Now()
		var sum uint64
		b := m.Bytes()
		for i := 0; i < len(b); i += 64 {
			sum += uint64(b[i])
		}
		el := time.Since(t0)
		if err := f.Verify(d.seed); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("[client] mapped %s (%d bytes, writable=%v), touched every cache line in %v (byte sum %d), verified seed %d\n",
			d.path, len(b), m.Writable(), el.Round(time.Microsecond), sum, d.seed)
		m.Unmap()
	}
}
