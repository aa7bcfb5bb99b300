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
	il   famfs.Interleave
}{
	{"demo/plain.bin", 48 << 20, 42, famfs.Interleave{}},
	{"demo/striped.bin", 64 << 20, 7, famfs.Interleave{NBuckets: 4, NStrips: 4, ChunkSize: 2 << 20}},
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
	if _, err := fsys.Stat(demo[0].path); err != nil {
		// Not the master's demo files (scripts/demo.sh makes its own): map
		// whatever the file system holds.
		var paths []string
		fsys.Walk("", func(i famfs.Info) error {
			if !i.IsDir() {
				paths = append(paths, i.Path)
			}
			return nil
		})
		for _, p := range paths {
			mapAndTouch(fsys, p)
		}
		return
	}
	for _, d := range demo {
		f := mapAndTouch(fsys, d.path)
		if err := f.Verify(d.seed); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("[client] %s: verified seed %d\n", d.path, d.seed)
	}
}

// mapAndTouch maps a file (one slice that is the shared memory) and loads
// one byte of every cache line.
func mapAndTouch(fsys *famfs.FS, path string) *famfs.File {
	f, err := fsys.OpenFile(path)
	if err != nil {
		log.Fatal(err)
	}
	m, err := f.Map(famfs.MapOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Unmap()
	t0 := time.Now()
	var sum uint64
	b := m.Bytes()
	for i := 0; i < len(b); i += 64 {
		sum += uint64(b[i])
	}
	fmt.Printf("[client] mapped %s: %d bytes in %d device run(s), writable=%v, every cache line touched in %v (byte sum %d)\n",
		path, len(b), len(f.Segments()), m.Writable(), time.Since(t0).Round(time.Microsecond), sum)
	return f
}
