// Command mapcat writes a famfs file to stdout through the library's Map: the
// bytes come straight from the shared memory of the device, with no mount, no
// page cache and no read(2). The VM scenarios (test/vm2) use it to check what
// a second kernel sees in the memory the first one wrote.
//
//	mapcat [-dev /dev/dax0.0] [-hold FLAG [-ready FILE]] [-check] PATH
//	mapcat [-dev /dev/dax0.0] -sum PATH...
//
// PATH is relative to the file system root. -sum prints the MD5 of each
// file's mapped bytes in md5sum's format instead of the bytes (one process
// for many files: a Go program starts slowly in an emulated guest). The role (master or client) comes
// from FAMFS_SYSTEM_UUID, as for the famfs command. With -hold the file is
// mapped first, then mapcat waits until the file FLAG exists (a flag another
// VM raises) and only then reads the mapping it already holds: this shows that
// a mapping made before another host's write sees the new bytes. -ready
// creates FILE once the mapping is in place. -check re-reads the superblock
// before writing anything and refuses to print a file of a file system that
// was re-made under the mapping.
//
// Exit codes: 0 done, 1 failure, 3 the file system was re-made (-check),
// 16 usage.
package main

import (
	"crypto/md5"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	famfs "github.com/famfs-go/famfs"
)

func main() {
	dev := flag.String("dev", "/dev/dax0.0", "famfs device")
	hold := flag.String("hold", "", "map, then wait for this flag file before reading")
	ready := flag.String("ready", "", "create this file once the mapping is in place")
	check := flag.Bool("check", false, "refuse to print if the file system was re-made")
	wait := flag.Duration("wait", 5*time.Minute, "longest wait for the -hold flag")
	sum := flag.Bool("sum", false, "print each file's MD5 (md5sum format) instead of its bytes")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: mapcat [-dev DEV] [-hold FLAG [-ready FILE]] [-check] PATH | -sum PATH...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *sum && flag.NArg() > 0 && *hold == "" {
		os.Exit(sums(*dev, flag.Args()))
	}
	if flag.NArg() != 1 || *sum {
		flag.Usage()
		os.Exit(16)
	}
	os.Exit(run(*dev, flag.Arg(0), *hold, *ready, *check, *wait))
}

func sums(dev string, paths []string) int {
	fsys, err := famfs.Open(dev, famfs.OpenOptions{ReadOnly: true})
	if err != nil {
		fmt.Fprintf(os.Stderr, "mapcat: %v\n", err)
		return 1
	}
	defer fsys.Close()
	rc := 0
	for _, p := range paths {
		h, err := mapSum(fsys, strings.TrimPrefix(p, "./"))
		if err != nil {
			fmt.Fprintf(os.Stderr, "mapcat: %v\n", err)
			rc = 1
			continue
		}
		fmt.Printf("%x  %s\n", h, p)
	}
	return rc
}

func mapSum(fsys *famfs.FS, path string) ([]byte, error) {
	f, err := fsys.OpenFile(path)
	if err != nil {
		return nil, err
	}
	m, err := f.Map(famfs.MapOptions{Access: famfs.MapReadOnly})
	if err != nil {
		return nil, err
	}
	defer m.Unmap()
	m.Invalidate()
	h := md5.Sum(m.Bytes())
	return h[:], nil
}

func run(dev, path, hold, ready string, check bool, wait time.Duration) int {
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "mapcat: %v\n", err)
		if errors.Is(err, famfs.ErrFSChanged) {
			return 3
		}
		return 1
	}
	fsys, err := famfs.Open(dev, famfs.OpenOptions{ReadOnly: true})
	if err != nil {
		return fail(err)
	}
	defer fsys.Close()
	f, err := fsys.OpenFile(path)
	if err != nil {
		return fail(err)
	}
	m, err := f.Map(famfs.MapOptions{Access: famfs.MapReadOnly})
	if err != nil {
		return fail(err)
	}
	defer m.Unmap()
	if ready != "" {
		if err := os.WriteFile(ready, []byte("mapped\n"), 0o644); err != nil {
			return fail(err)
		}
	}
	if hold != "" {
		deadline := time.Now().Add(wait)
		for {
			if _, err := os.Stat(hold); err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fail(fmt.Errorf("no flag %s after %v", hold, wait))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if check {
		if err := fsys.CheckSuperblock(); err != nil {
			return fail(err)
		}
	}
	// Another host wrote the bytes: drop whatever this CPU may hold of them.
	m.Invalidate()
	if _, err := os.Stdout.Write(m.Bytes()); err != nil {
		return fail(fmt.Errorf("write %s to stdout: %w", path, err))
	}
	return 0
}
