package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/famfs-go/famfs/mount"
	"github.com/spf13/cobra"
)

// statusLogLines is how many lines of the daemon log famfs status shows.
const statusLogLines = 10

func newStatusCmd(e *env) *cobra.Command {
	cmd := newCommand(&cobra.Command{
		Use:   "status <mountpoint>",
		Short: "Show a mount daemon's status (JSON)",
		Long: `Ask the daemon behind a famfs mount for its status through the control
socket: device, role, replay position, log fill level, counters, and the
daemon's log file with its last lines (warnings and errors; more with
famfs mount -v). The log is capped at 4 MiB with one rotation (<log>.1) and
removed when the mount is unmounted cleanly.`,
		Args: exactArgs(1),
	})
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		p, err := famfsPath(args[0])
		if err != nil {
			return err
		}
		logPath := mount.LogPath(p.mount.Point)
		tail := tailLines(logPath, statusLogLines)
		st, err := mount.NewClient(p.mount.Point).Status()
		if err != nil {
			msg := fmt.Sprintf("%s: the daemon of the mount at %s does not answer: %v; its log is %s", p.arg, p.mount.Point, err, logPath)
			if len(tail) > 0 {
				msg += ", ending:\n  " + strings.Join(tail, "\n  ")
			}
			return errors.New(msg)
		}
		if tail == nil {
			tail = []string{}
		}
		out := struct {
			mount.Status
			DaemonLog     string   `json:"daemon_log"`      // the daemon's log file (removed after a clean unmount)
			DaemonLogTail []string `json:"daemon_log_tail"` // its last lines
		}{st, logPath, tail}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return cmd
}
