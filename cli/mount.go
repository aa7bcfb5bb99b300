package cli

import "github.com/spf13/cobra"

// newMountHelperCmd is the mount.famfs personality (mount(8) helper).
func newMountHelperCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use: "mount.famfs",
		RunE: func(cmd *cobra.Command, args []string) error {
			return exitErr(32, "the famfs mount is not available yet")
		},
		SilenceUsage: true, SilenceErrors: true,
	}
}
