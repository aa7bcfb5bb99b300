package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	famfs "github.com/famfs-go/famfs"
	"github.com/spf13/cobra"
)

func newVerifyCmd(e *env) *cobra.Command {
	var (
		seed    uint64
		file    string
		multi   []string
		threads int
		quiet   bool
		asJSON  bool
	)
	cmd := newCommand(&cobra.Command{
		Use:   "verify -S seed -f file\n  famfs verify [-t threads] -m file,seed ...",
		Short: "Check a file's seeded data",
		Long: `Invalidate the file's cache lines and compare its contents with the seeded
pseudo-random stream famfs creat -r -S (or the reference) wrote. Works on
any host.` + pathHelp,
		Args: exactArgs(0),
	})
	f := cmd.Flags()
	f.VarP(newNumber(&seed), "seed", "S", "the seed the data was written with")
	f.StringVarP(&file, "filename", "f", "", "the file to verify")
	f.StringArrayVarP(&multi, "multi", "m", nil, "a file to verify, as `file,seed`; repeat for several files")
	f.IntVarP(&threads, "threadct", "t", 0, "threads (0..256; 0 = one per CPU)")
	f.BoolVarP(&quiet, "quiet", "q", false, "print only failures")
	f.BoolVar(&asJSON, "json", false, "print one JSON object per file, in argument order, instead of lines")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		n, err := threadCount(threads)
		if err != nil {
			return err
		}
		var specs []multiSpec
		if len(multi) > 0 {
			if file != "" || cmd.Flags().Changed("seed") {
				return usagef("-m cannot be combined with -f or -S")
			}
			if specs, err = parseMultis(multi, parseVerifyMulti); err != nil {
				return err
			}
		} else {
			if file == "" || !cmd.Flags().Changed("seed") {
				return usagef("needs -S seed and -f file (or -m file,seed)")
			}
			specs = []multiSpec{{arg: file, seed: seed}}
		}
		bad := verify(e, specs, n, quiet, asJSON)
		if bad > 0 {
			return &ExitError{Code: min(bad, maxExit)}
		}
		return nil
	}
	return cmd
}

// verifyResult is what verify --json prints for one file.
type verifyResult struct {
	Path      string  `json:"path"`
	Seed      uint64  `json:"seed"`
	OK        bool    `json:"ok"`
	Size      uint64  `json:"size_bytes"`
	BadOffset *uint64 `json:"first_bad_offset_bytes"` // null unless the data differs
	Error     string  `json:"error,omitempty"`
}

// verify checks every spec and returns how many failed.
func verify(e *env, specs []multiSpec, threads int, quiet, asJSON bool) int {
	var mu sync.Mutex
	bad := 0
	results := make([]verifyResult, len(specs))
	for i, s := range specs {
		results[i] = verifyResult{Path: s.arg, Seed: s.seed}
	}
	fail := func(i int, format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		msg := fmt.Sprintf(format, args...)
		results[i].Error = msg
		if !asJSON {
			fmt.Fprintln(e.stderr, msg)
		}
		bad++
	}
	defer func() {
		if asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			enc.Encode(results)
		}
	}()
	open := map[string]*famfs.FS{}
	defer func() {
		for _, f := range open {
			f.Close()
		}
	}()
	type job struct {
		i    int
		spec multiSpec
		file *famfs.File
	}
	var jobs []job
	for i, s := range specs {
		p, err := famfsPath(s.arg)
		if err != nil {
			fail(i, "famfs verify: %v", err)
			continue
		}
		fsys := open[p.mount.Source]
		if fsys == nil {
			if fsys, err = openFS(p.mount.Source); err != nil {
				fail(i, "famfs verify: %s: %v", s.arg, err)
				continue
			}
			open[p.mount.Source] = fsys
		}
		file, err := fsys.OpenFile(p.rel)
		if err != nil {
			fail(i, "famfs verify: %v", pathErr(p, err))
			continue
		}
		results[i].Size = file.Size()
		jobs = append(jobs, job{i, s, file})
	}
	inParallel(threads, jobs, func(j job) {
		err := j.file.Verify(j.spec.seed)
		var ve *famfs.VerifyError
		switch {
		case errors.As(err, &ve):
			off := ve.Offset
			mu.Lock()
			results[j.i].BadOffset = &off
			mu.Unlock()
			fail(j.i, "Verify fail: %s at offset %d of %d bytes", j.spec.arg, ve.Offset, ve.Size)
		case err != nil:
			fail(j.i, "famfs verify: %s: %v", j.spec.arg, unwrapPathErr(err))
		default:
			mu.Lock()
			results[j.i].OK = true
			if !quiet && !asJSON {
				fmt.Fprintf(e.stdout, "Success: verified %d bytes in file %s\n", j.file.Size(), j.spec.arg)
			}
			mu.Unlock()
		}
	})
	return bad
}
