package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/famfs-go/famfs/control"
	"github.com/famfs-go/famfs/internal/mounts"
	"github.com/spf13/cobra"
)

func newUmountCmd(e *env) *cobra.Command {
	var lazy bool
	cmd := &cobra.Command{
		Use:   "umount [-l] <mountpoint>",
		Short: "Unmount a famfs file system and stop its daemon",
		Long: `Unmount a famfs mount and wait for its daemon to exit. A mount whose
daemon died (ENOTCONN) is detached and its stale control socket removed.
Plain umount(8) works too.

Exit codes: 0 unmounted, 1 failure, 16 usage.`,
		Args:          exactArgs(1),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.Flags().BoolVarP(&lazy, "lazy", "l", false, "detach now, clean up when no longer busy")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		mpt, err := filepath.Abs(args[0])
		if err != nil {
			return err
		}
		return umount(mpt, lazy)
	}
	return cmd
}

func umount(mpt string, lazy bool) error {
	m, _, ok := mounts.Containing(mpt)
	if !ok || filepath.Clean(m.Point) != mpt {
		return fmt.Errorf("%s is not a famfs mount point", mpt)
	}
	pid := 0
	if st, err := control.NewClient(mpt).Status(); err == nil {
		pid = st.PID
	}
	flags := 0
	if lazy || pid == 0 {
		flags = syscall.MNT_DETACH // a dead daemon cannot answer; just detach
	}
	if err := syscall.Unmount(mpt, flags); err != nil {
		if errors.Is(err, syscall.EBUSY) {
			return fmt.Errorf("%s: busy (files open or a process inside); use -l to detach lazily", mpt)
		}
		return fmt.Errorf("%s: %w", mpt, err)
	}
	if pid > 0 {
		waitGone(pid, 10*time.Second)
	}
	os.Remove(control.SocketPath(mpt))
	os.Remove(control.GrantSocketPath(mpt))
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
