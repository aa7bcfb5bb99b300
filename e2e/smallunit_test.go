package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"syscall"
	"testing"
)

// A file system made with mkfs --4k: files are 4 KiB-granular on every host,
// the mounts say so (st_blocks, st_blksize), and a program under famfs run on
// a client maps and reads them from the shared memory itself.
func TestSmallAllocUnitMounted(t *testing.T) {
	t.Parallel()
	py := debianPython(t)
	_, m, c1 := twoHosts(t, "--4k")
	must(t, masterID, "creat", "-s", "5000", "-r", "-S", "11", m+"/small")
	must(t, masterID, "creat", "-s", "1m", "-r", "-S", "12", "-N", "4", "-B", "4", "-C", "64k", m+"/striped")
	waitSeen(t, c1+"/striped")
	var st syscall.Stat_t
	if err := syscall.Stat(c1+"/small", &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != 5000 || st.Blocks != 8192/512 || st.Blksize != 4096 {
		t.Errorf("client stat: size %d, %d blocks, blksize %d; want 5000, 16, 4096", st.Size, st.Blocks, st.Blksize)
	}
	if r := must(t, masterID, "fsck", m); !strings.Contains(r.stdout, "alloc_unit:        0x1000") {
		t.Errorf("fsck:\n%s", r.stdout)
	}
	for _, name := range []string{"small", "striped"} {
		b, err := os.ReadFile(m + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		want := hex.EncodeToString(sum[:])
		r := mustPreloaded(t, nil, nil, py, "-c", `
import hashlib, mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
m = mmap.mmap(fd, os.fstat(fd).st_size, prot=mmap.PROT_READ)
print(hashlib.sha256(m).hexdigest())
`, c1+"/"+name)
		if got := strings.TrimSpace(string(r.stdout)); got != want {
			t.Errorf("%s mapped under famfs run: %s, want %s\n%s", name, got, want, r.stderr)
		}
		if r.stats.grants != 1 || r.stats.mmaps != 1 {
			t.Errorf("%s: the mapping was not the shared memory's: %+v\n%s", name, r.stats, r.stderr)
		}
		must(t, client1ID, "verify", "-S", map[string]string{"small": "11", "striped": "12"}[name], "-f", c1+"/"+name)
	}
}
