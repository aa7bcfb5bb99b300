package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestParseMulti(t *testing.T) {
	m, err := parseCreatMulti("/mnt/f,2M,42")
	if err != nil || m.arg != "/mnt/f" || m.size != 2<<20 || m.seed != 42 {
		t.Fatalf("%+v %v", m, err)
	}
	for _, bad := range []string{"/mnt/f", "/mnt/f,22,22,22", "/mnt/f,x", "/mnt/f,1,y"} {
		if _, err := parseCreatMulti(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := parseVerifyMulti("f,1,extra"); err == nil {
		t.Error("verify -m with 3 fields accepted")
	}
}

// The exit-code contract: usage errors are 16 (1 for mount), help is 0,
// nothing reaches 128.
func TestExitCodes(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"famfs"}, ExitUsage},
		{[]string{"famfs", "--"}, ExitUsage},
		{[]string{"famfs", "badarg"}, ExitUsage},
		{[]string{"famfs", "-h"}, 0},
		{[]string{"famfs", "-h", "mount"}, 0},
		{[]string{"famfs", "fsck", "-?"}, 0},
		{[]string{"famfs", "fsck"}, ExitUsage},
		{[]string{"famfs", "fsck", "--bogus", "x"}, ExitUsage},
		{[]string{"famfs", "fsck", "/nonexistent/device"}, fsckOperational},
		{[]string{"famfs", "mount"}, mountUsage},
		{[]string{"famfs", "mount", "a", "b", "c"}, mountUsage},
		{[]string{"famfs", "verify", "-t", "999", "-S", "1", "-f", "x"}, ExitUsage},
		{[]string{"famfs", "creat", "-t", "-1", "x"}, ExitUsage},
		{[]string{"mkfs.famfs"}, ExitUsage},
		{[]string{"mkfs.famfs", "-h"}, 0},
		{[]string{"mkfs.famfs", "/nonexistent/device"}, mkfsFailed},
		{[]string{"mkfs.famfs", "--loglen", "11m", "/nonexistent/device"}, mkfsFailed},
		{[]string{"mount.famfs"}, mountUsage},
	} {
		var out, errb bytes.Buffer
		got := run(c.args, &env{stdout: &out, stderr: &errb})
		if got != c.code {
			t.Errorf("%v: exit %d, want %d\n%s", c.args, got, c.code, errb.String())
		}
		if strings.Contains(errb.String(), "panic") {
			t.Errorf("%v: %s", c.args, errb.String())
		}
	}
}

// A set but invalid FAMFS_SYSTEM_UUID is an error naming the variable for
// every command (help still works): never a warning and a client's role.
func TestBadSystemUUIDEnv(t *testing.T) {
	t.Setenv("FAMFS_SYSTEM_UUID", "master")
	dev := t.TempDir() + "/dev"
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"famfs", "creat", "-s", "1m", "/nonexistent/f"}, ExitFailure},
		{[]string{"famfs", "mkdir", "/nonexistent/d"}, ExitFailure},
		{[]string{"famfs", "logplay", "-n", "/nonexistent/dev"}, ExitFailure},
		{[]string{"famfs", "fsck", "/nonexistent/dev"}, fsckOperational},
		{[]string{"famfs", "mount", "/nonexistent/dev", "/nonexistent/mnt"}, mountUsage},
		{[]string{"mount.famfs", "/nonexistent/dev", "/nonexistent/mnt"}, mountUsage},
		{[]string{"famfs", "mkfs", "--size", "4g", dev}, mkfsFailed},
		{[]string{"mkfs.famfs", "--size", "4g", dev}, mkfsFailed},
	} {
		var out, errb bytes.Buffer
		got := run(c.args, &env{stdout: &out, stderr: &errb})
		if got != c.code || !strings.Contains(errb.String(), `FAMFS_SYSTEM_UUID="master": not a UUID`) {
			t.Errorf("%v: exit %d (want %d)\n%s", c.args, got, c.code, errb.String())
		}
		if _, err := os.Stat(dev); err == nil {
			t.Fatalf("%v: left %s behind", c.args, dev)
		}
	}
	for _, args := range [][]string{{"famfs", "-h"}, {"famfs", "creat", "-h"}, {"mkfs.famfs", "-h"}} {
		var out, errb bytes.Buffer
		if got := run(args, &env{stdout: &out, stderr: &errb}); got != 0 {
			t.Errorf("%v: exit %d\n%s", args, got, errb.String())
		}
	}
}

// -u/-g take a number or a name; -1 (4294967295), which chown(2) reads as
// "leave unchanged", and what is neither are refused.
func TestIDFlag(t *testing.T) {
	for _, c := range []struct {
		in    string
		group bool
		want  uint32
		ok    bool
	}{
		{"0", false, 0, true}, {"1000", true, 1000, true}, {"0x10", false, 16, true}, {"010", false, 8, true},
		{"0o10", false, 0, false}, {"0b11", false, 0, false}, {"1_0", false, 0, false}, {"99999999999999999999", false, 0, false},
		{"root", false, 0, true}, {"root", true, 0, true},
		{"4294967295", false, 0, false}, {"-1", false, 0, false}, {"4294967296", true, 0, false},
		{"no-such-user-here", false, 0, false}, {"no-such-group-here", true, 0, false},
	} {
		f := idFlag{group: c.group}
		err := f.Set(c.in)
		if (err == nil) != c.ok || (c.ok && (f.v != c.want || !f.set)) {
			t.Errorf("%q (group %v): %d, %v", c.in, c.group, f.v, err)
		}
	}
}
