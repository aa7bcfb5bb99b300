package cli

import (
	"errors"
	"fmt"
	"sync"

	famfs "github.com/famfs-go/famfs"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func addInterleaveFlags(f *pflag.FlagSet, il *interleaveFlags) {
	f.Uint64VarP(&il.nstrips, "nstrips", "N", 0, "interleave: number of strips (1..16)")
	f.Uint64VarP(&il.nbuckets, "nbuckets", "B", 0, "interleave: number of buckets the device is divided into (1..64)")
	f.VarP(newSize(&il.chunk), "chunksize", "C", "interleave: chunk size (default 2m when -N or -B is given)")
}

// interleave turns -N/-B/-C into allocation parameters (zero: contiguous).
func (il *interleaveFlags) interleave(cmd *cobra.Command) (famfs.Interleave, error) {
	f := cmd.Flags()
	if !f.Changed("nstrips") && !f.Changed("nbuckets") && !f.Changed("chunksize") {
		return famfs.Interleave{}, nil
	}
	p := famfs.Interleave{NStrips: il.nstrips, NBuckets: il.nbuckets, ChunkSize: il.chunk}
	if p.ChunkSize == 0 {
		p.ChunkSize = 2 << 20
	}
	if p.NStrips > 16 {
		return p, usagef("-N %d: at most 16 strips", p.NStrips)
	}
	return p, nil
}

func newCreatCmd(e *env) *cobra.Command {
	var (
		size      uint64
		randomize bool
		seed      uint64
		multi     []string
		threads   int
		owner     ownerFlags
		il        interleaveFlags
		verbose   int
		noZero    bool
	)
	cmd := newCommand(&cobra.Command{
		Use:   "creat [-s size] [-r -S seed] [-m mode] [-u uid] [-g gid] [-N n -B n -C size] <file>\n  famfs creat [-t threads] [-m mode] [-u uid] [-g gid] -M name,size[,seed] ...",
		Short: "Create (allocate and log) famfs files (master only)",
		Long: `Create a file of the given size, allocated in 2 MiB units (contiguously,
or striped with -N/-B/-C), and log it. An existing file of the same size (or
with no size given) is accepted, so -r can re-randomize it; another size is an
error. -r -S fills the file with the reference's seeded pseudo-random data
(famfs verify checks it); -r without -S writes nothing. A new file's space is
zeroed before the file becomes visible (the slack after its end included), so
it never shows what an earlier file left in that memory; --no-zero skips that
for callers that write every byte themselves. The mode (default 0644) has the
umask removed, as the reference does.

Creation is all or nothing: every file is checked (path, conflicts, space,
log room) and seeded data written before any is logged; then all are logged
together.

--multi (repeatable) creates several files, each first fit; size 0 keeps an
existing file's size. Seeded files are filled by -t threads (0 = one per CPU).` + masterHelp + pathHelp,
		Args: func(cmd *cobra.Command, args []string) error { return nil },
	})
	f := cmd.Flags()
	f.VarP(newSize(&size), "size", "s", "file size (k, m, g suffixes; 0x hex)")
	f.BoolVarP(&randomize, "randomize", "r", false, "fill with seeded pseudo-random data (needs -S)")
	f.VarP(newNumber(&seed), "seed", "S", "seed for -r (only its low 32 bits count)")
	f.StringArrayVarP(&multi, "multi", "M", nil, "a file to create, as `name,size[,seed]`; repeat for several files")
	f.IntVarP(&threads, "threadct", "t", 0, "threads filling seeded files (0..256; 0 = one per CPU)")
	owner.add(f, 0o644, true, "")
	addInterleaveFlags(f, &il)
	f.CountVarP(&verbose, "verbose", "v", "more output")
	f.BoolVar(&noZero, "no-zero", false, "leave a new file's space as it is instead of zeroing it (faster, but the file may show what an earlier file left in that memory)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ilp, err := il.interleave(cmd)
		if err != nil {
			return err
		}
		nthreads, err := threadCount(threads)
		if err != nil {
			return err
		}
		m, uid, gid := owner.values()
		base := famfs.CreateOptions{Mode: m, UID: uid, GID: gid, Interleave: ilp, NoZero: noZero}
		var specs []multiSpec
		if len(multi) > 0 {
			if len(args) > 0 || cmd.Flags().Changed("seed") || randomize || cmd.Flags().Changed("size") {
				return usagef("--multi cannot be combined with a file argument, -s, -r or -S")
			}
			if specs, err = parseMultis(multi, parseCreatMulti); err != nil {
				return err
			}
		} else {
			if len(args) != 1 {
				return usagef("expects one file (or --multi)")
			}
			if randomize && !cmd.Flags().Changed("seed") {
				// The reference randomizes only with a non-zero seed:
				// -r alone creates the file and writes nothing.
				fmt.Fprintln(e.stderr, "famfs creat: note: -r without -S writes no data (give a seed to randomize)")
				randomize = false
			}
			if cmd.Flags().Changed("seed") && !randomize {
				return usagef("-S only makes sense with -r")
			}
			sd := uint64(0)
			if randomize {
				sd = seed
			}
			specs = []multiSpec{{arg: args[0], size: size, seed: sd}}
			if !cmd.Flags().Changed("size") {
				specs[0].size = 0
			}
		}
		return creat(e, specs, base, nthreads, len(multi) > 0, verbose)
	}
	return cmd
}

func creat(e *env, specs []multiSpec, base famfs.CreateOptions, nthreads int, multi bool, verbose int) error {
	var failed bool
	var dev string
	var good []multiSpec
	for _, s := range specs {
		p, err := famfsPath(s.arg)
		if err != nil {
			fmt.Fprintf(e.stderr, "famfs creat: %v\n", err)
			failed = true
			continue
		}
		if dev == "" {
			dev = p.mount.Source
		} else if p.mount.Source != dev {
			fmt.Fprintf(e.stderr, "famfs creat: %s: in another famfs file system than %s\n", s.arg, specs[0].arg)
			failed = true
			continue
		}
		if p.rel == "" {
			fmt.Fprintf(e.stderr, "famfs creat: %s: is the mount point\n", s.arg)
			failed = true
			continue
		}
		if namesDir(s.arg) {
			fmt.Fprintf(e.stderr, "famfs creat: %s: a file name cannot end in /, . or ..\n", s.arg)
			failed = true
			continue
		}
		if s.seed != 0 {
			if err := famfs.CheckSeed(s.seed); err != nil {
				fmt.Fprintf(e.stderr, "famfs creat: %s: %v\n", s.arg, err)
				failed = true
				continue
			}
		}
		s.path = p
		good = append(good, s)
	}
	if len(good) == 0 {
		return &ExitError{Code: ExitFailure}
	}
	fsys, err := openMaster(dev)
	if err != nil {
		return err
	}
	defer fsys.Close()
	type job struct {
		spec   multiSpec
		file   *famfs.File       // an existing file
		staged *famfs.StagedFile // or a new one
	}
	var jobs []*job
	var rewritten []string
	err = inBatch(fsys, func(st *famfs.Batch) error {
		st.Grow(len(good))
		for _, s := range good {
			o := base
			o.FirstFit = true // the reference places every creat first fit
			o.Size = s.size
			j := &job{spec: s}
			var err error
			if i, serr := fsys.Stat(s.path.rel); s.size == 0 || serr == nil && !i.IsDir() && i.Size == s.size {
				// An existing file: accepted as it is, or re-randomized.
				if j.file, err = existing(fsys, s.path.rel); err == nil && s.seed != 0 {
					rewritten = append(rewritten, s.path.rel) // its cached pages go stale
				}
			} else {
				j.staged, err = st.Create(s.path.rel, o)
			}
			if err != nil {
				fmt.Fprintf(e.stderr, "famfs creat: %s: %v\n", s.arg, explainCreate(err, s.size, s.path))
				failed = true
				if isLogFull(err) {
					break
				}
				continue
			}
			jobs = append(jobs, j)
		}
		if failed {
			return errGiveUp
		}
		// Fill seeded files, nthreads at a time, before any is logged.
		var seeded []*job
		for _, j := range jobs {
			if j.spec.seed != 0 {
				seeded = append(seeded, j)
			}
		}
		var mu sync.Mutex
		inParallel(nthreads, seeded, func(j *job) {
			var err error
			if j.staged != nil {
				err = j.staged.Fill(j.spec.seed)
			} else {
				err = j.file.Fill(j.spec.seed)
			}
			if err != nil {
				mu.Lock()
				fmt.Fprintf(e.stderr, "famfs creat: %s: %v\n", j.spec.arg, unwrapPathErr(err))
				failed = true
				mu.Unlock()
			}
		})
		if failed {
			return errGiveUp
		}
		return nil
	})
	for _, j := range jobs {
		if j.staged != nil {
			j.file = j.staged.File()
		}
	}
	if len(rewritten) > 0 {
		notifyDaemons(dev, rewritten...)
	}
	if err != nil {
		return err
	}
	if failed {
		fmt.Fprintln(e.stderr, "famfs creat: no file was created")
		return &ExitError{Code: ExitFailure}
	}
	notifyDaemons(dev)
	warnLogFill(e, fsys)
	for _, j := range jobs {
		if verbose > 0 {
			fmt.Fprintf(e.stdout, "famfs creat: %s: %d bytes\n", j.spec.arg, j.file.Size())
		}
		if j.spec.seed != 0 {
			fmt.Fprintf(e.stdout, "randomized %d bytes: %s\n", j.file.Size(), j.spec.arg)
		}
	}
	if multi {
		fmt.Fprintf(e.stdout, "Create complete for %d of %d files\n", len(jobs), len(specs))
	}
	if failed {
		return &ExitError{Code: ExitFailure}
	}
	return nil
}

// existing opens an existing file for `creat` without a size.
func existing(fsys *famfs.FS, rel string) (*famfs.File, error) {
	file, err := fsys.OpenFile(rel)
	if errors.Is(err, famfs.ErrNotExist) {
		return nil, errors.New("does not exist, and no size was given to create it")
	}
	return file, err
}

func explainCreate(err error, size uint64, p fpath) error {
	var ee *famfs.ExistError
	if errors.As(err, &ee) {
		if ee.Info.IsDir() {
			return errors.New("is a directory")
		}
		return fmt.Errorf("exists with size %d; a famfs file cannot change size (asked for %d)", ee.Info.Size, size)
	}
	return explain(err, &p)
}
