package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/control"
	"github.com/famfs-go/famfs/omf"
	"github.com/spf13/cobra"
)

func newLogplayCmd(e *env) *cobra.Command {
	var (
		dryrun, useRead, useMmap, client bool
		verbose                          int
	)
	cmd := &cobra.Command{
		Use:   "logplay [-n] [-v] <device|mount-point>",
		Short: "Replay the metadata log, or list what it holds",
		Long: `On a mount point, make the mount's daemon replay the log now (it also
does so by itself by polling). On a device, or with -n/--dryrun, list what
the log holds, entry by entry, and the problems replay would report.

Exit codes: 0 success, 1 problems found or failure, 16 usage.`,
		Args:          exactArgs(1),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	f := cmd.Flags()
	f.BoolVarP(&dryrun, "dryrun", "n", false, "list the log without changing anything")
	f.CountVarP(&verbose, "verbose", "v", "more detail (extents of every file)")
	f.BoolVarP(&useRead, "read", "r", false, "accepted for compatibility: the log is always read through mmap")
	f.BoolVarP(&useMmap, "mmap", "m", false, "read the log through mmap (always the case here)")
	f.BoolVarP(&client, "client", "c", false, "replay as a client (the role never changes what replay does here)")
	setUsageCode(cmd, ExitUsage)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		verbosity(e, verbose-1)
		if useRead && useMmap {
			return usagef("-r/--read and -m/--mmap are mutually exclusive")
		}
		t, err := resolve(args[0])
		if err != nil {
			return err
		}
		if t.mount != nil && !dryrun {
			return logplayMount(e, t, verbose)
		}
		return logplayList(e, t.device, verbose > 0)
	}
	return cmd
}

// logplayList prints every entry of the log of the device at dev.
func logplayList(e *env, dev string, verbose bool) error {
	fsys, err := famfs.Open(dev, famfs.OpenOptions{ReadOnly: true})
	if err != nil && !errors.Is(err, famfs.ErrLogDamaged) {
		return err
	}
	defer fsys.Close()
	next, slots, _ := fsys.LogStatus()
	fmt.Fprintf(e.stdout, "famfs logplay: %s: log holds %d of %d entries (dry run)\n", dev, next, slots)
	var files, dirs int
	_, serr := fsys.ScanLog(0, func(ent famfs.LogEntry) {
		i := ent.Index
		if ent.Err != nil {
			fmt.Fprintf(e.stdout, "%6d  %-10s %v\n", i, ent.Type, ent.Err)
			return
		}
		switch ent.Kind {
		case famfs.EntryFile:
			files++
			fmt.Fprintf(e.stdout, "%6d  file       %04o %5d:%-5d %s (%d bytes)\n", i, ent.Mode, ent.UID, ent.GID, famfs.Printable(ent.Path), ent.Size)
			if verbose {
				writeFMap(e.stdout, &ent.FMap)
			}
		case famfs.EntryDir:
			dirs++
			fmt.Fprintf(e.stdout, "%6d  mkdir      %04o %5d:%-5d %s\n", i, ent.Mode, ent.UID, ent.GID, famfs.Printable(ent.Path))
		case famfs.EntryDaxdev:
			fmt.Fprintf(e.stdout, "%6d  add_daxdev index %d, %d bytes, uuid %s\n", i, ent.Daxdev.Index, ent.Daxdev.Size, ent.Daxdev.UUID)
		default:
			fmt.Fprintf(e.stdout, "%6d  %-10s (ignored)\n", i, ent.Type)
		}
	})
	problems := fsys.Problems()
	for _, p := range problems {
		fmt.Fprintf(e.stdout, "problem: %s\n", p)
	}
	fmt.Fprintf(e.stdout, "famfs logplay: %d log entries; %d files; %d directories; %d problems\n", next, files, dirs, len(problems))
	var bad *famfs.BadEntry
	if errors.As(serr, &bad) {
		return fmt.Errorf("replay stops at log entry %d: %v", bad.Index, bad.Err)
	}
	if serr != nil {
		return serr
	}
	if len(problems) > 0 {
		return &ExitError{Code: ExitFailure}
	}
	return nil
}

func writeFMap(w io.Writer, m *omf.FMap) {
	switch m.Type {
	case omf.ExtSimple:
		for _, x := range m.Extents {
			fmt.Fprintf(w, "          extent: dev %d offset 0x%x length 0x%x\n", x.DevIndex, x.Offset, x.Len)
		}
	case omf.ExtInterleave:
		for _, ie := range m.Interleaved {
			var s []string
			for _, x := range ie.Strips {
				s = append(s, fmt.Sprintf("0x%x+0x%x", x.Offset, x.Len))
			}
			fmt.Fprintf(w, "          interleaved: %d strips, chunk 0x%x: %s\n", len(ie.Strips), ie.ChunkSize, strings.Join(s, " "))
		}
	}
}

// logplayMount makes the daemon behind a mount replay now.
func logplayMount(e *env, t target, verbose int) error {
	c := control.NewClient(t.mount.Point)
	r, err := c.Replay()
	if err != nil {
		return fmt.Errorf("%s: the mount's daemon does not answer (%v); list the log with -n instead", t.mount.Point, err)
	}
	fmt.Fprintf(e.stdout, "famfs logplay: %s: %d log entries applied; %d new\n", t.mount.Point, r.Next, r.Applied)
	if r.Stuck != "" {
		return fmt.Errorf("replay waits at %s", r.Stuck)
	}
	if r.Error != "" {
		return errors.New(r.Error)
	}
	if verbose > 0 {
		if st, err := c.Status(); err == nil {
			fmt.Fprintf(e.stdout, "famfs logplay: log %d of %d entries (%.1f%% full), %d problems reported\n", st.LogEntries, st.LogCapacity, st.LogFill, st.Problems)
		}
	}
	return nil
}
