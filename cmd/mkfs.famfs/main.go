// Command mkfs.famfs makes a famfs file system (the same program as famfs).
package main

import (
	"os"

	"github.com/famfs-go/famfs/cli"
)

func main() {
	args := append([]string{"mkfs.famfs"}, os.Args[1:]...)
	os.Exit(cli.Main(args))
}
