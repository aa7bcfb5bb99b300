package guard

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Peer is who is at the other end of a Unix socket, as the kernel recorded
// it at connect time (SO_PEERCRED, SO_PEERGROUPS).
type Peer struct {
	PID      int32
	UID, GID uint32
	Groups   []uint32 // supplementary groups
}

// PeerOf reads the credentials of a Unix socket connection.
func PeerOf(c net.Conn) (Peer, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return Peer{}, errors.New("not a socket")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return Peer{}, err
	}
	var p Peer
	var perr error
	err = raw.Control(func(fd uintptr) {
		var cred *unix.Ucred
		cred, perr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		if perr != nil {
			return
		}
		p = Peer{PID: cred.Pid, UID: cred.Uid, GID: cred.Gid}
		p.Groups, perr = peerGroups(int(fd))
		if perr != nil {
			// Kernels before 4.13: the process's groups now, not at connect.
			p.Groups, perr = ProcGroups(int(cred.Pid))
		}
	})
	if err == nil {
		err = perr
	}
	return p, err
}

// peerGroups reads SO_PEERGROUPS.
func peerGroups(fd int) ([]uint32, error) {
	buf := make([]uint32, 32)
	for {
		size := uint32(4 * len(buf))
		_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_PEERGROUPS,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)), 0)
		switch {
		case e == unix.ERANGE && size > uint32(4*len(buf)) && size <= 4*65536:
			buf = make([]uint32, size/4)
			continue
		case e != 0:
			return nil, e
		}
		return buf[:size/4], nil
	}
}

// ProcGroups reads the supplementary groups of process pid from /proc.
func ProcGroups(pid int) ([]uint32, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Groups:"); ok {
			var gs []uint32
			for _, g := range strings.Fields(rest) {
				if v, err := strconv.ParseUint(g, 10, 32); err == nil {
					gs = append(gs, uint32(v))
				}
			}
			return gs, nil
		}
	}
	return nil, errors.New("no Groups line")
}

// InGroup reports whether gid is p's primary group or one of its
// supplementary groups.
func (p Peer) InGroup(gid uint32) bool {
	if p.GID == gid {
		return true
	}
	for _, g := range p.Groups {
		if g == gid {
			return true
		}
	}
	return false
}

// Permits applies the owner/group/other bits of st for want (4 read, 2
// write, 1 search).
func (p Peer) Permits(st *syscall.Stat_t, want uint32) bool {
	if p.UID == 0 {
		return true
	}
	mode := st.Mode & 0o777
	switch {
	case p.UID == st.Uid:
		return (mode>>6)&want == want
	case p.InGroup(st.Gid):
		return (mode>>3)&want == want
	}
	return mode&want == want
}

// MayOpen reports whether p could open path itself (read, and write with
// write): search permission on every directory on the way and the file's
// own bits. ACLs and capabilities are not considered (root is).
func (p Peer) MayOpen(path string, write bool) bool {
	if p.UID == 0 {
		return true
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	var st syscall.Stat_t
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		if syscall.Stat(dir, &st) != nil || !p.Permits(&st, 1) {
			return false
		}
		if dir == "/" {
			break
		}
	}
	want := uint32(4)
	if write {
		want |= 2
	}
	return syscall.Stat(abs, &st) == nil && p.Permits(&st, want)
}

// Trust is the rule for who may have a descriptor of the device, or change
// the daemon's state through the control socket.
type Trust struct {
	Device   string // the device path
	Group    uint32 // gid of -o zerocopy_group, if HasGroup
	HasGroup bool
}

// Trusted reports whether p may have a descriptor of the device (read-only,
// or writable with write): root, a member of the zerocopy group, or a user
// who may open the device itself.
func (t Trust) Trusted(p Peer, write bool) bool {
	if p.UID == 0 {
		return true
	}
	if t.HasGroup && p.InGroup(t.Group) {
		return true
	}
	return p.MayOpen(t.Device, write)
}

// LookupGroup resolves a group name (or number) to its gid.
func LookupGroup(name string) (uint32, error) {
	if g, err := user.LookupGroup(name); err == nil {
		v, err := strconv.ParseUint(g.Gid, 10, 32)
		if err == nil {
			return uint32(v), nil
		}
	}
	if v, err := strconv.ParseUint(name, 10, 32); err == nil {
		return uint32(v), nil
	}
	return 0, fmt.Errorf("zerocopy_group=%s: no such group", name)
}
