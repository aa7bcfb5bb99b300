package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"strings"
	"testing"

	"github.com/famfs-go/famfs/mount"

	famfs "github.com/famfs-go/famfs"
)

func filepathLog(mpt string) string { return mount.LogPath(mpt) }

// childMain runs in a re-executed test binary, usually as an unprivileged
// user (see asUser). FAMFS_E2E_CHILD chooses what it does; "1" maps a famfs
// file through the library (famfs.OpenMounted) and prints what it saw.
func childMain() int {
	switch os.Getenv("FAMFS_E2E_CHILD") {
	case "grant":
		return grantChild()
	case "flood":
		return floodChild()
	case "control":
		return controlChild()
	case "holdmap":
		return holdMapChild()
	case "lease":
		return leaseChild()
	}
	path := os.Getenv("FAMFS_E2E_PATH")
	write := os.Getenv("FAMFS_E2E_WRITE") == "1"
	fsys, f, err := famfs.OpenMounted(path, write, famfs.OpenOptions{})
	if err != nil {
		fmt.Println("error:", err)
		return 3
	}
	defer fsys.Close()
	m, err := f.Map(famfs.MapOptions{})
	if err != nil {
		fmt.Println("error:", err)
		return 4
	}
	defer m.Unmap()
	sum := sha256.Sum256(m.Bytes())
	fmt.Printf("uid=%d size=%d writable=%v sha256=%s\n", os.Getuid(), len(m.Bytes()), m.Writable(), hex.EncodeToString(sum[:]))
	return 0
}

// asUser runs the test binary as child mode what under uid:gid (no
// supplementary groups), with env added.
func asUser(t *testing.T, c *cluster, uid, gid int, what string, env ...string) *exec.Cmd {
	t.Helper()
	setpriv := needTool(t, "setpriv", "util-linux")
	cmd := exec.Command(setpriv, fmt.Sprintf("--reuid=%d", uid), fmt.Sprintf("--regid=%d", gid), "--clear-groups", childBinary(t, c))
	cmd.Env = append(append(os.Environ(), "FAMFS_E2E_CHILD="+what), env...)
	return cmd
}

// groupName is the name of group gid, for -o zerocopy_group.
func groupName(t *testing.T, gid int) string {
	t.Helper()
	g, err := user.LookupGroupId(fmt.Sprint(gid))
	if err != nil {
		t.Fatalf("no group %d on this machine: %v", gid, err)
	}
	return g.Name
}

// A non-root process maps a file through the library (famfs.OpenMounted):
// with a device descriptor from the daemon when the mount trusts its group
// with the device, with a clear refusal when it does not; a file it may not
// open through the mount gets it nothing; write access never comes from a
// read-only mount.
func TestNonRootMapsThroughDaemon(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	os.Chmod(c.dir, 0o755) // let the unprivileged child reach the mount points
	m := c.mount(masterID)
	c1 := c.mount(client1ID)
	c2 := c.mount(client2ID, "-o", "zerocopy_group="+groupName(t, 65534))
	must(t, masterID, "creat", "-s", "3m", "-m", "0644", "-r", "-S", "11", m+"/public")
	must(t, masterID, "creat", "-s", "1m", "-m", "0600", m+"/private")
	for _, mp := range []string{c1, c2} {
		waitSeen(t, mp+"/private")
	}
	want, _ := os.ReadFile(m + "/public")
	sum := sha256.Sum256(want)
	child := func(path, write string) (string, error) {
		cmd := asUser(t, c, 65534, 65534, "1", "FAMFS_E2E_PATH="+path, "FAMFS_E2E_WRITE="+write, "FAMFS_SYSTEM_UUID="+client1ID)
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	out, err := child(c2+"/public", "0")
	if err != nil || out != fmt.Sprintf("uid=65534 size=%d writable=false sha256=%s", len(want), hex.EncodeToString(sum[:])) {
		t.Fatalf("unprivileged map through zerocopy_group: %v: %s", err, out)
	}
	// Without the group option: refused, saying why and what to do.
	if out, err := child(c1+"/public", "0"); err == nil || !strings.Contains(out, "permission denied") || !strings.Contains(out, "zerocopy_group") {
		t.Fatalf("an untrusted user got the device: %v %s", err, out)
	}
	// The kernel decides about the file itself: a 0600 root file is refused
	// before the daemon is asked.
	if out, err := child(c2+"/private", "0"); err == nil || !strings.Contains(out, "permission denied") {
		t.Fatalf("a 0600 root file was handed out: %v %s", err, out)
	}
	if out, err := child(c2+"/public", "1"); err == nil || !strings.Contains(out, "read-only") && !strings.Contains(out, "permission denied") {
		t.Fatalf("write access was handed out: %v %s", err, out)
	}
}

func copyFile(t *testing.T, from, to string) {
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	out.Close()
}
