package famfs

import (
	"testing"

	"github.com/famfs-go/famfs/internal/alloc"
	"github.com/famfs-go/famfs/internal/device"
	"github.com/famfs-go/famfs/internal/metalog"
	"github.com/famfs-go/famfs/internal/namespace"
)

// viewTree runs fn with read access to the namespace tree (white-box tests).
func (f *FS) viewTree(fn func(t *namespace.Tree)) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	fn(f.tree)
}

// DeviceKind numbers its kinds as the device layer does (DeviceKind(k)
// converts between them).
func TestDeviceKindsMatch(t *testing.T) {
	if RegularFile != DeviceKind(device.RegularFile) || DaxDevice != DeviceKind(device.DaxChar) || BlockDevice != DeviceKind(device.Block) {
		t.Fatal("DeviceKind and device.Kind disagree")
	}
	if metalog.ErrLogFull != ErrLogFull || alloc.ErrNoSpace != ErrNoSpace {
		t.Fatal("the layers below do not report the library's errors")
	}
}
