package cli

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
)

func newEvictCmd(e *env) *cobra.Command {
	var gen uint64
	cmd := newCommand(&cobra.Command{
		Use:   "evict [--gen N] <mountpoint|device> <slot>...",
		Short: "Declare participants dead so their holds on deleted files end (master only)",
		Long: `Declare participants of a file system made for delete dead (famfs hosts
lists them by slot). Their holds no longer keep deleted files' memory from
new files. An evicted participant that runs again — a paused host that
wakes up — notices at its next heartbeat and serves no data (EIO) until it
registers again; but a program it had granted a device mapping of a file
keeps that mapping, and could then see another file's bytes. Evict only
what is really gone.

--gen evicts only if the slot still has that generation (famfs hosts
--json shows it), so a slot someone claimed meanwhile is left alone.` + masterHelp,
		Args: minArgs(2),
	})
	cmd.Flags().Uint64Var(&gen, "gen", 0, "evict only a slot of this generation")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		p, err := famfsPathOrDevice(args[0])
		if err != nil {
			return err
		}
		fsys, err := openMaster(p.device)
		if err != nil {
			return err
		}
		defer fsys.Close()
		for _, a := range args[1:] {
			slot, err := strconv.Atoi(a)
			if err != nil || slot < 0 {
				return usagef("slot %q: not a slot number", a)
			}
			if err := fsys.Evict(slot, gen); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "famfs evict: slot %d evicted\n", slot)
		}
		return nil
	}
	return cmd
}
