package cli

import (
	"io"

	famfs "github.com/famfs-go/famfs"
)

// writeFsckText prints a report in the reference's text form.
func writeFsckText(w io.Writer, r *famfs.FsckReport, human, verbose bool) error {
	return r.WriteText(w, human, verbose)
}
