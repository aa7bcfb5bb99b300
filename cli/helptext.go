package cli

import (
	"fmt"

	famfs "github.com/famfs-go/famfs"
)

// Paragraphs of help that several commands share.
var (
	// masterHelp ends the help of every command that changes a file system.
	masterHelp = `

Only the master changes a famfs file system: the host whose system UUID is
in the superblock (mkfs.famfs stores the UUID of the host that runs it).
A host's system UUID is $FAMFS_SYSTEM_UUID when set, else the one in
/opt/famfs/system_uuid (created on first use). Every other host is a client.`

	// pathHelp ends the help of every command that takes famfs paths.
	pathHelp = fmt.Sprintf(`

Paths lie anywhere inside a famfs mount, absolute or relative to the
working directory. A path relative to the mount root is at most %d bytes
once cleaned (the log entry's limit).`, famfs.Format().MaxRelPath)
)
