package mounts

import (
	"bufio"
	"strings"
	"testing"
)

func TestParseMountinfo(t *testing.T) {
	in := `22 1 0:21 / /proc rw,nosuid - proc proc rw
98 22 0:52 / /mnt/my\040famfs rw,nosuid,nodev,relatime shared:5 - fuse.famfs /dev/shm/famfs.img rw,user_id=0,group_id=0
bad line
`
	ms, err := parse(bufio.NewScanner(strings.NewReader(in)))
	if err != nil || len(ms) != 2 {
		t.Fatal(ms, err)
	}
	m := ms[1]
	if m.Point != "/mnt/my famfs" || m.Type != FSType || m.Source != "/dev/shm/famfs.img" || m.Root != "/" {
		t.Fatalf("%+v", m)
	}
}

func TestCanonicalKeepsMissingTail(t *testing.T) {
	if got := Canonical("/proc/self/../nonexistent/x"); got != "/proc/nonexistent/x" {
		t.Fatal(got)
	}
}

// Check on paths that are no FUSE mount: a plain directory answers; a
// missing path is an error, never a dead daemon.
func TestCheckNonFUSE(t *testing.T) {
	if st, err := Check(t.TempDir(), DefaultWait); st != Alive || err != nil {
		t.Fatalf("%v %v", st, err)
	}
	if st, err := Check(t.TempDir()+"/missing", DefaultWait); st == Dead || err == nil {
		t.Fatalf("%v %v", st, err)
	}
}
