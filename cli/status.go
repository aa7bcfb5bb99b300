package cli

import (
	"encoding/json"
	"fmt"

	"github.com/famfs-go/famfs/control"
	"github.com/spf13/cobra"
)

func newStatusCmd(e *env) *cobra.Command {
	cmd := newCommand(&cobra.Command{
		Use:   "status <mountpoint>",
		Short: "Show a mount daemon's status (JSON)",
		Long: `Ask the daemon behind a famfs mount for its status through the control
socket: device, role, replay position, log fill level, counters.`,
		Args: exactArgs(1),
	})
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		p, err := famfsPath(args[0])
		if err != nil {
			return err
		}
		st, err := control.NewClient(p.mount.Point).Status()
		if err != nil {
			return fmt.Errorf("%s: the daemon of the mount at %s does not answer: %w", p.arg, p.mount.Point, err)
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	return cmd
}
