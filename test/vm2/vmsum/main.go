// Command vmsum prints the MD5 of each file (or of stdin for "-" or no
// argument) in md5sum's format. The VM scenarios (test/vm2) use it because
// busybox's md5sum runs at a few MB/s under QEMU's TCG.
package main

import (
	"crypto/md5"
	"fmt"
	"io"
	"os"
)

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		args = []string{"-"}
	}
	rc := 0
	buf := make([]byte, 1<<20)
	for _, a := range args {
		r := io.Reader(os.Stdin)
		if a != "-" {
			f, err := os.Open(a)
			if err != nil {
				fmt.Fprintf(os.Stderr, "vmsum: %v\n", err)
				rc = 1
				continue
			}
			defer f.Close()
			r = f
		}
		h := md5.New()
		if _, err := io.CopyBuffer(h, r, buf); err != nil {
			fmt.Fprintf(os.Stderr, "vmsum: %s: %v\n", a, err)
			rc = 1
			continue
		}
		fmt.Printf("%x  %s\n", h.Sum(nil), a)
	}
	os.Exit(rc)
}
