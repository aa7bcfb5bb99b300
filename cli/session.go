package cli

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/internal/mounts"
	"github.com/famfs-go/famfs/mount"
	"github.com/spf13/pflag"
)

// errNotFamfs marks a path that is not inside a famfs mount.
var errNotFamfs = errors.New("not in a famfs file system (no famfs mount contains it)")

// fpath is a command-line path argument: a path inside a famfs mount or,
// for the commands that also take one, a device.
type fpath struct {
	arg    string        // as the user typed it
	mount  *mounts.Mount // the famfs mount holding arg; nil for a device
	rel    string        // arg relative to the mount root, slash-separated and clean; "" is the root
	device string        // the device: the mount's source, or arg itself
}

// inMount finds the famfs mount holding arg (absolute, or relative to the
// working directory; ".", "..", "//" allowed), per the mount table, since
// statfs only says "fuse". A symbolic link as arg's last component is the
// name itself, not followed (famfs commands act on names, as rm(1) does).
func inMount(arg string) (fpath, bool) {
	m, rel, ok := mounts.ContainingName(arg)
	if !ok || rel == ".." || strings.HasPrefix(rel, "../") {
		return fpath{arg: arg}, false
	}
	return fpath{arg: arg, mount: &m, rel: filepath.ToSlash(rel), device: m.Source}, true
}

// at is the path rel of p's mount, typed as shown.
func (p fpath) at(rel, shown string) fpath {
	return fpath{arg: shown, mount: p.mount, rel: rel, device: p.device}
}

// famfsPath resolves arg to a path inside a famfs mount.
func famfsPath(arg string) (fpath, error) {
	p, ok := inMount(arg)
	if !ok {
		return p, fmt.Errorf("%s: %w", arg, errNotFamfs)
	}
	return p, nil
}

// famfsPathOrDevice resolves arg to a path inside a famfs mount or, failing
// that, to a device: a char or block device, or a regular file (holding a
// famfs superblock, which the library checks).
func famfsPathOrDevice(arg string) (fpath, error) {
	if p, ok := inMount(arg); ok {
		if _, err := os.Lstat(arg); err != nil {
			return p, fmt.Errorf("%s: %w", arg, unwrapPathErr(err))
		}
		return p, nil
	}
	st, err := os.Stat(arg)
	if err != nil {
		return fpath{arg: arg}, fmt.Errorf("%s: %w", arg, unwrapPathErr(err))
	}
	if st.IsDir() {
		return fpath{arg: arg}, fmt.Errorf("%s: a directory that is not inside a famfs mount", arg)
	}
	return fpath{arg: arg, device: arg}, nil
}

// namesDir reports whether arg can only name a directory: it ends in a
// slash, or its last component is . or .. (so a file must not be made there).
func namesDir(arg string) bool {
	if strings.HasSuffix(arg, "/") {
		return true
	}
	b := filepath.Base(arg)
	return b == "." || b == ".."
}

// famfsPaths resolves args that must all be in mounts of one device.
func famfsPaths(args ...string) ([]fpath, string, error) {
	var out []fpath
	dev := ""
	for _, a := range args {
		p, err := famfsPath(a)
		if err != nil {
			return nil, "", err
		}
		if dev != "" && mounts.Canonical(p.mount.Source) != mounts.Canonical(dev) {
			return nil, "", fmt.Errorf("%s and %s are in different famfs file systems", args[0], a)
		}
		dev = p.mount.Source
		out = append(out, p)
	}
	return out, dev, nil
}

// openFS opens the file system on dev. Commands that change it need this host
// to be the master; the library refuses otherwise.
func openFS(dev string) (*famfs.FS, error) {
	fsys, err := famfs.Open(dev, famfs.OpenOptions{})
	if err != nil && !errors.Is(err, famfs.ErrLogDamaged) {
		return nil, err
	}
	return fsys, nil
}

// openMaster opens dev for a command that changes the namespace and fails
// early, before anything is done, if this host is not the master.
func openMaster(dev string) (*famfs.FS, error) {
	fsys, err := openFS(dev)
	if err != nil {
		return nil, err
	}
	if fsys.Role() != famfs.Master {
		host := fsys.HostUUID()
		master := fsys.Superblock().SystemUUID
		fsys.Close()
		return nil, fmt.Errorf("%w (this host is %s; the master is %s)", famfs.ErrNotMaster, host, master)
	}
	return fsys, nil
}

// openMasterFor resolves famfs paths in one file system (famfsPaths) and
// opens it as the master (openMaster).
func openMasterFor(args ...string) ([]fpath, string, *famfs.FS, error) {
	paths, dev, err := famfsPaths(args...)
	if err != nil {
		return nil, "", nil, err
	}
	fsys, err := openMaster(dev)
	if err != nil {
		return nil, "", nil, err
	}
	return paths, dev, fsys, nil
}

// notifyDaemons tells every local mount of dev to replay now (so what this
// command logged is visible at once) and to drop cached pages of the files
// it rewrote. Daemons also poll, so a failure here only costs latency.
func notifyDaemons(dev string, rewritten ...string) {
	ms, _ := mounts.BySource(dev)
	for _, m := range ms {
		c := mount.NewClient(m.Point)
		c.Replay()
		for _, r := range rewritten {
			c.Invalidate(r)
		}
	}
}

// warnLogFill warns when the log passes 90% of its slots.
func warnLogFill(e *env, fsys *famfs.FS) {
	next, slots, _ := fsys.LogStatus()
	if famfs.LogNearlyFull(next, slots) {
		fmt.Fprintf(e.stderr, "warning: the famfs log is %.1f%% full (%d of %d entries); when it is full no file or directory can be added until the next mkfs\n",
			100*float64(next)/float64(slots), next, slots)
	}
}

// umask returns the process umask.
func umask() uint32 {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return uint32(m)
}

// idFlag is a uid or gid flag: a number or a user (group) name, default the
// caller's. 4294967295 is refused: chown(2) reads it as "leave unchanged".
type idFlag struct {
	v     uint32
	set   bool
	group bool // a group name, not a user name
}

func (f *idFlag) String() string {
	if !f.set {
		return ""
	}
	return strconv.FormatUint(uint64(f.v), 10)
}

func (f *idFlag) Set(s string) error {
	id, what := s, "user"
	if f.group {
		what = "group"
	}
	digits, base, ok := idDigits(s)
	if !ok {
		var err error
		if f.group {
			var g *user.Group
			if g, err = user.LookupGroup(s); err == nil {
				id = g.Gid
			}
		} else {
			var u *user.User
			if u, err = user.Lookup(s); err == nil {
				id = u.Uid
			}
		}
		if err != nil {
			return fmt.Errorf("%q is neither a number nor a known %s", s, what)
		}
		digits, base, _ = idDigits(id)
	}
	n, err := strconv.ParseUint(digits, base, 32)
	if err != nil || n == math.MaxUint32 {
		return fmt.Errorf("%q: a %s id is a number from 0 to 4294967294", s, what)
	}
	f.v, f.set = uint32(n), true
	return nil
}

// idDigits splits an id written as a number the way strtol(s, 0, 0) reads
// one, as the reference's tools parse ids (decimal, 0x hex, leading-0
// octal), into its digits and base; ok is false for anything else.
func idDigits(s string) (digits string, base int, ok bool) {
	digits, base, set := s, 10, "0123456789"
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		digits, base, set = s[2:], 16, "0123456789abcdefABCDEF"
	case len(s) > 1 && s[0] == '0':
		digits, base = s[1:], 8
	}
	for _, c := range digits {
		if !strings.ContainsRune(set, c) {
			return "", 0, false
		}
	}
	return digits, base, digits != ""
}

func (f *idFlag) Type() string { return "name|id" }
func (f *idFlag) or(def int) uint32 {
	if f.set {
		return f.v
	}
	return uint32(def)
}

// modeFlag is an octal permission mode.
type modeFlag struct {
	v   uint32
	set bool
}

func (f *modeFlag) String() string {
	if !f.set {
		return ""
	}
	return fmt.Sprintf("%04o", f.v)
}
func (f *modeFlag) Set(s string) error {
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o7777 {
		return fmt.Errorf("%q is not an octal mode", s)
	}
	f.v, f.set = uint32(n), true
	return nil
}
func (f *modeFlag) Type() string { return "mode" }

// threadCount validates -t: 0..256, 0 meaning one per CPU.
func threadCount(n int) (int, error) {
	if n < 0 || n > 256 {
		return 0, usagef("thread count %d: must be 0..256 (0 = one per CPU)", n)
	}
	if n == 0 {
		n = runtime.NumCPU()
	}
	return n, nil
}

// interleaveFlags are -N/-B/-C of creat and cp.
type interleaveFlags struct {
	nstrips, nbuckets uint64
	chunk             uint64
}

// errGiveUp, returned from an inBatch function, gives the batch up: nothing
// is logged, and inBatch returns nil (the caller has said why).
var errGiveUp = errors.New("the batch is given up")

// inBatch runs fn in one batch of fsys (see famfs.FS.Batch).
func inBatch(fsys *famfs.FS, fn func(b *famfs.Batch) error) error {
	err := fsys.Batch(fn)
	if errors.Is(err, errGiveUp) {
		return nil
	}
	return err
}

func isLogFull(err error) bool { return errors.Is(err, famfs.ErrLogFull) }

// ownerFlags are -m mode, -u uid and -g gid of mkdir, creat and cp.
type ownerFlags struct {
	mode     modeFlag
	uid, gid idFlag
	def      uint32 // mode when -m is not given
	masked   bool   // the umask is removed from the mode (creat, cp)
}

func (o *ownerFlags) add(f *pflag.FlagSet, def uint32, masked bool, what string) {
	o.def, o.masked = def, masked
	note := ""
	if masked {
		note = "; the umask is removed"
	}
	f.VarP(&o.mode, "mode", "m", fmt.Sprintf("%spermission bits, octal (default %04o%s)", what, def, note))
	o.gid.group = true
	f.VarP(&o.uid, "uid", "u", "owner, a uid or a user name (default: the caller's)")
	f.VarP(&o.gid, "gid", "g", "group, a gid or a group name (default: the caller's)")
}

// values returns the mode to log and the owner.
func (o *ownerFlags) values() (mode, uid, gid uint32) {
	mode = o.def
	if o.mode.set {
		mode = o.mode.v
	}
	if o.masked {
		mode &^= umask()
	}
	return mode, o.uid.or(os.Geteuid()), o.gid.or(os.Getegid())
}
