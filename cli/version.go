package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	famfs "github.com/famfs-go/famfs"

	"github.com/spf13/cobra"
)

// addVersion gives a top-level command (famfs, mkfs.famfs, mount.famfs,
// fsck.famfs) its --version flag.
func addVersion(cmd *cobra.Command, name string) {
	cmd.Version = moduleVersion()
	// Defined here, without a shorthand, so that cobra does not take -v
	// (verbose in mkfs.famfs, fsck.famfs and mount.famfs).
	cmd.Flags().Bool("version", false, "print the version, commit and on-media format, and exit")
	cmd.SetVersionTemplate(strings.ReplaceAll(versionText(name), "{{", "{{`{{`}}"))
}

// buildCommit is the commit the binary was built from, for builds that carry
// no VCS stamp (scripts/install.sh sets it with -ldflags -X).
var buildCommit string

// moduleVersion is the famfs module's version as the build recorded it.
func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(unknown)"
}

// versionText is what --version prints: the module version, the VCS commit
// the binary was built from, and the on-media format it writes.
func versionText(name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (famfs in Go) %s\n", name, moduleVersion())
	rev, when, dirty := "", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if rev == "" && buildCommit != "" {
		rev, dirty = strings.TrimSuffix(buildCommit, "-dirty"), strings.HasSuffix(buildCommit, "-dirty")
	}
	switch {
	case rev == "":
		b.WriteString("commit: unknown (built without version control information: GOFLAGS=-buildvcs=false, or not from a git checkout; scripts/install.sh stamps it)\n")
	default:
		fmt.Fprintf(&b, "commit: %s", rev)
		if when != "" {
			fmt.Fprintf(&b, " (%s)", when)
		}
		if dirty {
			b.WriteString(", with uncommitted changes")
		}
		b.WriteString("\n")
	}
	fm := famfs.Format()
	fmt.Fprintf(&b, "writes: famfs on-media format %d.%d (superblock version %d)\n", fm.Major, fm.Minor, fm.SuperblockVersion)
	fmt.Fprintf(&b, "built with %s for %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return b.String()
}
