package cli

import (
	"io"

	famfs "github.com/famfs-go/famfs"
)

// writeFsckText prints a report in the reference's text form. verbose adds
// the reference's "Verbose:" block, whose single log_len line scripts parse
// (its second field is the log length in bytes).
func writeFsckText(w io.Writer, r *famfs.FsckReport, human, verbose bool) error {
	return r.WriteText(w, human, verbose)
}
