package control

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/famfs-go/famfs/internal/omf"
	"golang.org/x/sys/unix"
)

// The preload library's C header repeats the grant protocol's constants
// (docs/protocol.md); this test reads preload/protocol.h and holds every
// #define to the Go definition it mirrors, so the two cannot drift apart.
func TestPreloadHeaderAgrees(t *testing.T) {
	src, err := os.ReadFile("../../preload/protocol.h")
	if err != nil {
		t.Fatal(err)
	}
	defs := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^#define\s+(\w+)\s+(\S+)`).FindAllStringSubmatch(string(src), -1) {
		defs[m[1]] = m[2]
	}
	num := func(name string) uint64 {
		t.Helper()
		v, ok := defs[name]
		if !ok {
			t.Fatalf("protocol.h has no %s", name)
		}
		n, err := strconv.ParseUint(strings.TrimRight(v, "uUlL"), 0, 64)
		if err != nil {
			t.Fatalf("%s = %q: %v", name, v, err)
		}
		return n
	}
	for _, c := range []struct {
		name string
		want uint64
	}{
		{"GRANT_MAGIC", GrantMagic},
		{"GRANT_VERSION", GrantVersion},
		{"GRANT_OP", GrantOp},
		{"GRANT_REQ_SIZE", GrantRequestSize},
		{"GRANT_HDR_SIZE", GrantHeaderSize},
		{"GRANT_SEG_SIZE", GrantSegmentSize},
		{"GRANT_WANT_DEVICE", GrantWantDevice},
		{"GRANT_WRITABLE", GrantWritable},
		{"GRANT_NONCOHERENT", GrantNonCoherent},
		{"GRANT_DEVDAX", GrantDevDax},
		{"FUSE_SUPER_MAGIC_", 0x65735546},
		{"FAMFS_SB_MAGIC", omf.SuperblockMagic},
		{"FAMFS_SB_UUID_OFF", 0x30},
	} {
		if got := num(c.name); got != c.want {
			t.Errorf("protocol.h: %s is %#x, the Go side %#x", c.name, got, c.want)
		}
	}
	// The superblock's UUID is where omf writes it.
	var sb [omf.SuperblockSize]byte
	s := omf.NewSuperblock()
	s.UUID[0], s.UUID[15] = 0xAB, 0xCD
	s.Encode(sb[:])
	if sb[0x30] != 0xAB || sb[0x3F] != 0xCD {
		t.Error("the superblock UUID is not at 0x30")
	}
	// The link name format gives GrantLinkPath's name.
	var f string
	if v, ok := defs["GRANT_LINK_FMT"]; ok {
		f, _ = strconv.Unquote(v)
	}
	dev := unix.Mkdev(259, 7)
	if got, want := fmt.Sprintf(strings.ReplaceAll(f, "%u", "%d"), 259, 7), GrantLinkPath(dev); got != want {
		t.Errorf("protocol.h's GRANT_LINK_FMT gives %q, the daemon makes %q", got, want)
	}
}
