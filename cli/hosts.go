package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	famfs "github.com/famfs-go/famfs"
	"github.com/spf13/cobra"
)

func newHostsCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := newCommand(&cobra.Command{
		Use:   "hosts [--json] <mountpoint|device>",
		Short: "List the participants of a file system made for delete",
		Long: `List every slot of the file system's participant table that is not free:
each mount's daemon and each program that maps famfs files through the
library, on any host. For each: its slot, state, kind, host (system UUID),
process id and name, how far it has replayed the log and up to which log
index it has released deleted files, the age of its last heartbeat, and the
deletes whose space it still holds back. A deleted file's memory goes to new
files only once no participant holds it.

A participant that is gone without saying goodbye (a daemon killed, a host
powered off or paused) holds its deletes back until famfs evict declares it
dead. A library program on this host that died is found and reaped on its
own.`,
		Args: exactArgs(1),
	})
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		p, err := famfsPathOrDevice(args[0])
		if err != nil {
			return err
		}
		fsys, err := famfs.Open(p.device, famfs.OpenOptions{ReadOnly: true})
		if err != nil {
			return err
		}
		defer fsys.Close()
		if !fsys.Superblock().Reclaim {
			return fmt.Errorf("%s: %w: it has no participant table", p.arg, famfs.ErrNoReclaim)
		}
		ps, err := fsys.Participants()
		if err != nil {
			return err
		}
		sp, err := fsys.Space()
		if err != nil {
			return err
		}
		if asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(struct {
				Participants []famfs.Participant `json:"participants"`
				Space        famfs.Space         `json:"space"`
			}{ps, sp})
		}
		writeHosts(e, ps, sp)
		return nil
	}
	return cmd
}

// writeHosts prints the participant table as a table, then the space.
func writeHosts(e *env, ps []famfs.Participant, sp famfs.Space) {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SLOT\tSTATE\tKIND\tHOST\tPID\tNAME\tREPLAYED\tRELEASED\tHEARTBEAT\tHOLDS BACK")
	for _, p := range ps {
		state := p.State
		switch {
		case p.Torn:
			state = "torn"
		case p.Expired:
			state += ",expired"
		case p.Dead:
			state += ",dead"
		}
		hb := "never"
		if !p.Heartbeat.IsZero() {
			hb = p.HeartbeatAge.Round(time.Millisecond).String() + " ago"
		}
		var holds []string
		for _, w := range p.Waiting {
			holds = append(holds, fmt.Sprintf("%s (%s, entry %d)", famfs.Printable(w.Path), humanBytes(w.Bytes), w.Index))
		}
		if len(holds) == 0 {
			holds = []string{"-"}
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%d\t%d\t%s\t%s\n", p.Slot, state, p.Kind, p.Host, p.PID,
			famfs.Printable(p.Name), p.Replayed, p.Released, hb, strings.Join(holds, ", "))
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "\nspace: %s in use, %s free, %s freed by deletes and waiting", humanBytes(sp.InUse), humanBytes(sp.Free), humanBytes(sp.Waiting))
	if len(sp.Holders) > 0 {
		var hs []string
		for _, h := range sp.Holders {
			hs = append(hs, fmt.Sprint(h.Slot))
		}
		fmt.Fprintf(e.stdout, " for slot %s", strings.Join(hs, ", "))
	}
	fmt.Fprintln(e.stdout)
}

// humanBytes is n in the largest binary unit that keeps it at least 1.
func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, u := float64(n), 0
	for f >= unit && u < 5 {
		f /= unit
		u++
	}
	return fmt.Sprintf("%.4g %ciB", f, "KMGTPE"[u-1])
}
