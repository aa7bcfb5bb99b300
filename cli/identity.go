package cli

import (
	famfs "github.com/famfs-go/famfs"
	"github.com/spf13/cobra"
)

// checkIdentity runs before every command (not before help): a set but
// invalid FAMFS_SYSTEM_UUID is an error naming the variable, never a reason
// to act as a client. fsck reports it as an operational error (8), every
// other command as a failure (1; for mount, its usage-or-permission code).
func checkIdentity(cmd *cobra.Command, _ []string) error {
	if _, err := famfs.SystemUUIDFromEnv(); err != nil {
		code := ExitFailure
		if cmd.Name() == "fsck" {
			code = fsckOperational
		}
		return &ExitError{Code: code, Err: err}
	}
	return nil
}
