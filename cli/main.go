package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/famfs-go/famfs/bench"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// ExitError carries a command's exit code. A nil Err means "exit with Code
// and print nothing more".
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}
func (e *ExitError) Unwrap() error { return e.Err }

func exitErr(code int, format string, args ...any) error {
	return &ExitError{Code: code, Err: fmt.Errorf(format, args...)}
}

// usageErr marks a bad invocation; the command's usage code applies.
type usageErr struct{ error }

func usagef(format string, args ...any) error { return usageErr{fmt.Errorf(format, args...)} }

const usageCodeKey = "famfs-usage-exit"

// env is what commands write to; tests replace it.
type env struct {
	stdout, stderr io.Writer
}

// Main runs the famfs command line with args (args[0] chooses mkfs.famfs,
// mount.famfs, fsck.famfs or famfs) and returns the exit code.
func Main(args []string) int {
	if peer, code := bench.PeerMain(); peer { // a child of famfs bench
		return code
	}
	return run(args, &env{stdout: os.Stdout, stderr: os.Stderr})
}

// Names are the names the famfs binary answers to (argv[0]); anything else
// runs as famfs.
var Names = []string{"famfs", "mkfs.famfs", "mount.famfs", "fsck.famfs", "pcq"}

// Commands returns the command tree the binary runs as name (one of
// Names), for tools that generate documentation from it.
func Commands(name string) *cobra.Command {
	return personality(name, &env{stdout: os.Stdout, stderr: os.Stderr})
}

// personality is the command tree for argv[0] name.
func personality(name string, e *env) *cobra.Command {
	var cmd *cobra.Command
	switch name {
	case "mkfs.famfs":
		cmd = newMkfsCmd(e, name)
	case "mount.famfs":
		cmd = newMountHelperCmd(e)
	case "fsck.famfs":
		cmd = newFsckHelperCmd(e)
	case "pcq":
		cmd = newPcqCmd(e, name)
	default:
		cmd = newRootCmd(e)
		name = "famfs"
	}
	if name != "famfs" {
		// a helper takes a device or file named "completion" as it is
		cmd.CompletionOptions.DisableDefaultCmd = true
	}
	addVersion(cmd, name)
	plainBoolFlags(cmd)
	return cmd
}

// plainBool hides a bool flag's IsBoolFlag from pflag, which (since v1.1)
// prints such flags as --flag[=true|false]. The flag still needs no value
// (its NoOptDefVal is "true") and still takes --flag=false.
type plainBool struct{ pflag.Value }

// plainBoolFlags makes every bool flag of cmd and its subcommands (help
// included) print as --flag.
func plainBoolFlags(cmd *cobra.Command) {
	cmd.InitDefaultHelpFlag()
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Value.Type() == "bool" && f.NoOptDefVal == "true" {
			if _, done := f.Value.(plainBool); !done {
				f.Value = plainBool{f.Value}
			}
		}
	})
	for _, c := range cmd.Commands() {
		plainBoolFlags(c)
	}
}

func run(args []string, e *env) int {
	cmd := personality(filepath.Base(args[0]), e)
	cmd.SetArgs(fixArgs(args[1:]))
	cmd.SetOut(e.stdout)
	cmd.SetErr(e.stderr)
	ran, err := cmd.ExecuteC()
	if ran == nil {
		ran = cmd
	}
	return finish(ran, err, e)
}

// fixArgs maps the reference's `-?` to `-h`.
func fixArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "-?" {
			a = "-h"
		}
		out[i] = a
	}
	return out
}

func finish(cmd *cobra.Command, err error, e *env) int {
	if err == nil {
		return ExitOK
	}
	code := ExitFailure
	var ee *ExitError
	var ue usageErr
	switch {
	case errors.As(err, &ee):
		code = ee.Code
		err = ee.Err
	case errors.As(err, &ue) || isCobraUsage(err):
		code = usageCode(cmd)
		fmt.Fprintf(e.stderr, "%s: %v\n", cmd.CommandPath(), err)
		fmt.Fprintf(e.stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return code
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: %v\n", cmd.CommandPath(), err)
	}
	if code >= 128 || code < 0 {
		code = maxExit
	}
	return code
}

func isCobraUsage(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "unknown command") || strings.HasPrefix(s, "unknown flag") ||
		strings.HasPrefix(s, "unknown shorthand flag") || strings.Contains(s, "flag needs an argument") ||
		strings.HasPrefix(s, "invalid argument") || strings.HasPrefix(s, "accepts ") ||
		strings.HasPrefix(s, "requires at least") || strings.HasPrefix(s, "if any flags in the group")
}

func usageCode(cmd *cobra.Command) int {
	for c := cmd; c != nil; c = c.Parent() {
		if v, ok := c.Annotations[usageCodeKey]; ok {
			var n int
			fmt.Sscan(v, &n)
			return n
		}
	}
	return ExitUsage
}

func setUsageCode(cmd *cobra.Command, code int) {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[usageCodeKey] = fmt.Sprint(code)
}

// args validators that report usage errors
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("expects %d argument(s), got %d", n, len(args))
		}
		return nil
	}
}

func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usagef("expects at least %d argument(s), got %d", n, len(args))
		}
		return nil
	}
}

func newRootCmd(e *env) *cobra.Command {
	root := newCommand(&cobra.Command{
		Use:   "famfs",
		Short: "famfs: a scale-out shared-memory file system for CXL fabric-attached memory",
		Long: `famfs shares one memory device among several hosts. The host that ran
mkfs.famfs is the master: only it creates files and directories. Every host
mounts the device (famfs mount) to see the namespace, or uses the library.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.Help()
			return usagef("a command is required")
		},
	})
	root.PersistentPreRunE = checkIdentity
	// Define -h before cobra looks for the subcommand, so that in
	// `famfs -h mount` the -h is known to take no value and `mount` is found
	// (and shows its own help), as in the reference.
	root.InitDefaultHelpFlag()
	for _, c := range commands(e) {
		root.AddCommand(c)
	}
	// famfs completion bash|zsh|fish|powershell (cobra's), made now so that
	// the man pages and the help list it; it writes where root does then
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.InitDefaultCompletionCmd()
	if c, _, err := root.Find([]string{"completion"}); err == nil && c != root {
		c.Long += exitCodeHelp(c.Name())
		c.RunE = func(cmd *cobra.Command, args []string) error {
			cmd.Help()
			return usagef("a shell is required: bash, zsh, fish or powershell")
		}
	}
	return root
}

func flagErr(cmd *cobra.Command, err error) error { return usageErr{err} }

// newCommand applies what every famfs command shares: finish, not cobra,
// prints errors (without the usage text), and a bad flag is a usage error.
func newCommand(c *cobra.Command) *cobra.Command {
	c.SilenceUsage = true
	c.SilenceErrors = true
	c.SetFlagErrorFunc(flagErr)
	c.Long += exitCodeHelp(c.Name())
	return c
}

// verbosity sets up slog on stderr from a -v count.
func verbosity(e *env, v int) {
	level := slog.LevelWarn
	switch {
	case v >= 2:
		level = slog.LevelDebug
	case v == 1:
		level = slog.LevelInfo
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level})))
}

// kernelFlags adds the reference's kernel-mode flags, which mean nothing here,
// and returns a function that reports any that were given.
func kernelFlags(fs *pflag.FlagSet, names ...string) func(e *env) {
	set := map[string]*bool{}
	for _, n := range names {
		var b bool
		short := ""
		switch n {
		case "nofuse":
			short = "F"
		case "set-daxmode":
			short = "M"
		case "nodax":
			short = "D"
		}
		fs.BoolVarP(&b, n, short, false, "accepted for compatibility; no effect (there is no famfs kernel module here)")
		set[n] = &b
	}
	return func(e *env) {
		for _, n := range names {
			if *set[n] {
				fmt.Fprintf(e.stderr, "note: --%s is for the reference's kernel modes and has no effect here\n", n)
			}
		}
	}
}
