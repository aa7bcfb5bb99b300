// Command arrowdemo shares an Apache Arrow table between hosts through famfs,
// with no copies: the master writes an Arrow IPC file into a famfs file; any
// host maps that file with the famfs library and Arrow's IPC reader hands out
// column buffers that are slices of the shared memory itself.
//
// One machine plays two hosts with two FAMFS_SYSTEM_UUID values over one
// device file (see README.md):
//
//	FAMFS_SYSTEM_UUID=$MASTER arrowdemo write DEVICE table.arrow
//	FAMFS_SYSTEM_UUID=$CLIENT arrowdemo read DEVICE table.arrow
//	FAMFS_SYSTEM_UUID=$MASTER arrowdemo poke -batch 3 -row 17 -value 42 DEVICE table.arrow
//	FAMFS_SYSTEM_UUID=$CLIENT arrowdemo client DEVICE table.arrow   # commands on stdin
//	FAMFS_SYSTEM_UUID=$CLIENT arrowdemo bench DEVICE table.arrow
//
// A file may also be named by one path inside a famfs mount instead of
// DEVICE FILE (the library then opens it with famfs.OpenMounted).
//
// Exit codes: 0 done, 1 failed, 16 usage.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 16
)

const usage = `usage: arrowdemo COMMAND [flags] (DEVICE FILE | MOUNTED-PATH)

commands:
  write   [-batches N] [-rows N] [-dict=false] [-mode 0644] [-tmp DIR]
                                                (master) write an Arrow IPC file into a new famfs file
  read                                          map the file and read every batch in place; check zero copy
  client                                        like read, then keep the mapping and answer commands on stdin
  poke    -batch K -row R -value V              (master) store V as id of row R of batch K, in place
  bench   [-rounds N] [-tmp DIR]                time reading through the famfs mapping against a tmpfs copy
`

// errUsage marks a command-line mistake (exit 16).
var errUsage = errors.New("usage")

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmds := map[string]func(fs *flag.FlagSet, stdin io.Reader, stdout io.Writer) (func() error, error){
		"write":  cmdWrite,
		"read":   cmdRead,
		"client": cmdClient,
		"poke":   cmdPoke,
		"bench":  cmdBench,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "arrowdemo: unknown command %q\n%s", args[0], usage)
		return exitUsage
	}
	fs := flag.NewFlagSet("arrowdemo "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	do, err := cmd(fs, stdin, stdout)
	if err == nil {
		err = fs.Parse(args[1:])
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		if err != nil {
			return exitUsage
		}
		err = do()
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "arrowdemo %s: %v\n%s", args[0], err, usage)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "arrowdemo %s: %v\n", args[0], err)
		return exitFail
	}
}
