package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/control"
)

func filepathLog(mpt string) string { return control.LogPath(mpt) }

// childMain runs in a re-executed test binary as an unprivileged user: it
// maps a famfs file through the library, with a device descriptor from the
// mount's daemon, and prints what it saw.
func childMain() int {
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

// A non-root process maps a file through the library with a descriptor of
// the device from the daemon, after the daemon checked the file's permissions
// for the caller; a file it may not read is refused.
func TestNonRootMapsThroughDaemon(t *testing.T) {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatal("setpriv (util-linux) is needed")
	}
	c := newCluster(t)
	os.Chmod(c.dir, 0o755) // let the unprivileged child reach the mount point
	m := c.mount(masterID)
	c1 := c.mount(client1ID)
	must(t, masterID, "creat", "-s", "3m", "-m", "0644", "-r", "-S", "11", m+"/public")
	must(t, masterID, "creat", "-s", "1m", "-m", "0600", m+"/private")
	eventually(t, 5*time.Second, "replay", func() bool { _, err := os.Stat(c1 + "/private"); return err == nil })
	want, _ := os.ReadFile(m + "/public")
	sum := sha256.Sum256(want)

	exe, _ := os.Executable()
	bin := filepath.Join(c.dir, "child")
	copyFile(t, exe, bin)
	child := func(path, write string) (string, error) {
		cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", bin)
		cmd.Env = append(os.Environ(), "FAMFS_E2E_CHILD=1", "FAMFS_E2E_PATH="+path, "FAMFS_E2E_WRITE="+write,
			"FAMFS_SYSTEM_UUID="+client1ID)
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	out, err := child(c1+"/public", "0")
	if err != nil || out != fmt.Sprintf("uid=65534 size=%d writable=false sha256=%s", len(want), hex.EncodeToString(sum[:])) {
		t.Fatalf("unprivileged map: %v: %s", err, out)
	}
	if out, err := child(c1+"/private", "0"); err == nil || !strings.Contains(out, "permission denied") {
		t.Fatalf("a 0600 root file was handed out: %v %s", err, out)
	}
	if out, err := child(c1+"/public", "1"); err == nil || !strings.Contains(out, "read-only") && !strings.Contains(out, "permission denied") {
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
