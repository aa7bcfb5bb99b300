package cli

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	famfs "github.com/famfs-go/famfs"
)

// Struct sizes the reference's verbose fsck prints (docs/format.md, "Log
// entries").
const (
	sizeofMkdir       = 92
	sizeofFileMeta    = 520
	sizeofFmap        = 416
	sizeofInterleaved = 400
	sizeofSimpleExt   = 24
)

// writeFsckText writes a report in the reference's `famfs fsck` text format
// (docs/design.md, "The fsck report"), byte for byte, so scripts that read
// the reference's output keep working:
//
//   - human prints the capacity figures in GiB ("%0.2fG") instead of bytes;
//   - verbose adds the "Verbose:" block of log geometry and struct sizes.
//
// When allocation collisions were found, the reference prints
// "ERROR: <n> ALLOCATION COLLISIONS FOUND" in place of the Capacity block, and
// so does writeFsckText. The figures are computed in single precision as the
// reference computes them, so rounding matches too.
//
// Deliberate differences: the verbose "usable log size" is the real one,
// 48 + 544*(last_index+1) (the reference is one entry short); and after the
// reference's blocks a "Problems:" section lists every problem the report
// holds (torn or malformed entries, bad paths, cross-links), which the
// reference does not describe. The "Famfs log" counts follow the tree, not
// the reference's raw tally: "bad log entries" are torn entries and intact
// ones refused (a bad map or path, a duplicate, a reserved name), and "files"
// and "directories" are what was placed — a refused entry is a problem,
// never a file. On a clean log both tallies agree. A report without a valid
// superblock or log header prints what could be read and the reason the rest
// could not. On a file system made for delete, a "Participants" block (the
// waiting space, every registered participant and what it holds back) comes
// before Problems, which then also lists the participant table's problems.
//
// The verbose block's single log_len line is parsed by scripts (its second
// field is the log length in bytes).
func writeFsckText(w io.Writer, r *famfs.FsckReport, human, verbose bool) error {
	var b strings.Builder
	fsckText(&b, r, human, verbose)
	_, err := io.WriteString(w, b.String())
	return err
}

func fsckText(b *strings.Builder, r *famfs.FsckReport, human, verbose bool) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	fm := famfs.Format()
	p("Famfs Superblock:\n")
	sb := r.Superblock
	if sb == nil {
		p("  role of this node: %s\n", r.Role)
		p("  ERROR: %s\n\n", r.SuperblockErr)
		return
	}
	p("  Filesystem UUID:   %s\n", sb.UUID)
	p("  Device UUID:       %s\n", sb.DeviceUUID)
	p("  System UUID:       %s\n", sb.SystemUUID)
	p("  role of this node: %s\n", r.Role)
	p("  alloc_unit:        0x%x\n", sb.AllocUnit)
	p("  OMF major version: %d\n", sb.OMFMajor)
	p("  OMF minor version: %d\n", sb.OMFMinor)
	p("  sizeof superblock: %d\n", fm.SuperblockSize)
	p("  log size (bytes):  %d\n", sb.LogLen)
	p("  primary: %s   %d\n", sb.DevPath, sb.DevSize)

	p("\nLog stats:\n")
	h := r.Log
	if h == nil {
		p("  ERROR: %s\n\n", r.LogErr)
		return
	}
	p("  # of log entries in use: %d of %d\n", h.NextIndex, h.Capacity)
	p("  Log size in use:          %d\n", fm.EntryOffset(h.NextIndex))
	p("  Log size (total bytes)    %d\n", h.Len)
	if r.Collisions != 0 {
		p("ERROR: %d ALLOCATION COLLISIONS FOUND\n", r.Collisions)
	} else {
		p("  No allocation errors found\n\n")
		p("Capacity:\n")
		if !human {
			p("  Device capacity:        %d\n", r.DeviceCapacity)
			p("  Bitmap capacity:        %d\n", r.BitmapCapacity)
			p("  Sum of file sizes:      %d\n", r.SumSizes)
			p("  Allocated bytes:        %d\n", r.Allocated)
			p("  Free space:             %d\n", r.BitmapCapacity-r.Allocated)
		} else {
			p("  Device capacity:        %sG\n", cFloat(gib(float32(r.DeviceCapacity)), 2))
			p("  Bitmap capacity:        %sG\n", cFloat(gib(float32(r.BitmapCapacity)), 2))
			p("  Sum of file sizes:      %sG\n", cFloat(gib(float32(r.SumSizes)), 2))
			p("  Allocated space:        %sG\n", cFloat(gib(float32(r.Allocated)), 2))
			p("  Free space:             %sG\n", cFloat(gib(float32(float32(r.BitmapCapacity)-float32(r.Allocated))), 2))
		}
		amp := float32(float32(r.Allocated) / float32(r.SumSizes))
		used := float32(100.0 * float64(float32(float32(r.Allocated)/float32(r.BitmapCapacity))))
		p("  Space amplification:     %s\n", cFloat(amp, 2))
		p("  Percent used:            %s%%\n\n", cFloat(used, 1))
	}

	p("Famfs log:\n")
	p("  %d of %d entries used\n", r.Entries, h.Capacity)
	p("  %d bad log entries detected\n", r.BadEntries())
	p("  %d files\n", r.Files)
	p("  %d directories\n", r.Dirs)
	if r.LinkEntries > 0 { // not in the reference's block, which has no links
		p("  %d symbolic links\n", r.Symlinks)
	}
	p("\n")

	if verbose {
		p("Verbose:\n")
		p("  log_offset:        %d\n", sb.LogOffset)
		p("  log_len:           %d\n", sb.LogLen)
		p("  log_entry components:\n")
		p("      sizeof(log header) %d\n", fm.LogHeaderSize)
		p("      sizeof(log_entry)  %d\n", fm.EntrySize)
		p("          sizeof(mkdir)     %d\n", sizeofMkdir)
		p("          sizeof(file_meta) %d\n", sizeofFileMeta)
		p("              sizeof(fmap)    %d\n", sizeofFmap)
		p("                  sizeof(interleaved_ext[%d]): %d\n", fm.MaxInterleaved, sizeofInterleaved)
		p("                  sizeof(famfs_simple_ext[%d]): %d\n", fm.MaxSimpleExtents, sizeofSimpleExt)
		p("  last_log_index:    %d\n", h.LastIndex)
		p("  usable log size:   %d\n", fm.EntryOffset(h.Capacity))
		p("  sizeof(struct famfs_log_file_meta): %d\n", sizeofFileMeta)
		p("\n")
	}

	var tableProblems []string
	if rc := r.Reclaim; rc != nil {
		fsckReclaimText(p, rc)
		tableProblems = rc.Problems
		if rc.TableErr != "" {
			tableProblems = append([]string{rc.TableErr}, tableProblems...)
		}
	}
	if len(r.Problems) > 0 || r.LogErr != "" || len(tableProblems) > 0 {
		p("Problems:\n")
		for _, pr := range r.Problems {
			p("  %s\n", pr)
		}
		if r.LogErr != "" {
			p("  %s\n", r.LogErr)
		}
		for _, pr := range tableProblems {
			p("  %s\n", pr)
		}
		p("\n")
	}
}

// fsckReclaimText is the "Participants" block of a file system made for
// delete: the waiting space and every registered participant.
func fsckReclaimText(p func(string, ...any), rc *famfs.FsckReclaim) {
	p("Participants (made for delete):\n")
	if rc.TableErr != "" {
		p("  table unreadable (see Problems)\n\n")
		return
	}
	p("  %d registered; reuse watermark at log index %d\n", len(rc.Participants), rc.Watermark)
	p("  Waiting space:          %d (%s, %d deletes)\n", rc.Waiting, humanBytes(rc.Waiting), len(rc.Deletes))
	for _, q := range rc.Participants {
		p("  %s: replayed %d, released %d, holds %d", q, q.Replayed, q.Released, q.Holds)
		if q.Blocking {
			var b uint64
			for _, w := range q.Waiting {
				b += w.Bytes
			}
			p(", holds back %s", humanBytes(b))
		}
		p("\n")
	}
	p("\n")
}

// gib converts bytes to GiB in single precision, as the reference does.
func gib(v float32) float32 { return float32(v / float32(1<<30)) }

// cFloat formats v like C's printf("%.<prec>f") of a float: correctly rounded,
// and "inf"/"-inf"/"-nan" (glibc's spelling of x86's default NaN) for the
// special values.
func cFloat(v float32, prec int) string {
	f := float64(v)
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "-nan"
	}
	return strconv.FormatFloat(f, 'f', prec, 64)
}
