package cli

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/internal/mounts"
	"github.com/famfs-go/famfs/mount"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

type mountFlags struct {
	opts          []string
	foreground    bool
	readyFD       int
	verbose       int
	read, mmap    bool
	debug         bool
	noUserAccess  bool
	noDefaultPerm bool
	timeout       string
	cache         string
	kernel        func(*env)
}

func (m *mountFlags) add(f *pflag.FlagSet) {
	f.StringArrayVarP(&m.opts, "options", "o", nil, "comma-separated `options`: rw, ro, cache=direct|open|keep, coherence=auto|on|off, poll=MS, timeout=S, allow_other, default_permissions, zerocopy_group=NAME (device descriptors for this group), lease=SECONDS (on a file system made for delete: how long a silent daemon counts; default never), debug (defaults, nofail, _netdev ... are ignored)")
	f.BoolVar(&m.foreground, "foreground", false, "stay attached: serve in this process until unmounted")
	f.IntVar(&m.readyFD, "ready-fd", -1, "internal: report readiness on this descriptor")
	f.MarkHidden("ready-fd")
	f.CountVarP(&m.verbose, "verbose", "v", "more output (daemon log level)")
	f.BoolVarP(&m.read, "read", "r", false, "accepted for compatibility (metadata is always mapped)")
	f.BoolVarP(&m.mmap, "mmap", "m", false, "accepted for compatibility (metadata is always mapped)")
	f.BoolVarP(&m.debug, "debug", "d", false, "log every FUSE request (implies --foreground)")
	f.BoolVarP(&m.noUserAccess, "nouseraccess", "u", false, "do not let other users in (no allow_other)")
	f.BoolVarP(&m.noDefaultPerm, "nodefaultperm", "p", false, "do not have the kernel check permissions (no default_permissions)")
	f.StringVar(&m.timeout, "timeout", "", "kernel entry/attribute cache time (like -o timeout=)")
	f.StringVar(&m.cache, "cache", "", "data cache mode (like -o cache=)")
	m.kernel = kernelFlags(f, "fuse", "nofuse", "set-daxmode", "dummy")
	var shadow string
	f.StringVar(&shadow, "shadow", "", "accepted for compatibility: famfs in Go keeps no shadow tree")
}

func newMountCmd(e *env) *cobra.Command {
	var mf mountFlags
	cmd := newCommand(&cobra.Command{
		Use:   "mount [-o opts] [--foreground] <device> <mountpoint>",
		Short: "Mount a famfs file system (FUSE)",
		Long: `Start a FUSE daemon serving the famfs file system on <device> at
<mountpoint>, wait until it serves, and return. The daemon replays the log by
itself (it polls the log header in shared memory), so files the master creates
appear without a manual logplay. A client (a host whose system UUID is not
the superblock's) mounts read-only for file data unless -o rw.`,
		Args: exactArgs(2),
	})
	mf.add(cmd.Flags())
	setUsageCode(cmd, mountUsage)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return runMount(e, &mf, args[0], args[1], cmd.Root().Name())
	}
	return cmd
}

// newMountHelperCmd is the mount.famfs personality: mount(8) runs
// `mount.famfs <device> <dir> [-sfnv] [-o options]`.
func newMountHelperCmd(e *env) *cobra.Command {
	mf := mountFlags{readyFD: -1}
	var sloppy, fake, nomtab bool
	var ns, typ string
	cmd := newCommand(&cobra.Command{
		Use:   "mount.famfs <device> <dir> [-sfnv] [-o options]",
		Short: "mount(8) helper for famfs",
		Args:  exactArgs(2),
	})
	f := cmd.Flags()
	f.StringArrayVarP(&mf.opts, "options", "o", nil, "comma-separated mount `options` (see famfs mount --help)")
	f.CountVarP(&mf.verbose, "verbose", "v", "more output")
	f.BoolVarP(&sloppy, "sloppy", "s", false, "ignored")
	f.BoolVarP(&fake, "fake", "f", false, "do everything but the mount")
	f.BoolVarP(&nomtab, "no-mtab", "n", false, "ignored")
	f.StringVarP(&ns, "namespace", "N", "", "ignored")
	f.StringVarP(&typ, "type", "t", "", "ignored")
	mf.kernel = func(*env) {}
	setUsageCode(cmd, mountUsage)
	cmd.PersistentPreRunE = checkIdentity
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if fake {
			return nil
		}
		return runMount(e, &mf, args[0], args[1], "famfs")
	}
	return cmd
}

func (mf *mountFlags) options(dev, mpt string) (mount.Options, error) {
	o := mount.DefaultOptions()
	o.Device, o.Mountpoint = dev, mpt
	if mf.noUserAccess {
		o.AllowOther = false
	}
	if mf.noDefaultPerm {
		o.DefaultPermissions = false
	}
	if mf.debug {
		o.Debug = true
	}
	list := strings.Join(mf.opts, ",")
	if mf.timeout != "" {
		list += ",timeout=" + mf.timeout
	}
	if mf.cache != "" {
		list += ",cache=" + mf.cache
	}
	if err := o.ParseOptions(list); err != nil {
		return o, usageErr{err}
	}
	return o, nil
}

func runMount(e *env, mf *mountFlags, devArg, mptArg, self string) error {
	mf.kernel(e)
	if mf.read && mf.mmap {
		return usagef("-r/--read and -m/--mmap are mutually exclusive")
	}
	mpt, err := filepath.Abs(mptArg)
	if err != nil {
		return exitErr(mountUsage, "%s: %v", mptArg, err)
	}
	dev, err := filepath.Abs(devArg)
	if err != nil {
		return exitErr(mountUsage, "%s: %v", devArg, err)
	}
	o, err := mf.options(dev, mpt)
	if err != nil {
		return err
	}
	if mf.foreground || mf.debug || mf.readyFD >= 0 {
		return runDaemon(e, mf, o)
	}
	if os.Geteuid() != 0 {
		return exitErr(mountUsage, "mounting needs root (the FUSE mount is made directly, without fusermount)")
	}
	if err := preflight(o, devArg, mptArg); err != nil {
		return &ExitError{Code: mountFailure, Err: err}
	}
	return spawnDaemon(e, mf, o, self)
}

// preflight checks what can be checked before a daemon starts: the device
// holds a valid famfs file system, the mount point is a free directory, and
// this host does not already mount the device.
func preflight(o mount.Options, devArg, mptArg string) error {
	st, err := os.Stat(o.Device)
	if err != nil {
		return fmt.Errorf("device %s: %w", devArg, errors.Unwrap(err))
	}
	if st.IsDir() {
		return fmt.Errorf("device %s: is a directory", devArg)
	}
	if err := cleanDeadMount(o.Mountpoint); err != nil {
		return err
	}
	st, err = os.Stat(o.Mountpoint)
	if err != nil {
		return fmt.Errorf("mount point %s: %w", mptArg, errors.Unwrap(err))
	}
	if !st.IsDir() {
		return fmt.Errorf("mount point %s: not a directory", mptArg)
	}
	if m, _, ok := mounts.Containing(o.Mountpoint); ok && filepath.Clean(m.Point) == o.Mountpoint {
		return fmt.Errorf("%s is already a famfs mount (of %s)", mptArg, m.Source)
	}
	probe, err := famfs.Probe(o.Device, o.SystemUUID)
	if err != nil {
		return err
	}
	host := probe.Host
	ms, _ := mounts.BySource(o.Device)
	for _, m := range ms {
		st, err := mount.NewClient(m.Point).Status()
		if err != nil {
			continue // a dead mount of another host's daemon; not ours to judge
		}
		if st.HostUUID == host.String() {
			return fmt.Errorf("device %s is already mounted at %s by this host (system UUID %s); one mount per device and host", devArg, m.Point, host)
		}
	}
	return nil
}

// cleanDeadMount detaches the famfs mount at mpt when its daemon is gone
// (killed with SIGKILL, crashed) and removes its stale control socket. The
// kernel's FUSE connection is asked (mounts.Check): a plain stat of the
// mount root is answered from the attribute cache and cannot tell. A live or
// merely slow daemon is left alone.
func cleanDeadMount(mpt string) error {
	m, _, ok := mounts.Containing(mpt)
	if !ok || filepath.Clean(m.Point) != mpt {
		return nil
	}
	if st, _ := mounts.Check(mpt, mounts.DefaultWait); st != mounts.Dead {
		return nil
	}
	if err := syscall.Unmount(mpt, syscall.MNT_DETACH); err != nil {
		return fmt.Errorf("mount point %s: a dead famfs mount (its daemon is gone) is in the way and could not be removed: %w", mpt, err)
	}
	mount.RemoveSockets(mpt)
	return nil
}

// spawnDaemon starts `famfs mount --foreground --ready-fd 3 ...` in its own
// session, with its output going to the mount's log file, and waits for it to
// report that it serves (or why it could not).
func spawnDaemon(e *env, mf *mountFlags, o mount.Options, self string) error {
	exe, err := os.Executable()
	if err != nil {
		return &ExitError{Code: mountFailure, Err: err}
	}
	if err := os.MkdirAll(filepath.Dir(mount.LogPath(o.Mountpoint)), 0o755); err != nil {
		return &ExitError{Code: mountFailure, Err: err}
	}
	logPath := mount.LogPath(o.Mountpoint)
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return &ExitError{Code: mountFailure, Err: err}
	}
	defer logf.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return &ExitError{Code: mountFailure, Err: err}
	}
	args := []string{"famfs", "mount", "--ready-fd", "3"}
	for _, x := range mf.opts {
		args = append(args, "-o", x)
	}
	if mf.noUserAccess {
		args = append(args, "--nouseraccess")
	}
	if mf.noDefaultPerm {
		args = append(args, "--nodefaultperm")
	}
	if mf.timeout != "" {
		args = append(args, "--timeout", mf.timeout)
	}
	if mf.cache != "" {
		args = append(args, "--cache", mf.cache)
	}
	for i := 0; i < mf.verbose; i++ {
		args = append(args, "-v")
	}
	args = append(args, o.Device, o.Mountpoint)
	cmd := &exec.Cmd{Path: exe, Args: args, Stdout: logf, Stderr: logf, ExtraFiles: []*os.File{w},
		SysProcAttr: &syscall.SysProcAttr{Setsid: true}, Dir: "/"}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return &ExitError{Code: mountFailure, Err: err}
	}
	w.Close()
	done := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		done <- strings.TrimSpace(line)
	}()
	var msg string
	select {
	case msg = <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		msg = "error: the daemon did not report within 30 s"
	}
	r.Close()
	if msg == "ok" {
		if mf.verbose > 0 {
			fmt.Fprintf(e.stderr, "famfs: mounted %s on %s (daemon pid %d, log %s)\n", o.Device, o.Mountpoint, cmd.Process.Pid, logPath)
		}
		cmd.Process.Release()
		return nil
	}
	cmd.Wait()
	if msg == "" {
		msg = "the daemon exited without serving; see " + logPath
	}
	// Leave nothing behind.
	if m, _, ok := mounts.Containing(o.Mountpoint); ok && filepath.Clean(m.Point) == o.Mountpoint {
		syscall.Unmount(o.Mountpoint, syscall.MNT_DETACH)
	}
	return &ExitError{Code: mountFailure, Err: errors.New(strings.TrimPrefix(msg, "error: "))}
}

// runDaemon serves the mount in this process until it is unmounted.
func runDaemon(e *env, mf *mountFlags, o mount.Options) error {
	level := new(slog.LevelVar)
	switch {
	case mf.verbose >= 2:
		level.Set(slog.LevelDebug)
	case mf.verbose == 1:
		level.Set(slog.LevelInfo)
	default:
		level.Set(slog.LevelWarn)
	}
	var ready *os.File
	var dlog *daemonLog
	logw := e.stderr
	if mf.readyFD >= 0 {
		ready = os.NewFile(uintptr(mf.readyFD), "ready")
		// Spawned by famfs mount: standard error is the mount's log file;
		// keep it bounded, and remove it after a clean unmount.
		if l, err := openDaemonLog(mount.LogPath(o.Mountpoint), maxDaemonLog); err == nil {
			dlog, logw = l, l
		}
	}
	lg := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: level})).With("mount", o.Mountpoint)
	o.Logger, o.Level = lg, level
	report := func(msg string) {
		if ready != nil {
			fmt.Fprintln(ready, msg)
			ready.Close()
			ready = nil
		}
	}
	fail := func(err error) error {
		lg.Error("mount failed", "err", err)
		report("error: " + err.Error())
		return &ExitError{Code: mountFailure, Err: err}
	}
	if ready == nil { // started by hand: the parent's checks did not run
		if err := preflight(o, o.Device, o.Mountpoint); err != nil {
			return fail(err)
		}
	}
	srv, err := mount.Serve(o)
	if err != nil {
		return fail(err)
	}
	stopCtl, err := srv.ServeControl()
	if err != nil {
		srv.Unmount()
		return fail(err)
	}
	defer stopCtl()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		sig := <-sigs
		lg.Info("unmounting", "signal", sig.String())
		if err := srv.Unmount(); err != nil {
			lg.Warn("unmount failed; detaching", "err", err)
			syscall.Unmount(o.Mountpoint, syscall.MNT_DETACH)
		}
	}()
	lg.Info("serving", "device", o.Device, "role", srv.FS().Role().String(), "pid", strconv.Itoa(os.Getpid()))
	report("ok")
	srv.Wait()
	lg.Info("unmounted")
	dlog.remove()
	return nil
}
