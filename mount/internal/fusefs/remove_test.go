package fusefs

import (
	"context"
	"os"
	"slices"
	"syscall"
	"testing"

	famfs "github.com/famfs-go/famfs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// On the master of a file system made for delete, unlink and rmdir log the
// delete; the kernel's type checks and ENOTEMPTY apply; a client refuses
// with EROFS and changes nothing.
func TestRemove(t *testing.T) {
	dev := mkfs(t, true)
	fsys := openFS(t, dev, masterID, famfs.OpenOptions{})
	for _, d := range []string{"d", "full", "full/sub"} {
		if err := fsys.Mkdir(d, famfs.MkdirOptions{Mode: 0o755}); err != nil {
			t.Fatal(err)
		}
	}
	f := create(t, fsys, "f", famfs.CreateOptions{Size: 5000, Mode: 0o644})
	f.WriteAt([]byte("still here"), 0)
	create(t, fsys, "g", famfs.CreateOptions{Size: 1, Mode: 0o644})
	if err := fsys.Symlink("g", "l", famfs.SymlinkOptions{}); err != nil {
		t.Fatal(err)
	}

	client := newEnv(t, openFS(t, dev, clientID, famfs.OpenOptions{}), defaultConfig())
	root := uint64(fuse.FUSE_ROOT_ID)
	if errno := client.unlink(root, "f"); errno != syscall.EROFS {
		t.Errorf("client unlink: %v", errno)
	}
	if errno := client.rmdir(root, "d"); errno != syscall.EROFS {
		t.Errorf("client rmdir: %v", errno)
	}

	e := newEnv(t, fsys, defaultConfig())
	fid := e.walk("f")
	fh := e.mustOpen(fid, syscall.O_RDONLY)
	for _, c := range []struct {
		op   string
		name string
		want syscall.Errno
	}{
		{"unlink", "missing", syscall.ENOENT},
		{"rmdir", "missing", syscall.ENOENT},
		{"rmdir", "f", syscall.ENOTDIR},
		{"unlink", "d", syscall.EISDIR},
		{"rmdir", "full", syscall.ENOTEMPTY},
		{"unlink", famfs.MetaDir, syscall.EPERM},
		{"rmdir", famfs.MetaDir, syscall.EPERM},
		{"unlink", "f", 0},
		{"unlink", "f", syscall.ENOENT},
		{"unlink", "l", 0},
		{"rmdir", "d", 0},
	} {
		var errno syscall.Errno
		if c.op == "unlink" {
			errno = e.unlink(root, c.name)
		} else {
			errno = e.rmdir(root, c.name)
		}
		if errno != c.want {
			t.Errorf("%s %s: %v, want %v", c.op, c.name, errno, c.want)
		}
	}
	for _, p := range []string{"f", "l", "d"} {
		if _, err := fsys.Lookup(p); err == nil {
			t.Errorf("%s is still there", p)
		}
	}
	if _, err := fsys.Lookup("g"); err != nil {
		t.Errorf("the link's target went: %v", err)
	}
	// The open handle holds the deleted file: it still reads its bytes.
	if got, errno := e.read(fid, fh, 0, 10); errno != 0 || string(got) != "still here" {
		t.Errorf("read of a held deleted file: %v %q", errno, got)
	}
	e.release(fid, fh)
	// A node the kernel still knows can no longer be opened.
	if _, errno := e.open(fid, syscall.O_RDONLY); errno != syscall.ENOENT {
		t.Errorf("open of a deleted file: %v", errno)
	}
	c := map[string]uint64{}
	e.tree.Counters(c)
	if c["removed"] != 3 {
		t.Errorf("removed %d", c["removed"])
	}
}

// Without default_permissions the daemon applies the kernel's rules: write
// and search permission on the directory, and in a sticky directory only
// the owner of the entry or of the directory (or root) removes it. chmod
// and chown made through the mount count.
func TestMayRemove(t *testing.T) {
	fsys := openFS(t, mkfs(t, true), masterID, famfs.OpenOptions{})
	mk := func(p string, mode, uid, gid uint32) {
		if err := fsys.Mkdir(p, famfs.MkdirOptions{Mode: mode, UID: uid, GID: gid}); err != nil {
			t.Fatal(err)
		}
	}
	file := func(p string, uid uint32) { create(t, fsys, p, famfs.CreateOptions{Size: 1, Mode: 0o644, UID: uid}) }
	mk("sticky", 0o1777, 1000, 1000)
	file("sticky/a", 2000)
	file("sticky/b", 3000)
	file("sticky/c", 3000)
	file("sticky/d", 3000)
	mk("mine", 0o755, 1000, 1000)
	file("mine/a", 2000)
	file("mine/b", 2000)
	mk("grp", 0o770, 1000, 500)
	file("grp/a", 2000)
	file("grp/b", 2000)
	file("grp/c", 2000)
	cfg := defaultConfig()
	cfg.DefaultPermissions = false
	e := newEnv(t, fsys, cfg)
	sticky, mine, grp := e.walk("sticky"), e.walk("mine"), e.walk("grp")
	as := func(uid, gid, pid uint32) { e.caller = fuse.Caller{Owner: fuse.Owner{Uid: uid, Gid: gid}, Pid: pid} }
	self := uint32(os.Getpid())
	for _, c := range []struct {
		uid, gid, pid uint32
		dir           uint64
		name          string
		want          syscall.Errno
	}{
		{2000, 2000, 0, sticky, "b", syscall.EPERM}, // another's entry in a sticky directory
		{2000, 2000, 0, sticky, "a", 0},             // its own
		{1000, 1000, 0, sticky, "b", 0},             // the directory's owner
		{0, 0, self, sticky, "c", 0},                // root
		{2000, 2000, 0, mine, "a", syscall.EACCES},  // no write permission on the directory
		{1000, 1000, 0, mine, "a", 0},               // the owner has it
		{2000, 500, 0, grp, "a", 0},                 // the group has it (primary group)
		{2000, 2000, 0, grp, "b", syscall.EACCES},   // others have nothing (pid 0: no supplementary groups)
	} {
		as(c.uid, c.gid, c.pid)
		if errno := e.unlink(c.dir, c.name); errno != c.want {
			t.Errorf("uid %d gid %d unlink %d/%s: %v, want %v", c.uid, c.gid, c.dir, c.name, errno, c.want)
		}
	}
	// A chmod through the mount opens the directory; a chown of the entry
	// makes it the caller's in the sticky directory.
	as(0, 0, self)
	if _, errno := e.setattr(mine, fuse.SetAttrIn{SetAttrInCommon: fuse.SetAttrInCommon{Valid: fuse.FATTR_MODE, Mode: 0o777}}); errno != 0 {
		t.Fatal(errno)
	}
	d := e.walk("sticky", "d")
	if _, errno := e.setattr(d, fuse.SetAttrIn{SetAttrInCommon: fuse.SetAttrInCommon{Valid: fuse.FATTR_UID, Owner: fuse.Owner{Uid: 2000}}}); errno != 0 {
		t.Fatal(errno)
	}
	as(2000, 2000, 0)
	if errno := e.unlink(mine, "b"); errno != 0 {
		t.Errorf("after chmod 777: %v", errno)
	}
	if errno := e.unlink(sticky, "d"); errno != 0 {
		t.Errorf("after chown: %v", errno)
	}
	// Supplementary groups come from /proc: this process's own.
	if groups, _ := os.Getgroups(); !slices.Contains(groups, 500) {
		// This process is not in 500: refused.
		as(2000, 2000, self)
		if errno := e.unlink(grp, "c"); errno != syscall.EACCES {
			t.Errorf("not in the group: %v", errno)
		}
	}
	// No caller at all: refused.
	n, _ := fsys.Lookup("grp/c")
	if errno := e.tree.mayRemove(context.Background(), &e.tree.root.node, n); errno != syscall.EPERM {
		t.Errorf("no caller: %v", errno)
	}
}

// inGroup takes the caller's primary group, then its supplementary groups
// from /proc.
func TestInGroup(t *testing.T) {
	groups, err := os.Getgroups()
	if err != nil || len(groups) == 0 {
		t.Skip("no supplementary groups here")
	}
	c := &fuse.Caller{Owner: fuse.Owner{Uid: 1, Gid: 4242}, Pid: uint32(os.Getpid())}
	if !inGroup(c, 4242) {
		t.Error("primary group")
	}
	if !inGroup(c, uint32(groups[len(groups)-1])) {
		t.Errorf("supplementary group %d", groups[len(groups)-1])
	}
	c.Pid = 0
	if inGroup(c, uint32(groups[len(groups)-1])) && groups[len(groups)-1] != 4242 {
		t.Error("no process, yet a supplementary group")
	}
}
