package famfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/uuid"
)

func TestSystemUUIDFromEnv(t *testing.T) {
	t.Setenv(SystemUUIDEnv, "")
	if u, err := SystemUUIDFromEnv(); u != uuid.Nil || err != nil {
		t.Fatalf("unset: %v %v", u, err)
	}
	t.Setenv(SystemUUIDEnv, " "+masterID.String()+"\n")
	if u, err := SystemUUIDFromEnv(); u != masterID || err != nil {
		t.Fatalf("%v %v", u, err)
	}
	if u, err := SystemUUID(); u != masterID || err != nil {
		t.Fatalf("%v %v", u, err)
	}
	for _, bad := range []string{"master", "a0a0a0a0-0000-4000-8000", "00000000-0000-0000-0000-000000000000"} {
		t.Setenv(SystemUUIDEnv, bad)
		for _, f := range []func() (uuid.UUID, error){SystemUUIDFromEnv, SystemUUID} {
			u, err := f()
			if u != uuid.Nil || !errors.Is(err, ErrBadSystemUUID) || !strings.Contains(err.Error(), SystemUUIDEnv+`="`+bad+`"`) {
				t.Errorf("%q: %v %v", bad, u, err)
			}
		}
	}
}

// Mkfs refuses before it changes anything, and removes a device file it
// created when it fails after all.
func TestMkfsLeavesNothingBehind(t *testing.T) {
	dir := t.TempDir()
	const size = 4 << 30
	absent := func(name string) {
		t.Helper()
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind (%v)", name, err)
		}
	}
	t.Setenv(SystemUUIDEnv, "master")
	_, err := Mkfs(filepath.Join(dir, "a"), MkfsOptions{Size: size})
	if !errors.Is(err, ErrBadSystemUUID) || !strings.Contains(err.Error(), SystemUUIDEnv) {
		t.Errorf("bad identity: %v", err)
	}
	absent("a")
	// An existing device is neither resized nor touched.
	old := filepath.Join(dir, "old")
	if err := os.WriteFile(old, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Mkfs(old, MkfsOptions{Size: size, Force: true}); !errors.Is(err, ErrBadSystemUUID) {
		t.Errorf("bad identity over a file: %v", err)
	}
	if fi, err := os.Stat(old); err != nil || fi.Size() != 4 {
		t.Errorf("the existing file was changed: %v %v", fi.Size(), err)
	}
	t.Setenv(SystemUUIDEnv, masterID.String())

	for _, c := range []struct {
		name string
		o    MkfsOptions
		msg  string
	}{
		{"small", MkfsOptions{Size: 1 << 30}, "at least"},
		{"loglen", MkfsOptions{Size: size, LogLen: 8 << 30}, "does not fit"},
		{"badlog", MkfsOptions{Size: size, LogLen: 12 << 20}, "power of two"},
	} {
		if _, err := Mkfs(filepath.Join(dir, c.name), c.o); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want an error naming %q", c.name, err, c.msg)
		}
		absent(c.name)
	}
	if _, err := Mkfs(filepath.Join(dir, "nodir", "dev"), MkfsOptions{Size: size}); err == nil {
		t.Error("a device in a missing directory was made")
	}
	absent("nodir")

	// A size the file system cannot hold: created, then not sized.
	var st syscall.Statfs_t
	if syscall.Statfs(dir, &st) == nil && st.Type == 0xEF53 { // ext4: files up to 16 TiB
		_, err := Mkfs(filepath.Join(dir, "huge"), MkfsOptions{Size: 1 << 50})
		if err == nil {
			t.Error("a 1 PiB device was made on ext4")
		}
		absent("huge")
	}
}

// The library, like the CLI, refuses to act under an invalid identity: Open,
// Probe and Fsck fail naming the variable instead of acting as a client.
func TestLibraryRefusesBadSystemUUID(t *testing.T) {
	_, dev := newFS(t)
	t.Setenv(SystemUUIDEnv, "master")
	if _, err := Open(dev, OpenOptions{}); !errors.Is(err, ErrBadSystemUUID) || !strings.Contains(err.Error(), SystemUUIDEnv) {
		t.Errorf("Open: %v", err)
	}
	if _, err := Probe(dev, uuid.Nil); !errors.Is(err, ErrBadSystemUUID) {
		t.Errorf("Probe: %v", err)
	}
	if _, err := Fsck(dev, FsckOptions{}); !errors.Is(err, ErrBadSystemUUID) {
		t.Errorf("Fsck: %v", err)
	}
	// An identity given explicitly is used as it is.
	if f, err := Open(dev, OpenOptions{SystemUUID: masterID}); err != nil || f.Role() != Master {
		t.Errorf("Open with an explicit identity: %v", err)
	} else {
		f.Close()
	}
}
