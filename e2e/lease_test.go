package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	famfs "github.com/famfs-go/famfs"
)

// Grants are leases (internal/control/grant.go, protocol version 2): the daemon
// holds a granted file until the grant's connection closes, and the
// clients keep that connection open for as long as they use the file.
// These tests watch the client daemon's lease count (GET /status) while
// programs hold, let go of, and die with, files.

// leaseCount is the number of leases the mount's daemon has in force.
func leaseCount(t testing.TB, mpt string) uint64 {
	t.Helper()
	g := daemonAlive(t, mpt).Grants
	if g == nil {
		t.Fatalf("the daemon of %s reports no grant socket", mpt)
	}
	return g.Leases
}

// waitLeases waits until the mount's daemon has n leases in force.
func waitLeases(t testing.TB, mpt string, n uint64, why string) {
	t.Helper()
	var got uint64
	if !within(5*time.Second, func() bool { got = leaseCount(t, mpt); return got == n }) {
		t.Fatalf("%s: %d leases, want %d (waited 5s)", why, got, n)
	}
}

// keepsLeases checks that the count stays n over a short window: the
// daemon ends a lease as soon as it reads the end of the connection, so a
// lease wrongly ended shows within it. (A check that nothing happens needs
// a window; its polls are not waits for a condition.)
func keepsLeases(t testing.TB, mpt string, n uint64, why string) {
	t.Helper()
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if got := leaseCount(t, mpt); got != n {
			t.Fatalf("%s: %d leases, want %d", why, got, n)
		}
	}
}

// leaseProc is preload_leasetest.c running under famfs run -d.
type leaseProc struct {
	*liveProc
	t testing.TB
}

func startLeaseTest(t *testing.T, file string) *leaseProc {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "leasetest")
	if out, err := exec.Command("gcc", "-O2", "-Wall", "-o", bin, "testdata/preload_leasetest.c").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	return &leaseProc{liveProc: startPreloaded(t, bin, file), t: t}
}

// do sends one command and waits for its "ok" (returning the lines before it).
func (p *leaseProc) do(cmd string) []string {
	p.t.Helper()
	if _, err := fmt.Fprintln(p.stdin, cmd); err != nil {
		p.t.Fatalf("%s: %v", cmd, err)
	}
	var before []string
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("%s: the program ended:\n%s\n%s", cmd, strings.Join(before, "\n"), p.errb.String())
			}
			if l == "ok "+cmd {
				return before
			}
			if strings.HasPrefix(l, "FAIL") {
				p.t.Fatalf("%s: %s\n%s", cmd, l, p.errb.String())
			}
			before = append(before, l)
		case <-timeout:
			p.t.Fatalf("%s: no answer", cmd)
		}
	}
}

func leaseCluster(t *testing.T) (c *cluster, c1, file string) {
	t.Helper()
	preloadLib(t)
	c = newCluster(t)
	m := c.mount(masterID)
	c1 = c.mount(client1ID)
	must(t, masterID, "creat", "-s", "8m", "-r", "-S", "21", m+"/leased")
	eventually(t, 5*time.Second, "replay on the client", func() bool { _, err := os.Stat(c1 + "/leased"); return err == nil })
	return c, c1, c1 + "/leased"
}

// A preloaded program holds its lease while it has a descriptor of the
// file (dup'ed ones too) or any part of a mapping of it, however the
// mapping is cut up, and through a close of every descriptor; the lease
// ends when the last of these goes, when the program execs, and, for a
// forked child's share, when the child dies.
func TestPreloadLeaseLifetime(t *testing.T) {
	_, c1, file := leaseCluster(t)
	if n := leaseCount(t, c1); n != 0 {
		t.Fatalf("%d leases before any program", n)
	}
	p := startLeaseTest(t, file)

	p.do("open")
	waitLeases(t, c1, 1, "a descriptor open")
	p.do("dup")
	p.do("map")
	p.do("close")
	keepsLeases(t, c1, 1, "descriptors closed, the mapping whole")
	p.do("unmap-middle")
	keepsLeases(t, c1, 1, "the middle of the mapping unmapped: head and tail remain")
	p.do("unmap-head")
	p.do("closeloop")
	p.do("closerange")
	p.do("clobber")
	keepsLeases(t, c1, 1, "the tail remains, every descriptor closed or replaced by the program")
	p.do("unmap-tail")
	waitLeases(t, c1, 0, "nothing of the file left in the process")

	p.do("open")
	p.do("map")
	p.do("close")
	waitLeases(t, c1, 1, "a mapping")
	p.do("remap-fixed")
	waitLeases(t, c1, 0, "the mapping replaced by MAP_FIXED")

	p.do("open")
	waitLeases(t, c1, 1, "a descriptor")
	p.do("close")
	waitLeases(t, c1, 0, "the descriptor closed")

	// mremap: a shrunk mapping and a moved part keep the lease.
	p.do("open")
	p.do("map")
	p.do("close")
	p.do("shrink")
	keepsLeases(t, c1, 1, "the mapping shrunk in place")
	p.do("unmap-head")
	waitLeases(t, c1, 0, "the shrunk mapping unmapped")
	p.do("open")
	p.do("map")
	p.do("close")
	p.do("move-head")
	p.do("unmap-rest")
	keepsLeases(t, c1, 1, "the head moved elsewhere, the rest unmapped")
	p.do("unmap-moved")
	waitLeases(t, c1, 0, "the moved head unmapped")

	// fork: the child shares the connection; the lease lasts until both let go.
	p.do("open")
	p.do("map")
	p.do("close")
	lines := p.do("fork")
	var child int
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "child ") {
		t.Fatalf("fork: %q", lines)
	}
	child, _ = strconv.Atoi(strings.TrimPrefix(lines[0], "child "))
	t.Cleanup(func() { syscall.Kill(child, syscall.SIGKILL) })
	p.do("remap-fixed")
	keepsLeases(t, c1, 1, "the parent let go, the forked child still maps the file")
	if err := syscall.Kill(child, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitLeases(t, c1, 0, "the child killed")

	// exec drops the mappings; the lease socket is close-on-exec. (A
	// descriptor left open across exec is the new program's: its own
	// preload asks for a new lease.)
	p.do("open")
	p.do("map")
	p.do("close")
	waitLeases(t, c1, 1, "before exec")
	p.do("exec")
	waitLeases(t, c1, 0, "the program exec'd sleep")
	if g := daemonAlive(t, c1).Grants; g.Made < 5 || g.LeaseConns != 0 {
		t.Errorf("grant status: %+v", g)
	}
}

// The lease of a program that exits normally, and of one killed with
// SIGKILL, ends within a deadline.
func TestPreloadLeaseEndsWithProgram(t *testing.T) {
	_, c1, file := leaseCluster(t)
	t.Run("exit", func(t *testing.T) {
		p := startLeaseTest(t, file)
		p.do("open")
		p.do("map")
		waitLeases(t, c1, 1, "mapped")
		keepsLeases(t, c1, 1, "while it runs")
		p.do("exit")
		if err := p.cmd.Wait(); err != nil {
			t.Fatalf("%v\n%s", err, p.errb.String())
		}
		waitLeases(t, c1, 0, "the program exited")
		if st := parseStats(p.errb.String()); st.grants != 1 || st.mmaps != 1 {
			t.Errorf("not served from the device: %+v\n%s", st, p.errb.String())
		}
	})
	t.Run("kill -9", func(t *testing.T) {
		p := startLeaseTest(t, file)
		p.do("open")
		p.do("map")
		waitLeases(t, c1, 1, "mapped")
		if err := p.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		p.cmd.Wait()
		waitLeases(t, c1, 0, "the program was killed")
	})
}

// leaseChild (FAMFS_E2E_CHILD=lease) maps FAMFS_E2E_PATH through the
// library (famfs.OpenMounted), then on each line of stdin: closes the FS
// (the mapping stays), unmaps, exits; it prints a line after each step.
func leaseChild() int {
	fsys, f, err := famfs.OpenMounted(os.Getenv("FAMFS_E2E_PATH"), false, famfs.OpenOptions{})
	if err != nil {
		fmt.Println("error:", err)
		return 3
	}
	m, err := f.Map(famfs.MapOptions{})
	if err != nil {
		fmt.Println("error:", err)
		return 4
	}
	in := bufio.NewScanner(os.Stdin)
	_ = m.Bytes()[len(m.Bytes())-1] // mapped to the end
	fmt.Println("mapped")
	in.Scan()
	fsys.Close()
	fmt.Println("closed")
	in.Scan()
	m.Unmap()
	fmt.Println("unmapped")
	in.Scan()
	return 0
}

// A Go program that got a grant (famfs.OpenMounted as a user trusted
// through zerocopy_group) keeps the lease until its FS is closed and its
// Mapping unmapped.
func TestLibraryLease(t *testing.T) {
	c := newCluster(t)
	os.Chmod(c.dir, 0o755)
	m := c.mount(masterID)
	c2 := c.mount(client2ID, "-o", "zerocopy_group="+groupName(t, 65534))
	must(t, masterID, "creat", "-s", "3m", "-m", "0644", "-r", "-S", "12", m+"/public")
	eventually(t, 5*time.Second, "replay", func() bool { _, err := os.Stat(c2 + "/public"); return err == nil })
	cmd := asUser(t, c, 65534, 65534, "lease", "FAMFS_E2E_PATH="+c2+"/public", "FAMFS_SYSTEM_UUID="+client2ID)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	expect := func(want string) {
		t.Helper()
		if !lines.Scan() || !strings.HasPrefix(lines.Text(), want) {
			t.Fatalf("child: %q, want %q", lines.Text(), want)
		}
	}
	expect("mapped")
	waitLeases(t, c2, 1, "mapped through the library")
	fmt.Fprintln(stdin, "close")
	expect("closed")
	keepsLeases(t, c2, 1, "the FS closed, its Mapping live")
	fmt.Fprintln(stdin, "unmap")
	expect("unmapped")
	waitLeases(t, c2, 0, "the FS closed and the Mapping unmapped")
}

// The preload library's mapping records (preload/lease.c), alone: random
// adds and forgets against a page-by-page model, with the sanitizers when
// the compiler has them.
func TestPreloadLeaseRecords(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "records")
	args := []string{"-O1", "-g", "-Wall", "-Wextra", "-Werror", "-o", bin, "testdata/preload_records.c"}
	if out, err := exec.Command("gcc", append([]string{"-fsanitize=address,undefined"}, args...)...).CombinedOutput(); err != nil {
		t.Logf("without the sanitizers (%v: %s)", err, out)
		if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
			t.Fatalf("gcc: %v\n%s", err, out)
		}
	}
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("%v\n%s", err, out)
	}
}
