package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	famfs "github.com/famfs-go/famfs"
	"github.com/spf13/cobra"
)

type cpJob struct {
	src   string
	dst   string // famfs relative path
	shown string // the destination as the user would type it
	size  uint64
	file  *famfs.File       // an existing destination of the same size, overwritten
	new   *famfs.StagedFile // or a new file, logged once every copy is done
}

// fill copies the job's source into its destination.
func (j *cpJob) fill(r io.Reader) error {
	if j.new != nil {
		_, err := j.new.ReadFrom(r)
		return err
	}
	return j.file.CopyFrom(r)
}

func (j *cpJob) ready() bool { return j.file != nil || j.new != nil }

type cpDir struct {
	dst   string
	shown string
	mode  uint32
}

// cpLink is a symbolic link of a copied tree, made as a famfs link.
type cpLink struct {
	dst, shown, target string
}

func newCpCmd(e *env) *cobra.Command {
	var (
		recursive, compare bool
		threads            int
		owner              ownerFlags
		il                 interleaveFlags
		verbose            int
	)
	cmd := newCommand(&cobra.Command{
		Use:   "cp [-r] [-t threads] [-m mode] [-u uid] [-g gid] [-N n -B n -C size] <source>... <dest>",
		Short: "Copy files into famfs (master only)",
		Long: `Copy local files (and, with -r, directory trees) into famfs: each file is
created with the source's size, allocated next fit across the whole copy (one
hold of the log lock), filled by -t threads and flushed. The copy is all or
nothing: every destination is checked (path, conflicts, space, log room)
before any data moves, and the new directories and files are logged together
only once all their data is in place; a copy that cannot complete (a bad
path, a source that shrinks or cannot be read) logs nothing. A destination
that exists with exactly the source's size is overwritten in place (so a
copy can be restarted); any other existing destination is an error. Empty
files inside a copied tree are skipped with a warning (a famfs file holds at
least 1 byte); an empty file named as a source is an error. Symbolic links
inside a copied tree are made as famfs symbolic links with the same targets
(not followed, as cp -r does); a link named as a source is followed. Several
sources
need a directory destination. Wildcards the shell did not expand are
expanded here. With -c, nothing is copied: sources are compared with
existing destinations.` + masterHelp + pathHelp,
		Args: minArgs(2),
	})
	f := cmd.Flags()
	f.BoolVarP(&recursive, "recursive", "r", false, "copy directories recursively")
	f.BoolVarP(&compare, "compare", "c", false, "compare sources with existing destinations instead of copying")
	f.IntVarP(&threads, "threadct", "t", 0, "copy threads (0..256; 0 = one per CPU)")
	owner.add(f, 0o644, true, "file ")
	addInterleaveFlags(f, &il)
	f.CountVarP(&verbose, "verbose", "v", "print each file copied")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ilp, err := il.interleave(cmd)
		if err != nil {
			return err
		}
		n, err := threadCount(threads)
		if err != nil {
			return err
		}
		m, uid, gid := owner.values()
		o := famfs.CreateOptions{Mode: m, UID: uid, GID: gid, Interleave: ilp}
		return cp(e, args[:len(args)-1], args[len(args)-1], recursive, compare, n, o, verbose)
	}
	return cmd
}

func cp(e *env, srcArgs []string, destArg string, recursive, compare bool, threads int, o famfs.CreateOptions, verbose int) error {
	failed := false
	complain := func(format string, args ...any) {
		fmt.Fprintf(e.stderr, "famfs cp: "+format+"\n", args...)
		failed = true
	}
	var sources []string
	for _, a := range srcArgs {
		if _, err := os.Lstat(a); err != nil && strings.ContainsAny(a, "*?[") {
			if ms, _ := filepath.Glob(a); len(ms) > 0 {
				sources = append(sources, ms...)
				continue
			}
		}
		sources = append(sources, a)
	}
	dest, err := famfsPath(destArg)
	if err != nil {
		return err
	}
	fsys, err := openMaster(dest.mount.Source)
	if err != nil {
		return err
	}
	defer fsys.Close()
	destInfo, derr := fsys.Stat(dest.rel)
	destIsDir := derr == nil && destInfo.IsDir()
	if len(sources) > 1 && !destIsDir {
		return fmt.Errorf("%s: copying several sources needs an existing famfs directory as the destination", destArg)
	}
	var dirs []cpDir
	var links []cpLink
	var jobs []*cpJob
	for _, src := range sources {
		st, err := os.Stat(src)
		if err != nil {
			complain("%s: %v", src, unwrapPathErr(err))
			continue
		}
		target, shown := dest.rel, destArg
		if destIsDir {
			target = path.Join(dest.rel, filepath.Base(filepath.Clean(src)))
			shown = filepath.Join(destArg, filepath.Base(filepath.Clean(src)))
		}
		switch {
		case st.IsDir():
			if !recursive {
				complain("%s: is a directory (use -r)", src)
				continue
			}
			if derr == nil && !destIsDir {
				complain("%s: cannot copy a directory onto the file %s", src, destArg)
				continue
			}
			t, err := planTree(src, target, shown)
			if err != nil {
				complain("%v", err)
			}
			for _, w := range t.skipped {
				fmt.Fprintf(e.stderr, "famfs cp: warning: %s\n", w)
			}
			dirs, links, jobs = append(dirs, t.dirs...), append(links, t.links...), append(jobs, t.jobs...)
		case !st.Mode().IsRegular():
			complain("%s: not a regular file", src)
		case st.Size() == 0:
			complain("%s: empty file: famfs files hold at least 1 byte", src)
		case !destIsDir && namesDir(destArg):
			complain("%s: no such famfs directory", destArg)
		default:
			jobs = append(jobs, &cpJob{src: src, dst: target, shown: shown, size: uint64(st.Size())})
		}
	}
	if compare {
		return compareJobs(e, fsys, jobs, failed)
	}
	if failed {
		fmt.Fprintln(e.stderr, "famfs cp: nothing was copied")
		return &ExitError{Code: ExitFailure}
	}
	var rewritten []string
	err = inBatch(fsys, func(st *famfs.Batch) error {
		st.Grow(len(dirs) + len(links) + len(jobs))
		for _, d := range dirs {
			err := st.Mkdir(d.dst, famfs.MkdirOptions{Mode: d.mode, UID: o.UID, GID: o.GID})
			var ee *famfs.ExistError
			if errors.As(err, &ee) && ee.Info.IsDir() {
				continue // copying into an existing directory
			}
			if err != nil {
				complain("%v", pathErr(dest.at(d.dst, d.shown), err))
			}
		}
		for _, l := range links {
			if i, err := fsys.Stat(l.dst); err == nil && i.Target == l.target {
				continue // the same link: a restarted copy
			}
			if err := st.Symlink(l.target, l.dst, famfs.SymlinkOptions{UID: o.UID, GID: o.GID}); err != nil {
				complain("%v", pathErr(dest.at(l.dst, l.shown), err))
			}
		}
		for _, j := range jobs {
			if i, err := fsys.Stat(j.dst); err == nil && i.Mode.IsRegular() && i.Size == j.size {
				// The same size: overwrite in place, so a copy can be restarted.
				if j.file, err = fsys.OpenFile(j.dst); err != nil {
					complain("%s: %v", j.shown, err)
				}
				rewritten = append(rewritten, j.dst)
				continue
			}
			jo := o
			jo.Size = j.size
			sf, err := st.Create(j.dst, jo)
			if err != nil {
				complain("%s: %v", j.shown, explainCreate(err, j.size, dest.at(j.dst, j.shown)))
				if isLogFull(err) {
					break
				}
				continue
			}
			j.new = sf
		}
		if failed || copyJobs(e, jobs, threads, verbose) {
			failed = true
			return errGiveUp
		}
		return nil
	})
	if len(rewritten) > 0 {
		notifyDaemons(dest.mount.Source, rewritten...)
	}
	if err != nil {
		return err
	}
	if failed {
		fmt.Fprintln(e.stderr, "famfs cp: no new file or directory was logged")
		return &ExitError{Code: ExitFailure}
	}
	notifyDaemons(dest.mount.Source)
	warnLogFill(e, fsys)
	return nil
}

// cpTree is what a recursive copy of one local tree makes.
type cpTree struct {
	dirs    []cpDir
	links   []cpLink
	jobs    []*cpJob
	skipped []string
}

// planTree lists the directories, files and symbolic links of a local tree
// rooted at src, placed at famfs path target (shown: as the user would type
// it), and what it skips: empty files (a famfs file holds at least 1 byte)
// and whatever is not a regular file, a directory or a symbolic link. Links
// are copied as links (their targets as they are), as cp -r does.
func planTree(src, target, shown string) (t cpTree, err error) {
	var bad []string
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", p, unwrapPathErr(err)))
			return nil
		}
		rel, _ := filepath.Rel(src, p)
		dst := path.Join(target, filepath.ToSlash(rel))
		shownDst := filepath.Join(shown, rel)
		info, err := d.Info()
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", p, err))
			return nil
		}
		switch {
		case d.IsDir():
			t.dirs = append(t.dirs, cpDir{dst: dst, shown: shownDst, mode: uint32(info.Mode().Perm()) &^ umask()})
		case info.Mode()&fs.ModeSymlink != 0:
			to, err := os.Readlink(p)
			if err != nil {
				bad = append(bad, fmt.Sprintf("%s: %v", p, unwrapPathErr(err)))
				return nil
			}
			t.links = append(t.links, cpLink{dst: dst, shown: shownDst, target: to})
		case info.Mode().IsRegular() && info.Size() > 0:
			t.jobs = append(t.jobs, &cpJob{src: p, dst: dst, shown: shownDst, size: uint64(info.Size())})
		case info.Mode().IsRegular():
			t.skipped = append(t.skipped, fmt.Sprintf("%s: empty file skipped (a famfs file holds at least 1 byte)", p))
		default:
			t.skipped = append(t.skipped, fmt.Sprintf("%s: not a regular file, directory or symbolic link, skipped", p))
		}
		return nil
	})
	if err == nil && len(bad) > 0 {
		err = errors.New(strings.Join(bad, "\n"))
	}
	return t, err
}

// copyJobs fills the created files from their sources, threads at a time,
// and reports whether any failed.
func copyJobs(e *env, jobs []*cpJob, threads, verbose int) bool {
	var total int64
	for _, j := range jobs {
		if j.ready() {
			total += int64(j.size)
		}
	}
	return copyJobsShowing(e, jobs, threads, verbose, newCpProgress(e, total))
}

// copyJobsShowing is copyJobs reporting to prog.
func copyJobsShowing(e *env, jobs []*cpJob, threads, verbose int, prog *cpProgress) bool {
	var mu sync.Mutex
	failed := false
	var ready []*cpJob
	for _, j := range jobs {
		if j.ready() {
			ready = append(ready, j)
		}
	}
	inParallel(threads, ready, func(j *cpJob) {
		err := copyOne(j, prog.add)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			prog.println(e.stderr, fmt.Sprintf("famfs cp: %s: %v", j.src, unwrapPathErr(err)))
			failed = true
		} else if verbose > 0 {
			prog.println(e.stdout, fmt.Sprintf("famfs cp: %s -> %s (%d bytes)", j.src, j.shown, j.size))
		}
	})
	prog.wait()
	return failed
}

// copyOne copies a job's source into its file, reporting every read to
// counted.
func copyOne(j *cpJob, counted func(int)) error {
	in, err := os.Open(j.src)
	if err != nil {
		return err
	}
	defer in.Close()
	return j.fill(countingReader{in, counted})
}

// countingReader reports the bytes read through it (copied, in cp: they are
// read straight into the famfs file).
type countingReader struct {
	r       io.Reader
	counted func(int)
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if n > 0 && c.counted != nil {
		c.counted(n)
	}
	return n, err
}

// compareJobs compares each source with its famfs destination.
func compareJobs(e *env, fsys *famfs.FS, jobs []*cpJob, failed bool) error {
	for _, j := range jobs {
		f, err := fsys.OpenFile(j.dst)
		if err == nil && f.Size() != j.size {
			err = fmt.Errorf("size %d differs from the source's %d", f.Size(), j.size)
		}
		if err == nil {
			err = sameContent(j.src, f)
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "famfs cp -c: %s: %v\n", j.shown, unwrapPathErr(err))
			failed = true
		}
	}
	if failed {
		return &ExitError{Code: ExitFailure}
	}
	return nil
}

func sameContent(src string, f *famfs.File) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	a, b := make([]byte, 1<<20), make([]byte, 1<<20)
	for off := int64(0); ; {
		n, rerr := io.ReadFull(in, a)
		if n > 0 {
			m, _ := f.ReadAt(b[:n], off)
			if m != n || !bytes.Equal(a[:n], b[:n]) {
				return fmt.Errorf("content differs from %s near offset %d", src, off)
			}
			off += int64(n)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}
