package cli

import (
	"errors"
	"fmt"
	"strings"
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
			for _, m := range multi {
				s, err := parseVerifyMulti(m)
				if err != nil {
					return err
				}
				specs = append(specs, s)
			}
		} else {
			if file == "" || !cmd.Flags().Changed("seed") {
				return usagef("needs -S seed and -f file (or -m file,seed)")
			}
			specs = []multiSpec{{arg: file, seed: seed}}
		}
		bad := verify(e, specs, n, quiet)
		if bad > 0 {
			return &ExitError{Code: min(bad, maxExit)}
		}
		return nil
	}
	return cmd
}

func parseVerifyMulti(s string) (multiSpec, error) {
	name, sd, ok := cut2(s)
	if !ok {
		return multiSpec{}, usagef("-m %q: expected file,seed", s)
	}
	seed, err := parseNumber(sd)
	if err != nil {
		return multiSpec{}, usagef("-m %q: bad seed: %v", s, err)
	}
	return multiSpec{arg: name, seed: seed}, nil
}

// cut2 splits "a,b" into exactly two non-empty parts.
func cut2(s string) (string, string, bool) {
	parts := strings.Split(s, ",")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// verify checks every spec and returns how many failed.
func verify(e *env, specs []multiSpec, threads int, quiet bool) int {
	var mu sync.Mutex
	bad := 0
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(e.stderr, format+"\n", args...)
		bad++
	}
	open := map[string]*famfs.FS{}
	defer func() {
		for _, f := range open {
			f.Close()
		}
	}()
	type job struct {
		spec multiSpec
		file *famfs.File
	}
	var jobs []job
	for _, s := range specs {
		p, err := famfsPath(s.arg)
		if err != nil {
			fail("famfs verify: %v", err)
			continue
		}
		fsys := open[p.mount.Source]
		if fsys == nil {
			if fsys, err = openFS(p.mount.Source); err != nil {
				fail("famfs verify: %s: %v", s.arg, err)
				continue
			}
			open[p.mount.Source] = fsys
		}
		file, err := fsys.OpenFile(p.rel)
		if err != nil {
			fail("famfs verify: %v", pathErr(p, err))
			continue
		}
		jobs = append(jobs, job{s, file})
	}
	sem := make(chan struct{}, threads)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func(j job) {
			defer wg.Done()
			defer func() { <-sem }()
			err := j.file.Verify(j.spec.seed)
			var ve *famfs.VerifyError
			switch {
			case errors.As(err, &ve):
				fail("Verify fail: %s at offset %d of %d bytes", j.spec.arg, ve.Offset, ve.Size)
			case err != nil:
				fail("famfs verify: %s: %v", j.spec.arg, unwrapPathErr(err))
			case !quiet:
				mu.Lock()
				fmt.Fprintf(e.stdout, "Success: verified %d bytes in file %s\n", j.file.Size(), j.spec.arg)
				mu.Unlock()
			}
		}(j)
	}
	wg.Wait()
	return bad
}
