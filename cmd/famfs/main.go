// Command famfs is the famfs command line: `famfs <command>`. Installed (or
// linked) as mkfs.famfs or mount.famfs it acts as those.
package main

import (
	"os"

	"github.com/famfs-go/famfs/cli"
)

func main() { os.Exit(cli.Main(os.Args)) }
