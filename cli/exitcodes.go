package cli

import "strings"

// Exit codes are a contract, stated here once: the constants, and the text
// every command's help ends with (newCommand appends it). The README's
// exit-code table says the same (TestReadmeExitCodes checks it). No command
// exits with 128 or more on an error; a panic is a bug.
const (
	// most commands
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 16

	// mkfs.famfs
	mkfsFailed = 1

	// famfs fsck and fsck.famfs: fsck(8)'s bits
	fsckClean       = 0
	fsckProblems    = 4
	fsckOperational = 8

	// famfs mount and mount.famfs: mount(8)'s codes
	mountUsage   = 1
	mountFailure = 32

	// famfs getmap: the reference's codes
	getmapNotFamfs = 1
	getmapNoMap    = 2
	getmapMissing  = 9  // EBADF, as the reference reports a missing file
	getmapIsDir    = 21 // EISDIR

	// the highest code any command exits with; famfs verify and famfs
	// flush exit with the number of files that failed, at most this
	maxExit = 127
)

// exitCodes is what each command's help says about its exit codes, by
// command name (mkfs.famfs, mount.famfs and fsck.famfs under the name of the
// famfs command they are).
var exitCodes = map[string]string{
	"mkfs":       "0 done, 1 failed, 16 usage",
	"fsck":       "fsck(8): 0 clean, 4 problems found, 8 operational error (no device, no valid superblock, device mounted), 16 usage",
	"mount":      "0 mounted, 1 usage or permission, 32 mount failure",
	"getmap":     "0 mapped, 1 not in famfs, 2 not mapped, 9 no such file, 21 a directory, 16 usage; with -c every file is tried and the last error's code is returned",
	"verify":     "the number of files that failed (at most 127), 16 usage",
	"flush":      "the number of files that could not be flushed (missing, not a regular file, not mappable; at most 127), 16 usage",
	"umount":     "0 unmounted, 1 failure, 16 usage",
	"logplay":    "0 success, 1 problems found or failure, 16 usage",
	"check":      "0 all good, 1 something is not mapped or not a famfs path, 16 usage",
	"chkread":    "0 match, 1 mismatch or failure, 16 usage",
	"cp":         "0 success, 1 failure (anything not copied), 16 usage",
	"bench":      "0 measured (whether or not targets were met), 1 failure, 16 usage",
	"creat":      "0 success, 1 failure, 16 usage",
	"mkdir":      "0 success, 1 failure, 16 usage",
	"ln":         "0 made, 1 failure, 16 usage (no -s: famfs has no hard links)",
	"rm":         "0 removed, 1 failure (nothing was removed), 16 usage",
	"hosts":      "0 listed, 1 failure, 16 usage",
	"evict":      "0 evicted, 1 failure, 16 usage",
	"clone":      "0 success, 1 failure, 16 usage",
	"mkmeta":     "0 success, 1 failure, 16 usage",
	"status":     "0 success, 1 failure, 16 usage",
	"completion": "0 success, 1 failure, 16 usage",
	"pcq":        "0 done, 1 failure (the queue cannot be made, opened or is not a queue; a payload mismatch; a status file not written), 3 a message failed its sequence or CRC check after fresh reads (the reference exits 255), 16 usage",
	"run":        "the command's own; before it starts: 1 library missing, 126 not executable, 127 not found, 16 usage",
}

// exitCodeHelp is the closing paragraph of a command's help.
func exitCodeHelp(name string) string {
	s, ok := exitCodes[strings.TrimSuffix(name, ".famfs")]
	if !ok {
		return ""
	}
	return "\n\n" + wrap("Exit codes: "+s+".", 76)
}

// wrap breaks text into lines of at most width columns at spaces.
func wrap(text string, width int) string {
	var b strings.Builder
	col := 0
	for i, w := range strings.Fields(text) {
		switch {
		case i == 0:
		case col+1+len(w) > width:
			b.WriteByte('\n')
			col = 0
		default:
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}
