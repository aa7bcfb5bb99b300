package cli

import (
	"fmt"
	"io"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/omf"
)

// writeFsckText prints a report in the reference's text form. verbose adds
// the reference's "Verbose:" block; scripts parse its log_len line (exactly
// one line holds "log_len", and its second field is the log length in bytes).
func writeFsckText(w io.Writer, r *famfs.FsckReport, human, verbose bool) error {
	if err := r.WriteText(w, human, verbose); err != nil {
		return err
	}
	if !verbose || r.Superblock == nil || r.LogHeader == nil {
		return nil
	}
	sb, h := r.Superblock, r.LogHeader
	_, err := fmt.Fprintf(w, "Verbose:\n"+
		"  log_offset:        %d\n"+
		"  log_len:           %d\n"+
		"  sizeof(log header) %d\n"+
		"  sizeof(log entry)  %d\n"+
		"  last_log_index:    %d\n"+
		"  usable log size:   %d\n"+
		"  next_index:        %d\n"+
		"  next_seqnum:       %d\n\n",
		sb.LogOffset, sb.LogLen, omf.LogHeaderSize, omf.EntrySize,
		h.LastIndex, omf.LogHeaderSize+omf.EntrySize*(h.LastIndex+1), h.NextIndex, h.NextSeqnum)
	return err
}
