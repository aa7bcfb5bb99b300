package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/famfs-go/famfs/bench"
	"github.com/spf13/cobra"
)

func newBenchCmd(e *env) *cobra.Command {
	var (
		dir, mountDir   string
		reps            int
		only            []string
		noMount, asJSON bool
		harness         bool
		cpu             bool
		verbose         int
	)
	cmd := newCommand(&cobra.Command{
		Use:   "bench [--dir D] [--reps N] [--only fig,...] [--no-mount] [--json] [-v]",
		Short: "Measure famfs against baselines taken in the same run",
		Long: `Print each performance figure as a ratio to a baseline measured in the same
run (absolute times on shared machines are noise):

  replay   full log replay vs a plain read + CRC of the same log
  create   a 10,000-file batch creation vs 10,000 bare log appends
  map      File.Map sequential read of 1 GiB vs a raw mmap of the same region
  memory   heap held by the namespace of a full log
  rm       removing the 10,000 files (one famfs rm) vs creating them
  reuse    p99 time from the last holder's release of a deleted file to the
           master reusing its space, vs delete-then-create with no holder
  participate  replay in 256-entry polls by a registered participant vs the
           same on a plain file system
  heldmap  File.Map read of a held mapping (a participant) vs a raw mmap (as map)
  mount-*  (root only) cold FUSE read vs tmpfs, master-create to client-visible
           latency, warm stat and ls -lR of 10,000 files vs tmpfs, mount time
           and daemon memory with 15,000 files

--dir chooses where device files live (a tmpfs mounted huge=always gives 2 MiB
pages; the default /dev/shm gives 4 KiB ones).

It runs for about 20 s with the default --reps 5 on an idle 2-CPU machine,
longer when other jobs share it (37-61 s measured so); --no-mount skips the
mount figures, the slower part. The time grows with --reps.

--harness runs the reference's performance tests 001-007 instead (root: it
mounts): creating one, 100, 1,000 and 10,000 2 MiB files one famfs creat at
a time, MAX_FILES files, opening and closing them, and mmap sequential and
random writes and reads at each of MMAP_IO_SIZES over one MMAP_SIZE_GB file.
It prints the reference's lines ("LABEL, elapsed_sec=S, rc=R", "OPENCLOSE,
...", "MMAP_..."), each followed by the same work on tmpfs and the ratio. The
reference's knobs are read from the environment (MAX_FILES, MMAP_SIZE_GB,
MMAP_IO_SIZES, MMAP_RAND_SECS, MMAP_SEED); unset ones default to 1000 files,
1 GiB and 5 s (the reference's: 10000, 100 and 60).`,
		Args: exactArgs(0),
	})
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "/dev/shm", "directory for the library figures' device files")
	f.StringVar(&mountDir, "mount-dir", os.TempDir(), "scratch directory for the mount figures")
	f.IntVar(&reps, "reps", 5, "runs per figure; the best is kept")
	f.StringSliceVar(&only, "only", nil, "only these `figures`: replay, create, map, memory, mount (comma-separated)")
	f.BoolVar(&noMount, "no-mount", false, "skip the mount figures")
	f.BoolVar(&harness, "harness", false, "run the reference's performance tests 001-007 (root; knobs from the environment)")
	f.BoolVar(&asJSON, "json", false, "print the results as JSON")
	f.BoolVar(&cpu, "cpu-clock", false, "measure replay and creation in process CPU time")
	f.CountVarP(&verbose, "verbose", "v", "print every sample and the extra baselines")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if harness {
			ho, err := bench.HarnessFromEnv()
			if err != nil {
				return usagef("%v", err)
			}
			ho.Dir, ho.Out = dir, e.stdout
			return bench.RunHarness(ho)
		}
		var libOnly []string
		wantMount := !noMount
		if len(only) > 0 {
			wantMount = false
			for _, o := range only {
				switch {
				case strings.HasPrefix(o, "mount"):
					wantMount = true
				case slices.Contains(bench.AllFigures, o):
					libOnly = append(libOnly, o)
				default:
					return usagef("--only %s: unknown figure", o)
				}
			}
			if len(libOnly) == 0 {
				libOnly = []string{bench.None}
			}
		}
		var progress *os.File
		if verbose > 0 {
			progress = os.Stderr
		}
		opts := bench.Options{Dir: dir, Reps: reps, Only: libOnly, CPUClock: cpu}
		if progress != nil {
			opts.Progress = progress
		}
		res, err := bench.Run(opts)
		if err != nil {
			return err
		}
		if wantMount {
			if os.Geteuid() != 0 {
				fmt.Fprintln(e.stderr, "famfs bench: skipping the mount figures (they need root)")
			} else {
				mo := bench.MountOptions{Dir: mountDir, Repeat: reps}
				if progress != nil {
					mo.Log = progress
				}
				figs, err := bench.RunMount(mo)
				res.Figures = append(res.Figures, figs...)
				if err != nil {
					return err
				}
			}
		}
		if asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(res)
		}
		if verbose > 0 {
			return bench.PrintDetails(e.stdout, res)
		}
		return bench.Print(e.stdout, res)
	}
	return cmd
}
