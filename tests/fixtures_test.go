package tests

import (
	"testing"

	famfs "github.com/famfs-go/famfs"
	"github.com/google/uuid"
)

var masterID = uuid.MustParse("11111111-1111-4111-8111-111111111111")

// fsckOf checks the file system f has open, as its host.
func fsckOf(t testing.TB, f *famfs.FS) *famfs.FsckReport {
	t.Helper()
	r, err := famfs.Fsck(f.Device().Path, famfs.FsckOptions{SystemUUID: f.HostUUID()})
	if err != nil {
		t.Fatalf("fsck %s: %v", f.Device().Path, err)
	}
	return r
}
