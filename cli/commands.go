package cli

import "github.com/spf13/cobra"

// commands lists the famfs subcommands.
func commands(e *env) []*cobra.Command {
	return []*cobra.Command{
		newMkfsCmd(e, "mkfs"),
		newFsckCmd(e, "fsck"),
		newLogplayCmd(e),
		newMountCmd(e),
		newUmountCmd(e),
		newMkdirCmd(e),
		newLnCmd(e),
		newRmCmd(e),
		newHostsCmd(e),
		newEvictCmd(e),
		newCreatCmd(e),
		newCpCmd(e),
		newVerifyCmd(e),
		newGetmapCmd(e),
		newFlushCmd(e),
		newChkreadCmd(e),
		newCloneCmd(e),
		newCheckCmd(e),
		newMkmetaCmd(e),
		newStatusCmd(e),
		newBenchCmd(e),
		newRunCmd(e),
		newPcqCmd(e, "pcq"),
	}
}
