package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/mount"
	"github.com/spf13/cobra"
)

func newLogplayCmd(e *env) *cobra.Command {
	var (
		dryrun, useRead, useMmap, client, asJSON bool
		verbose                                  int
	)
	cmd := newCommand(&cobra.Command{
		Use:   "logplay [-n] [-v] <device|mount-point>",
		Short: "Replay the metadata log, or list what it holds",
		Long: `On a mount point, make the mount's daemon replay the log now (it also
does so by itself by polling). On a device, or with -n/--dryrun, summarize
what the log holds (entries, files, directories) and the problems replay
would report; -v also lists every entry, in the reference's format (lines
starting "__famfs_logplay: "), and -vv every file's extents.`,
		Args: exactArgs(1),
	})
	f := cmd.Flags()
	f.BoolVarP(&dryrun, "dryrun", "n", false, "list the log without changing anything")
	f.CountVarP(&verbose, "verbose", "v", "list every entry (-vv: and its extents)")
	f.BoolVarP(&useRead, "read", "r", false, "accepted for compatibility: the log is always read through mmap")
	f.BoolVarP(&useMmap, "mmap", "m", false, "read the log through mmap (always the case here)")
	f.BoolVarP(&client, "client", "c", false, "replay as a client (the role never changes what replay does here)")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON (with -v: every entry too)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		verbosity(e, verbose-1)
		if useRead && useMmap {
			return usagef("-r/--read and -m/--mmap are mutually exclusive")
		}
		t, err := famfsPathOrDevice(args[0])
		if err != nil {
			return err
		}
		if t.mount != nil && !dryrun {
			return logplayMount(e, t, verbose, asJSON)
		}
		return logplayList(e, t.device, verbose, asJSON)
	}
	return cmd
}

// logplayList summarizes the log of the device at dev and, with verbose, lists
// every entry the way the reference's `logplay -n -v` does (its lines start
// with "__famfs_logplay: "; scripts written for it parse them); more verbose
// adds every file's extents. Output is buffered: a full log is one write.
// asJSON prints the same as one JSON object.
func logplayList(e *env, dev string, verbose int, asJSON bool) error {
	fsys, err := famfs.Open(dev, famfs.OpenOptions{ReadOnly: true})
	if err != nil && !errors.Is(err, famfs.ErrLogDamaged) {
		return err
	}
	defer fsys.Close()
	// What replay placed and refused, and where it stops (Open replayed the
	// log already): a refused entry is counted as a problem, not a file.
	next, slots, stuck := fsys.LogStatus()
	problems := fsys.Problems()
	counts := fsys.Stats().Counts
	refused := refusedEntries(problems)
	var entries []famfs.LogEntry
	if verbose > 0 { // the listing reads the log again; the summary needs no more
		if _, err := fsys.ScanLog(0, func(ent famfs.LogEntry) { entries = append(entries, ent) }); err != nil && !errors.As(err, new(*famfs.BadEntry)) {
			return err
		}
	}
	if asJSON {
		err = writeLogplayJSON(e.stdout, dev, next, slots, counts, problems, refused, entries, stuck)
	} else {
		err = writeLogplayText(e.stdout, dev, next, slots, counts, problems, refused, entries, verbose)
	}
	switch {
	case err != nil:
		return err
	case stuck != nil && !asJSON:
		return fmt.Errorf("replay stops at log entry %d: %v", stuck.Index, stuck.Err)
	case stuck != nil || len(problems) > 0:
		return &ExitError{Code: ExitFailure}
	}
	return nil
}

// writeLogplayText prints logplayList's summary and, when entries holds
// them, the listing.
func writeLogplayText(out io.Writer, dev string, next, slots uint64, counts famfs.Counts, problems []famfs.Problem,
	refused map[uint64]bool, entries []famfs.LogEntry, verbose int) error {
	w := bufio.NewWriterSize(out, 64<<10)
	fmt.Fprintf(w, "famfs logplay: %s: log holds %d of %d entries (dry run)\n", dev, next, slots)
	mark := func(i uint64) string {
		if refused[i] {
			return "  [refused: see problems]"
		}
		return ""
	}
	for _, ent := range entries {
		i := ent.Index
		switch {
		case ent.Err != nil:
			fmt.Fprintf(w, "__famfs_logplay: %d invalid log entry (%s): %v%s\n", i, ent.TypeName, ent.Err, mark(i))
		case ent.Kind == famfs.EntryFile:
			fmt.Fprintf(w, "__famfs_logplay: %d file=%s size=%d%s\n", i, famfs.Printable(ent.Path), ent.Size, mark(i))
			writeFMap(w, &ent.Map, verbose > 1)
		case ent.Kind == famfs.EntryDir:
			fmt.Fprintf(w, "__famfs_logplay: mkdir: %o %d:%d: %s %s\n", ent.Mode, ent.UID, ent.GID, famfs.Printable(ent.Path), mark(i))
		case ent.Kind == famfs.EntryDaxdev:
			fmt.Fprintf(w, "__famfs_logplay: %d add_daxdev: index=%d size=%d uuid=%s%s\n", i, ent.Device.Index, ent.Device.Size, ent.Device.UUID, mark(i))
		case ent.Kind == famfs.EntrySymlink:
			fmt.Fprintf(w, "__famfs_logplay: %d symlink: %d:%d: %s -> %s%s\n", i, ent.UID, ent.GID, famfs.Printable(ent.Path), famfs.Printable(ent.Target), mark(i))
		case ent.Kind == famfs.EntryDelete:
			fmt.Fprintf(w, "__famfs_logplay: %d delete: %s (made by entry %d)%s\n", i, famfs.Printable(ent.Path), ent.Deleted, mark(i))
		default:
			fmt.Fprintf(w, "__famfs_logplay: %d %s (ignored)\n", i, ent.TypeName)
		}
	}
	for _, p := range problems {
		fmt.Fprintf(w, "problem: %s\n", p)
	}
	links := ""
	if counts.Symlinks > 0 {
		links = fmt.Sprintf("; %d symbolic links", counts.Symlinks)
	}
	fmt.Fprintf(w, "famfs logplay: %d log entries; %d files; %d directories%s; %d problems\n", next, counts.Files, counts.Dirs, links, len(problems))
	return w.Flush()
}

// refusedEntries are the log indexes of the entries replay left out.
func refusedEntries(problems []famfs.Problem) map[uint64]bool {
	refused := map[uint64]bool{}
	for _, p := range problems {
		if p.LeftOut() {
			refused[p.Index] = true
		}
	}
	return refused
}

// logplayJSON is what logplay --json prints: for a dry run (-n or a device)
// what the log holds; for a mount, what its daemon's replay did.
type logplayJSON struct {
	Device      string          `json:"device,omitempty"`
	Mountpoint  string          `json:"mountpoint,omitempty"`
	DryRun      bool            `json:"dry_run"`
	LogEntries  uint64          `json:"log_entries"`
	LogCapacity uint64          `json:"log_capacity"`
	Applied     *uint64         `json:"applied,omitempty"` // a mount's replay: entries new in this call
	Files       *uint64         `json:"files,omitempty"`
	Directories *uint64         `json:"directories,omitempty"`
	Problems    []famfs.Problem `json:"problems"`
	NumProblems int             `json:"num_problems"`
	StopsAt     *uint64         `json:"replay_stops_at"` // a torn entry replay waits at, or null
	Error       string          `json:"error,omitempty"`
	Entries     []entryJSON     `json:"entries,omitempty"` // with -v
}

type entryJSON struct {
	Index   uint64 `json:"index"`
	Type    string `json:"type"` // file, mkdir, add_daxdev, symlink, delete, other
	Path    string `json:"path,omitempty"`
	Mode    uint32 `json:"mode"`
	UID     uint32 `json:"uid"`
	GID     uint32 `json:"gid"`
	Size    uint64 `json:"size_bytes,omitempty"`
	Target  string `json:"target,omitempty"`  // symlink
	Deletes uint64 `json:"deletes,omitempty"` // delete: the entry it removes
	Refused bool   `json:"refused"`
	Error   string `json:"error,omitempty"`
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeLogplayJSON prints logplayList's result as JSON.
func writeLogplayJSON(w io.Writer, dev string, next, slots uint64, counts famfs.Counts, problems []famfs.Problem,
	refused map[uint64]bool, entries []famfs.LogEntry, stuck *famfs.BadEntry) error {
	out := logplayJSON{Device: dev, DryRun: true, LogEntries: next, LogCapacity: slots,
		Files: &counts.Files, Directories: &counts.Dirs, Problems: problems, NumProblems: len(problems)}
	for _, ent := range entries {
		j := entryJSON{Index: ent.Index, Type: ent.Kind.String(), Path: ent.Path, Mode: ent.Mode, UID: ent.UID, GID: ent.GID,
			Size: ent.Size, Target: ent.Target, Deletes: ent.Deleted, Refused: refused[ent.Index]}
		if ent.Err != nil {
			j.Error = ent.Err.Error()
		}
		out.Entries = append(out.Entries, j)
	}
	if stuck != nil {
		out.StopsAt, out.Error = &stuck.Index, stuck.Error()
	}
	return writeJSON(w, out)
}

// writeFMap prints an interleaved file's strips as the reference's verbose
// logplay does and, with extents, a simple file's extents too.
func writeFMap(w io.Writer, m *famfs.FileMap, extents bool) {
	if !m.Interleaved {
		if extents {
			for _, x := range m.Extents {
				fmt.Fprintf(w, "\t\textent: dev=%d ofs=0x%x len=0x%x\n", x.Device, x.Offset, x.Len)
			}
		}
		return
	}
	fmt.Fprintf(w, "\tniext=%d\n", len(m.Interleave))
	for _, ie := range m.Interleave {
		if extents {
			fmt.Fprintf(w, "\tchunk size 0x%x, %d strips\n", ie.ChunkSize, len(ie.Strips))
		}
		for _, x := range ie.Strips {
			fmt.Fprintf(w, "\t\tstrip: dev=%d ofs=0x%x len=0x%x\n", x.Device, x.Offset, x.Len)
		}
	}
}

// logplayMount makes the daemon behind a mount replay now.
func logplayMount(e *env, t fpath, verbose int, asJSON bool) error {
	c := mount.NewClient(t.mount.Point)
	r, err := c.Replay()
	if err != nil {
		return fmt.Errorf("%s: the mount's daemon does not answer (%v); list the log with -n instead", t.arg, err)
	}
	if asJSON {
		out := logplayJSON{Mountpoint: t.mount.Point, LogEntries: r.Next, Applied: &r.Applied, Problems: []famfs.Problem{}, Error: r.Error}
		if st, err := c.Status(); err == nil {
			out.LogEntries, out.LogCapacity, out.NumProblems = st.LogEntries, st.LogCapacity, st.Problems
		}
		if r.Stuck != "" {
			out.Error = "replay waits at " + r.Stuck
		}
		if err := writeJSON(e.stdout, out); err != nil {
			return err
		}
		if out.Error != "" {
			return &ExitError{Code: ExitFailure}
		}
		return nil
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
