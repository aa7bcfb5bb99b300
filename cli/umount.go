package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/famfs-go/famfs/internal/mounts"
	"github.com/famfs-go/famfs/mount"
	"github.com/spf13/cobra"
)

func newUmountCmd(e *env) *cobra.Command {
	var lazy bool
	cmd := newCommand(&cobra.Command{
		Use:   "umount [-l] <mountpoint|device>",
		Short: "Unmount a famfs file system and stop its daemon",
		Long: `Unmount a famfs mount and wait for its daemon to exit. A mount whose
daemon died (killed with SIGKILL: every request fails with ENOTCONN) is
detached and its stale control socket removed.
Plain umount(8) works too.

Programs under famfs run map files through leases the daemon granted; the
mapping outlives the mount. On a file system made for delete the daemon then
stays, registered as a participant, until the last such program lets go (or
exits), so no space they map is reused; umount says so and does not wait.

As with umount(8), the argument is the mount point or the device; a device
mounted more than once on this machine (several hosts played on one) is
unmounted from its most recent mount point.`,
		Args: exactArgs(1),
	})
	cmd.Flags().BoolVarP(&lazy, "lazy", "l", false, "detach now, clean up when no longer busy")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		mpt, err := umountPoint(args[0])
		if err != nil {
			return err
		}
		return umount(mpt, args[0], lazy)
	}
	return cmd
}

// umountPoint finds the mount point umount arg names: arg itself, or the
// most recent mount of the device arg (as umount(8) does).
func umountPoint(arg string) (string, error) {
	st, err := os.Stat(arg)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("%s: no such file or directory", arg)
	case err == nil && !st.IsDir():
		ms, _ := mounts.BySource(arg)
		if len(ms) == 0 {
			return "", fmt.Errorf("%s: not mounted (no famfs mount of this device)", arg)
		}
		return filepath.Clean(ms[len(ms)-1].Point), nil
	}
	// a directory, or a dead mount that cannot be looked at (ENOTCONN)
	mpt, err := filepath.Abs(arg)
	if err != nil {
		return "", fmt.Errorf("%s: %w", arg, err)
	}
	m, _, ok := mounts.Containing(mpt)
	if !ok || filepath.Clean(m.Point) != mounts.Canonical(mpt) && filepath.Clean(m.Point) != mpt {
		return "", fmt.Errorf("%s is not a famfs mount point", arg)
	}
	return filepath.Clean(m.Point), nil
}

// umount unmounts the famfs mount at mpt (arg: as the user named it).
func umount(mpt, arg string, lazy bool) error {
	// A daemon killed with SIGKILL leaves a mount whose every request fails
	// (ENOTCONN) and stale sockets: detach it and clean up.
	if st, _ := mounts.Check(mpt, mounts.DefaultWait); st == mounts.Dead {
		if err := syscall.Unmount(mpt, syscall.MNT_DETACH); err != nil {
			return fmt.Errorf("%s: its daemon is gone, and detaching it failed: %w", arg, err)
		}
		mount.RemoveSockets(mpt)
		return nil
	}
	pid, leases := 0, uint64(0)
	if st, err := mount.NewClient(mpt).Status(); err == nil {
		pid = st.PID
		if st.Grants != nil && st.Space != nil { // Space: made for delete
			leases = st.Grants.Leases
		}
	}
	flags := 0
	if lazy || pid == 0 {
		flags = syscall.MNT_DETACH // a dead daemon cannot answer; just detach
	}
	if err := syscall.Unmount(mpt, flags); err != nil {
		if errors.Is(err, syscall.EBUSY) {
			return fmt.Errorf("%s: busy (files open or a process inside); use -l to detach lazily", arg)
		}
		return fmt.Errorf("%s: %w", arg, err)
	}
	if pid > 0 && leases > 0 {
		// Its daemon stays until the programs it granted let go.
		fmt.Fprintf(os.Stderr, "famfs umount: %s: %d preload leases still map its files; daemon %d stays registered until they end\n", arg, leases, pid)
	} else if pid > 0 {
		waitGone(pid, 10*time.Second)
	}
	mount.RemoveSockets(mpt)
	return nil
}

// waitGone waits for process pid to exit.
func waitGone(pid int, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return true
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && zombie(b) {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

func zombie(stat []byte) bool {
	// pid (comm) S ...: the state follows the last ')'
	for i := len(stat) - 1; i >= 0; i-- {
		if stat[i] == ')' && i+2 < len(stat) {
			return stat[i+2] == 'Z'
		}
	}
	return false
}
