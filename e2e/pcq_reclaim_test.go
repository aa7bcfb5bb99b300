package e2e

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// On a file system made for delete every reader of file data holds it
// against reuse. pcq opens one of its two files read-only; the mount's
// daemon holds that one for it (a grant's lease), so a queue works there as
// anywhere, and the files it held are reused only after it is done.
func TestPcqOnReclaim(t *testing.T) {
	c := newCluster(t, "--reclaim")
	m := c.mount(masterID)
	c1 := c.mount(client1ID, "-o", "rw")
	must(t, masterID, "pcq", "-C", "-b", "4k", "-n", "64", m+"/q")
	eventually(t, 5*time.Second, "the queue on the client", func() bool {
		_, err := os.Stat(c1 + "/q.consumer")
		return err == nil
	})
	r := must(t, masterID, "pcq", "-pc", "-S", "3", "-N", "5000", m+"/q")
	if !strings.Contains(r.stdout, "nerrors=0") {
		t.Errorf("pcq -pc on the master: %v", r)
	}
	r = must(t, client1ID, "pcq", "--info", c1+"/q")
	if !strings.Contains(r.stdout, "5000") {
		t.Errorf("pcq --info on the client: %v", r)
	}
	must(t, masterID, "rm", m+"/q", m+"/q.consumer")
	var last string
	defer func() {
		if t.Failed() {
			t.Log(last)
		}
	}()
	eventually(t, 5*time.Second, "the queue's space reusable", func() bool {
		r := run(t, masterID, "hosts", "--json", m)
		var h struct {
			Space struct {
				Waiting *uint64 `json:"waiting_bytes"`
			} `json:"space"`
		}
		last = r.stdout + r.stderr
		return r.code == 0 && json.Unmarshal([]byte(r.stdout), &h) == nil && h.Space.Waiting != nil && *h.Space.Waiting == 0
	})
}

// The same for a user the mount trusts with the device (its zerocopy_group)
// who may not write the host's participant locks: the daemon's grant lease
// holds the files for them.
func TestPcqOnReclaimUnprivileged(t *testing.T) {
	c := newCluster(t, "--reclaim")
	os.Chmod(c.dir, 0o755)
	m := c.mount(masterID, "-o", "zerocopy_group="+groupName(t, 65534))
	must(t, masterID, "pcq", "-C", "-u", "65534", "-g", "65534", "-b", "4k", "-n", "64", m+"/q")
	nobody := runOpts{nobody: true, bin: c.nobodyBin()}
	if r := runWith(t, nobody, masterID, "pcq", "-pc", "-S", "5", "-N", "3000", m+"/q"); r.code != 0 || !strings.Contains(r.stdout, "nerrors=0") {
		t.Fatalf("pcq -pc as the queue's unprivileged owner: %v", r)
	}
}
