package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func newMkmetaCmd(e *env) *cobra.Command {
	return newCommand(&cobra.Command{
		Use:   "mkmeta <device>",
		Short: "Create the .meta files of a mount (nothing to do here)",
		Long: `The reference's standalone mode needs .meta/.superblock and .meta/.log
created after a raw kernel mount. A famfs mount in Go serves them itself, so
this only checks that the device exists.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := os.Stat(args[0]); err != nil {
				return fmt.Errorf("%s: %w", args[0], unwrapPathErr(err))
			}
			fmt.Fprintf(e.stdout, "famfs mkmeta: %s: nothing to do (the mount serves .meta itself)\n", args[0])
			return nil
		},
	})
}
