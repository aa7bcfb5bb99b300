package famfs

import (
	"fmt"
	"io"
)

// WriteText prints the report in the reference's fsck text form.
func (r *FsckReport) WriteText(w io.Writer, human, verbose bool) error {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	sb := r.Superblock
	p("Famfs Superblock:\n")
	if sb == nil {
		p("  role of this node: Invalid superblock\n  %s\n", r.SuperblockErr)
		return nil
	}
	p("  Filesystem UUID:   %s\n  Device UUID:       %s\n  System UUID:       %s\n", sb.UUID, sb.DevUUID, sb.SystemUUID)
	p("  role of this node: %s\n  alloc_unit:        0x%x\n", r.Role, sb.AllocUnit)
	p("  OMF major version: %d\n  OMF minor version: %d\n  sizeof superblock: 200\n", sb.OMFMajor, sb.OMFMinor)
	p("  log size (bytes):  %d\n  primary: %s   %d\n\n", sb.LogLen, sb.DevPath, sb.DevSize)
	if r.LogHeader == nil {
		p("Log stats:\n  invalid log header: %s\n", r.LogErr)
		return nil
	}
	size := func(n uint64) string {
		if human {
			return fmt.Sprintf("%0.2fG", float64(n)/(1<<30))
		}
		return fmt.Sprint(n)
	}
	p("Log stats:\n  # of log entries in use: %d of %d\n", r.EntriesUsed, r.EntrySlots)
	p("  Log size in use:          %d\n  Log size (total bytes)    %d\n", 48+544*r.EntriesUsed, sb.LogLen)
	if r.Collisions > 0 {
		p("  ERROR: %d ALLOCATION COLLISIONS FOUND\n\n", r.Collisions)
	} else {
		p("  No allocation errors found\n\nCapacity:\n")
		p("  Device capacity:        %s\n  Bitmap capacity:        %s\n", size(r.DeviceCapacity), size(r.BitmapCapacity))
		p("  Sum of file sizes:      %s\n", size(r.SumSizes))
		if human {
			p("  Allocated space:        %s\n", size(r.Allocated))
		} else {
			p("  Allocated bytes:        %s\n", size(r.Allocated))
		}
		p("  Free space:             %s\n", size(r.Free))
		if r.SumSizes == 0 {
			p("  Space amplification:     inf\n")
		} else {
			p("  Space amplification:     %0.2f\n", float64(r.Allocated)/float64(r.SumSizes))
		}
		p("  Percent used:            %.1f%%\n\n", 100*float64(r.Allocated)/float64(r.BitmapCapacity))
	}
	p("Famfs log:\n  %d of %d entries used\n  %d bad log entries detected\n", r.EntriesUsed, r.EntrySlots, r.Torn)
	p("  %d files\n  %d directories\n\n", r.FileEntries, r.DirEntries)
	if len(r.Problems) > 0 {
		p("Problems:\n")
		for _, pr := range r.Problems {
			p("  %s\n", pr)
		}
		p("\n")
	}
	return nil
}
