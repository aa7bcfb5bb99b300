// Command pcq runs the famfs producer/consumer queue (the same program as
// famfs pcq).
package main

import (
	"os"

	"github.com/famfs-go/famfs/cli"
)

func main() {
	args := append([]string{"pcq"}, os.Args[1:]...)
	os.Exit(cli.Main(args))
}
