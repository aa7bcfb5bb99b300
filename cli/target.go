package cli

import (
	"fmt"
	"os"

	"github.com/famfs-go/famfs/internal/mounts"
)

// target is what a path argument names: a famfs mount (or a path inside one)
// or a device.
type target struct {
	arg    string
	device string        // the device path
	mount  *mounts.Mount // set when arg lies inside a famfs mount
	rel    string        // path of arg relative to the mount root
}

// resolve decides whether arg is inside a famfs mount (per the mount table,
// since statfs only says "fuse") or is a device: a char or block device, or a
// regular file holding a famfs superblock.
func resolve(arg string) (target, error) {
	t := target{arg: arg}
	if m, rel, ok := mounts.Containing(arg); ok {
		t.mount, t.rel, t.device = &m, rel, m.Source
		return t, nil
	}
	st, err := os.Stat(arg)
	if err != nil {
		return t, err
	}
	if st.IsDir() {
		return t, fmt.Errorf("%s: a directory that is not inside a famfs mount", arg)
	}
	t.device = arg
	return t, nil
}
