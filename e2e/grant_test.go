package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/famfs-go/famfs/mount"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/internal/control"
	"golang.org/x/sys/unix"
)

// grantOutcome is what one grant attempt came to.
type grantOutcome struct {
	OpenErr string             `json:"open_err,omitempty"` // the kernel refused to open the file
	Errno   int                `json:"errno"`              // the daemon's status; -1: no answer from it
	Err     string             `json:"err,omitempty"`
	Reply   control.GrantReply `json:"reply"`
	DevMode int                `json:"dev_mode"` // O_ACCMODE of the device descriptor; -1: none
	Match   bool               `json:"match"`    // the device, at the segments, holds the file's bytes (files up to 64 MiB)
}

func (o grantOutcome) String() string {
	b, _ := json.Marshal(o)
	if len(b) > 600 {
		b = append(b[:600], "..."...)
	}
	return string(b)
}

// tryGrant opens path with mode ("r", "rw", "w" or "path" for O_PATH) and
// asks for a grant with flags, through sock (or the socket the file's
// attribute names, if sock is empty).
func tryGrant(path, mode string, flags uint32, sock string) grantOutcome {
	out := grantOutcome{Errno: -1, DevMode: -1}
	oflags := map[string]int{"r": os.O_RDONLY, "rw": os.O_RDWR, "w": os.O_WRONLY, "path": unix.O_PATH}[mode]
	f, err := os.OpenFile(path, oflags, 0)
	if err != nil {
		out.OpenErr = err.Error()
		return out
	}
	defer f.Close()
	var dev *os.File
	var lease *control.Lease
	if sock == "" {
		lease, dev, err = control.GrantWith(f, flags)
	} else {
		lease, dev, err = control.GrantVia(sock, f, flags)
	}
	if lease != nil {
		out.Reply = lease.Reply
		defer lease.Close()
	}
	var ge *control.GrantError
	switch {
	case err == nil:
		out.Errno = 0
	case errors.As(err, &ge):
		out.Errno = int(ge.Status)
	}
	if err != nil {
		out.Err = err.Error()
		return out
	}
	if dev == nil {
		return out
	}
	defer dev.Close()
	fl, _ := unix.FcntlInt(dev.Fd(), unix.F_GETFL, 0)
	out.DevMode = fl & unix.O_ACCMODE
	if (mode == "r" || mode == "rw") && out.Reply.FileSize <= 64<<20 {
		want := make([]byte, out.Reply.FileSize)
		n, _ := f.ReadAt(want, 0)
		got := make([]byte, 0, out.Reply.FileSize)
		for _, s := range out.Reply.Segments {
			b := make([]byte, s.Len)
			dev.ReadAt(b, int64(s.DevOff))
			got = append(got, b...)
		}
		out.Match = uint64(n) == out.Reply.FileSize && uint64(len(got)) >= out.Reply.FileSize && bytes.Equal(got[:n], want)
	}
	return out
}

// grantChild runs tryGrant as another user and prints the outcome as JSON.
func grantChild() int {
	flags, _ := strconv.ParseUint(os.Getenv("FAMFS_E2E_FLAGS"), 10, 32)
	o := tryGrant(os.Getenv("FAMFS_E2E_PATH"), os.Getenv("FAMFS_E2E_MODE"), uint32(flags), os.Getenv("FAMFS_E2E_SOCK"))
	json.NewEncoder(os.Stdout).Encode(o)
	return 0
}

// grantAs runs tryGrant as uid:gid in a child process.
func grantAs(t *testing.T, c *cluster, uid, gid int, path, mode string, flags uint32) grantOutcome {
	t.Helper()
	cmd := asUser(t, c, uid, gid, "grant", "FAMFS_E2E_PATH="+path, "FAMFS_E2E_MODE="+mode, fmt.Sprintf("FAMFS_E2E_FLAGS=%d", flags))
	b, err := cmd.Output()
	var o grantOutcome
	if err != nil || json.Unmarshal(b, &o) != nil {
		t.Fatalf("grant child: %v: %s", err, b)
	}
	return o
}

// rawGrant sends msg with fds to the grant socket and decodes the reply.
func rawGrant(t *testing.T, sock string, msg []byte, fds ...int) control.GrantReply {
	t.Helper()
	conn, err := net.Dial("unixpacket", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	uc := conn.(*net.UnixConn)
	var oob []byte
	if len(fds) > 0 {
		oob = syscall.UnixRights(fds...)
	}
	if _, _, err := uc.WriteMsgUnix(msg, oob, nil); err != nil {
		t.Fatal(err)
	}
	uc.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf, rights := make([]byte, 1<<16), make([]byte, 256)
	n, oobn, _, _, err := uc.ReadMsgUnix(buf, rights)
	if err != nil {
		t.Fatal(err)
	}
	if oobn > 0 {
		t.Errorf("a descriptor came with a refusal")
	}
	r, err := control.DecodeGrantReply(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The grant socket: the descriptor proves the file, the access mode is the
// descriptor's, and the device goes only to users trusted with it.
func TestGrant(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	os.Chmod(c.dir, 0o755) // the unprivileged children reach the mount points, not the device (0600)
	group := groupName(t, 65534)
	m := c.mount(masterID, "-o", "zerocopy_group="+group)
	c1 := c.mount(client1ID)
	c2 := c.mount(client2ID, "-o", "zerocopy_group="+group)
	must(t, masterID, "creat", "-s", "5m", "-m", "0644", "-r", "-S", "7", m+"/pub")
	must(t, masterID, "creat", "-s", "3m", "-m", "0666", "-r", "-S", "8", m+"/shared")
	must(t, masterID, "creat", "-s", "20m", "-m", "0644", "-N", "2", "-B", "4", "-r", "-S", "9", m+"/striped")
	must(t, masterID, "creat", "-s", "1m", "-m", "0600", m+"/private")
	if err := os.Chmod(m+"/shared", 0o666); err != nil { // past the umask; kept by the master's mount
		t.Fatal(err)
	}
	must(t, masterID, "mkdir", "-m", "0700", m+"/closed")
	must(t, masterID, "creat", "-s", "1m", "-m", "0644", m+"/closed/inner")
	for _, mp := range []string{c1, c2} {
		eventually(t, 5*time.Second, "replay on "+mp, func() bool { _, err := os.Stat(mp + "/closed/inner"); return err == nil })
	}
	fsys, err := famfs.Open(c.dev, famfs.OpenOptions{ReadOnly: true})
	if err != nil && !errors.Is(err, famfs.ErrLogDamaged) {
		t.Fatal(err)
	}
	defer fsys.Close()
	sb := fsys.Superblock()

	t.Run("root", func(t *testing.T) {
		for _, name := range []string{"pub", "striped"} {
			o := tryGrant(c1+"/"+name, "r", control.GrantWantDevice, "")
			if o.Errno != 0 || o.DevMode != os.O_RDONLY || o.Reply.Writable() || !o.Match {
				t.Fatalf("%s: %v", name, o)
			}
			file, err := fsys.OpenFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var st syscall.Stat_t
			syscall.Stat(c1+"/"+name, &st)
			want := file.Segments() // over the size rounded up to the allocation unit
			r := o.Reply
			if r.FileSize != file.Size() || r.Ino != st.Ino || r.AllocUnit != sb.AllocUnit || r.FSUUID != sb.UUID ||
				r.DevAlign != 2<<20 || r.Flags&(control.GrantNonCoherent|control.GrantDevDax) != 0 || fmt.Sprint(r.Segments) != fmt.Sprint(want) {
				t.Fatalf("%s: reply %+v, want size %d ino %d segments %v", name, r, file.Size(), st.Ino, want)
			}
			if name == "striped" && len(r.Segments) < 5 {
				t.Fatalf("an interleaved 20 MiB file in %d segments", len(r.Segments))
			}
		}
		// The access mode is the descriptor's: read-only never yields a
		// writable device descriptor; O_RDWR on the master does.
		if o := tryGrant(m+"/shared", "r", control.GrantWantDevice, ""); o.Errno != 0 || o.DevMode != os.O_RDONLY || o.Reply.Writable() {
			t.Errorf("read-only descriptor: %v", o)
		}
		if o := tryGrant(m+"/shared", "rw", control.GrantWantDevice, ""); o.Errno != 0 || o.DevMode != os.O_RDWR || !o.Reply.Writable() || !o.Match {
			t.Errorf("read-write descriptor on the master: %v", o)
		}
		if o := tryGrant(m+"/shared", "w", control.GrantWantDevice, ""); o.Errno != int(syscall.EACCES) {
			t.Errorf("write-only descriptor: %v", o)
		}
		if o := tryGrant(c1+"/shared", "rw", control.GrantWantDevice, ""); !strings.Contains(o.OpenErr, "read-only file system") {
			t.Errorf("read-write open on a read-only client: %v", o)
		}
		// The map alone, without a descriptor.
		if o := tryGrant(c1+"/pub", "r", 0, ""); o.Errno != 0 || o.DevMode != -1 || len(o.Reply.Segments) == 0 {
			t.Errorf("map only: %v", o)
		}
		sock := control.GrantSocketPath(c1)
		if o := tryGrant(c1, "r", control.GrantWantDevice, ""); o.Errno != int(syscall.EISDIR) {
			t.Errorf("the mount root: %v", o)
		}
		for what, path := range map[string]string{
			"a file outside famfs":    os.Args[0],
			"the device file":         c.dev,
			"another mount's file":    m + "/pub",
			"the mount's .meta files": c1 + "/.meta/.log",
		} {
			if o := tryGrant(path, "r", control.GrantWantDevice, sock); o.Errno != int(syscall.EBADF) {
				t.Errorf("%s: %v", what, o)
			}
		}
		if o := tryGrant(c1+"/pub", "path", control.GrantWantDevice, sock); o.Errno != int(syscall.EBADF) {
			t.Errorf("an O_PATH descriptor: %v", o)
		}
		// Malformed requests.
		f, _ := os.Open(c1 + "/pub")
		defer f.Close()
		good := control.GrantRequest{Flags: control.GrantWantDevice}.Encode()
		bad := append([]byte(nil), good...)
		bad[0] ^= 1
		v1 := append([]byte(nil), good...)
		v1[4] = 1 // a version-1 client would drop its lease with the reply
		for what, r := range map[string]control.GrantReply{
			"version 1":        rawGrant(t, sock, v1, int(f.Fd())),
			"no descriptor":    rawGrant(t, sock, good),
			"two descriptors":  rawGrant(t, sock, good, int(f.Fd()), int(f.Fd())),
			"bad magic":        rawGrant(t, sock, bad, int(f.Fd())),
			"short":            rawGrant(t, sock, good[:8], int(f.Fd())),
			"trailing garbage": rawGrant(t, sock, append(good, 0), int(f.Fd())),
		} {
			if r.Status != syscall.EINVAL || len(r.Segments) != 0 {
				t.Errorf("%s: %+v", what, r)
			}
		}
		// Several requests on one connection.
		conn, err := net.Dial("unixpacket", sock)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for i := range 3 {
			uc := conn.(*net.UnixConn)
			uc.WriteMsgUnix(good, syscall.UnixRights(int(f.Fd())), nil)
			buf, oob := make([]byte, 4096), make([]byte, 64)
			n, oobn, _, _, err := uc.ReadMsgUnix(buf, oob)
			if r, derr := control.DecodeGrantReply(buf[:n]); err != nil || derr != nil || r.Status != 0 || oobn == 0 {
				t.Fatalf("request %d on one connection: %v %v %+v", i, err, derr, r)
			}
			msgs, _ := syscall.ParseSocketControlMessage(oob[:oobn])
			fds, _ := syscall.ParseUnixRights(&msgs[0])
			for _, fd := range fds {
				syscall.Close(fd)
			}
		}
		// Each grant is a lease, all three held by the one connection
		// until it closes.
		waitLeases(t, c1, 3, "three grants on one open connection")
		if g := daemonAlive(t, c1).Grants; g.LeaseConns != 1 {
			t.Errorf("lease connections: %+v", g)
		}
		conn.Close()
		waitLeases(t, c1, 0, "the connection closed")
	})

	t.Run("unprivileged", func(t *testing.T) {
		// May open the file, may not open the device, no group option:
		// the map, but no descriptor.
		if o := grantAs(t, c, 65534, 65534, c1+"/pub", "r", control.GrantWantDevice); o.Errno != int(syscall.EACCES) || o.DevMode != -1 || len(o.Reply.Segments) != 0 {
			t.Errorf("untrusted user: %v", o)
		}
		if o := grantAs(t, c, 65534, 65534, c1+"/pub", "r", 0); o.Errno != 0 || o.DevMode != -1 || len(o.Reply.Segments) == 0 {
			t.Errorf("untrusted user, map only: %v", o)
		}
		// May not open the file: nothing reaches the daemon.
		for what, path := range map[string]string{"a 0600 file of root's": c2 + "/private", "a file under a 0700 directory": c2 + "/closed/inner"} {
			if o := grantAs(t, c, 65534, 65534, path, "r", control.GrantWantDevice); !strings.Contains(o.OpenErr, "permission denied") || o.Errno != -1 {
				t.Errorf("%s: %v", what, o)
			}
		}
		// The mount's zerocopy_group (the user's group): a descriptor of
		// the descriptor's mode, no more.
		if o := grantAs(t, c, 65534, 65534, c2+"/pub", "r", control.GrantWantDevice); o.Errno != 0 || o.DevMode != os.O_RDONLY || o.Reply.Writable() || !o.Match {
			t.Errorf("zerocopy_group member on a client: %v", o)
		}
		if o := grantAs(t, c, 65534, 65534, m+"/shared", "r", control.GrantWantDevice); o.Errno != 0 || o.DevMode != os.O_RDONLY || o.Reply.Writable() {
			t.Errorf("zerocopy_group member, read-only descriptor on the master: %v", o)
		}
		if o := grantAs(t, c, 65534, 65534, m+"/shared", "rw", control.GrantWantDevice); o.Errno != 0 || o.DevMode != os.O_RDWR || !o.Reply.Writable() || !o.Match {
			t.Errorf("zerocopy_group member, read-write descriptor on the master: %v", o)
		}
		// Another user, not in the group, who may read the file.
		if o := grantAs(t, c, 65533, 65533, c2+"/pub", "r", control.GrantWantDevice); o.Errno != int(syscall.EACCES) {
			t.Errorf("not in zerocopy_group: %v", o)
		}
	})

	waitLeases(t, c1, 0, "every granting program done") // their leases end with them
	st := daemonAlive(t, c1)
	g := st.Grants
	if g == nil || g.Made < 2 || g.MapOnly < 2 || g.Refused["untrusted"] < 1 || g.Refused["not_famfs"] < 5 ||
		g.Refused["directory"] < 1 || g.Refused["malformed"] < 6 {
		t.Errorf("status of %s: grants %+v", c1, g)
	}
	if st2 := daemonAlive(t, c2); st2.Grants == nil || st2.Grants.ZeroCopyGroup != group {
		t.Errorf("status of %s does not name the zerocopy group: %+v", c2, st2.Grants)
	}
}

// A mount refuses an unknown zerocopy_group before it starts.
func TestGrantUnknownGroup(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	mpt := c.dir + "/mnt"
	os.Mkdir(mpt, 0o755)
	r := run(t, masterID, "mount", "-o", "zerocopy_group=no-such-group-anywhere", c.dev, mpt)
	if r.code == 0 || !strings.Contains(r.stderr, "no-such-group-anywhere") || isMounted(mpt) {
		t.Fatalf("%v", r)
	}
}

// Once the file system under the mount is re-made, grants answer EIO, even
// for a descriptor opened before.
func TestGrantAfterRemake(t *testing.T) {
	t.Parallel()
	c, m, c1 := twoHosts(t)
	must(t, masterID, "creat", "-s", "2m", "-r", "-S", "3", m+"/f")
	waitSeen(t, c1+"/f")
	f, err := os.Open(c1 + "/f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if l, dev, err := control.Grant(f); err != nil {
		t.Fatal(err)
	} else {
		dev.Close()
		l.Close()
	}
	sock := control.GrantSocketPath(c1)
	alias := c.dir + "/alias.img"
	if err := os.Link(c.dev, alias); err != nil {
		t.Fatal(err)
	}
	must(t, masterID, "mkfs.famfs", "-f", alias)
	eventually(t, 5*time.Second, "the daemon sees the re-made file system", func() bool { return daemonAlive(t, c1).FSChanged != "" })
	_, dev, err := control.GrantVia(sock, f, control.GrantWantDevice)
	if !errors.Is(err, syscall.EIO) || dev != nil {
		t.Fatalf("grant after re-mkfs: %v", err)
	}
	if _, _, err := control.GrantVia(sock, f, 0); !errors.Is(err, syscall.EIO) {
		t.Fatalf("map after re-mkfs: %v", err)
	}
	if g := daemonAlive(t, c1).Grants; g.Refused["remade"] != 2 {
		t.Fatalf("status: %+v", g)
	}
}

// floodChild opens FAMFS_E2E_N connections to each of the control and
// grant sockets and holds them; each line on stdin makes it print how many
// the daemon has not closed.
func floodChild() int {
	n, _ := strconv.Atoi(os.Getenv("FAMFS_E2E_N"))
	dial := func(network, path string) []net.Conn {
		var cs []net.Conn
		for tries := 0; len(cs) < n && tries < 20*n; tries++ {
			c, err := net.Dial(network, path)
			if err != nil {
				time.Sleep(time.Millisecond) // backlog full: the daemon is accepting
				continue
			}
			cs = append(cs, c)
		}
		return cs
	}
	ctl := dial("unix", os.Getenv("FAMFS_E2E_CTL"))
	grant := dial("unixpacket", os.Getenv("FAMFS_E2E_GRANT"))
	fmt.Printf("dialed %d %d\n", len(ctl), len(grant))
	open := func(cs []net.Conn) int {
		pfds := make([]unix.PollFd, 0, len(cs))
		for _, c := range cs {
			raw, _ := c.(syscall.Conn).SyscallConn()
			raw.Control(func(fd uintptr) { pfds = append(pfds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}) })
		}
		unix.Poll(pfds, 0)
		k := 0
		for _, p := range pfds {
			if p.Revents == 0 { // nothing to read, no hang-up: still open
				k++
			}
		}
		return k
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		fmt.Printf("open %d %d\n", open(ctl), open(grant))
	}
	return 0
}

// controlChild asks the control socket for status and to replay.
func controlChild() int {
	cl := mount.NewClient(os.Getenv("FAMFS_E2E_MPT"))
	if _, err := cl.Status(); err != nil {
		fmt.Println("status:", err)
	} else {
		fmt.Println("status: ok")
	}
	if _, err := cl.Replay(); err != nil {
		fmt.Println("replay:", err)
	} else {
		fmt.Println("replay: ok")
	}
	return 0
}

func vmRSS(t *testing.T, pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// An unprivileged user holding thousands of connections to a mount's
// sockets does not stop status, replay notifications or grants for others;
// the daemon's memory stays bounded and idle connections go away.
func TestSocketFlood(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	os.Chmod(c.dir, 0o755)
	m := c.mount(masterID)
	c1 := c.mount(client1ID)
	must(t, masterID, "creat", "-s", "2m", "-m", "0644", m+"/before")
	waitSeen(t, c1+"/before")
	pid := daemonAlive(t, c1).PID
	rss0 := vmRSS(t, pid)

	const n = 2000
	flood := asUser(t, c, 65534, 65534, "flood", "FAMFS_E2E_CTL="+control.SocketPath(c1),
		"FAMFS_E2E_GRANT="+control.GrantSocketPath(c1), fmt.Sprintf("FAMFS_E2E_N=%d", n))
	stdin, _ := flood.StdinPipe()
	stdout, _ := flood.StdoutPipe()
	flood.Stderr = os.Stderr
	if err := flood.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); flood.Process.Kill(); flood.Wait() }()
	lines := bufio.NewScanner(stdout)
	next := func() string {
		if !lines.Scan() {
			t.Fatalf("flood child: %v", lines.Err())
		}
		return lines.Text()
	}
	if l := next(); l != fmt.Sprintf("dialed %d %d", n, n) {
		t.Fatalf("flood child: %s", l)
	}
	var ctlOpen, grantOpen int
	eventually(t, 10*time.Second, "the daemon to cap the flood", func() bool {
		fmt.Fprintln(stdin, "count")
		fmt.Sscanf(next(), "open %d %d", &ctlOpen, &grantOpen)
		return ctlOpen <= 64 && grantOpen <= 64
	})
	t.Logf("flood: %d connections each; the daemon kept %d control and %d grant connections", n, ctlOpen, grantOpen)

	timed := func(what string, limit time.Duration, fn func()) {
		t.Helper()
		start := time.Now()
		fn()
		if d := time.Since(start); d > limit {
			t.Errorf("%s took %v under the flood (limit %v)", what, d, limit)
		}
	}
	timed("famfs status", 3*time.Second, func() { must(t, client1ID, "status", c1) })
	timed("famfs creat on the master, seen by the flooded client", 5*time.Second, func() {
		must(t, masterID, "creat", "-s", "2m", "-m", "0644", m+"/during")
		waitSeen(t, c1+"/during")
	})
	timed("a grant for root", 3*time.Second, func() {
		if o := tryGrant(c1+"/during", "r", control.GrantWantDevice, ""); o.Errno != 0 {
			t.Errorf("grant under the flood: %v", o)
		}
	})
	timed("a map for another user", 5*time.Second, func() {
		if o := grantAs(t, c, 65533, 65533, c1+"/during", "r", 0); o.Errno != 0 {
			t.Errorf("map for uid 65533 under the flood: %v", o)
		}
	})
	// Another unprivileged user reads status but may not make the daemon
	// replay; root may.
	out, err := asUser(t, c, 65533, 65533, "control", "FAMFS_E2E_MPT="+c1).Output()
	if err != nil || !strings.Contains(string(out), "status: ok") || !strings.Contains(string(out), "replay:") ||
		!strings.Contains(string(out), "403") {
		t.Errorf("unprivileged control requests: %v\n%s", err, out)
	}
	if _, err := mount.NewClient(c1).Replay(); err != nil {
		t.Errorf("root's replay: %v", err)
	}
	st := daemonAlive(t, c1)
	if st.Control == nil || st.Control.Refused < n/2 || st.Control.Forbidden < 1 || st.Grants.ConnectionsRefused < n/2 {
		t.Errorf("status: control %+v, grants %+v", st.Control, st.Grants)
	}
	if rss := vmRSS(t, pid); rss-rss0 > 32<<20 {
		t.Errorf("daemon RSS grew from %d to %d KiB under the flood", rss0>>10, rss>>10)
	} else {
		t.Logf("daemon RSS %d -> %d KiB", rss0>>10, rss>>10)
	}
	// Idle connections are closed (10 s for grants; 5 s for a control
	// connection that never sends a request).
	eventually(t, 15*time.Second, "the daemon to close idle connections", func() bool {
		fmt.Fprintln(stdin, "count")
		fmt.Sscanf(next(), "open %d %d", &ctlOpen, &grantOpen)
		return ctlOpen == 0 && grantOpen == 0
	})
}

// A file of many segments (20 GiB interleaved in 2 MiB chunks: 10,240
// segments, a 240 KiB reply, past the default socket buffer) comes back
// whole.
func TestGrantLargeMap(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	must(t, masterID, "mkfs.famfs", "-f", "--size", "64g", c.dev) // sparse
	m := c.mount(masterID)
	must(t, masterID, "creat", "-s", "20g", "-N", "2", "-B", "4", "-C", "2m", m+"/big")
	o := tryGrant(m+"/big", "r", control.GrantWantDevice, "")
	if o.Errno != 0 || o.DevMode != os.O_RDONLY {
		t.Fatalf("%v", o)
	}
	if n := len(o.Reply.Segments); n != 10240 {
		t.Fatalf("%d segments, want 10240", n)
	}
	fsys, err := famfs.Open(c.dev, famfs.OpenOptions{ReadOnly: true})
	if err != nil && !errors.Is(err, famfs.ErrLogDamaged) {
		t.Fatal(err)
	}
	defer fsys.Close()
	file, err := fsys.OpenFile("big")
	if err != nil {
		t.Fatal(err)
	}
	if want := file.Segments(); fmt.Sprint(want) != fmt.Sprint(o.Reply.Segments) {
		t.Fatal("segments differ from the file's map")
	}
}
