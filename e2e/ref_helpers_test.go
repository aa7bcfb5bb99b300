package e2e

// Helpers for the reference-behaviour suite (ref_*_test.go): each test there
// checks the numbered behaviours of one command (docs/design.md, "Reference
// CLI behaviours this implementation keeps"), many command lines per test.

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	famfs "github.com/famfs-go/famfs"
)

// fail is the expected code "any failure" (1..127; run already rejects
// crashes and codes of 128 or more).
const fail = -1

// runOpts says how to run famfs beyond run's defaults.
type runOpts struct {
	dir    string   // working directory (default: the test's)
	env    []string // extra environment
	nobody bool     // run as uid/gid 65534 through setpriv (bin must be reachable)
	bin    string   // binary to run (default famfsBin)
}

// runWith runs famfs as host id with o. args[0] "mkfs.famfs" or
// "mount.famfs" runs the binary under that name, as mount(8) and users do.
func runWith(t testing.TB, o runOpts, id string, args ...string) result {
	t.Helper()
	bin := famfsBin
	if o.bin != "" {
		bin = o.bin
	}
	argv0 := "famfs"
	if len(args) > 0 && (args[0] == "mkfs.famfs" || args[0] == "mount.famfs" || args[0] == "pcq") {
		argv0, args = args[0], args[1:]
		// mkfs.famfs and pcq are programs of their own (as make builds
		// them); mount.famfs is famfs by that name (as install.sh links it).
		if o.bin == "" && argv0 == "mkfs.famfs" {
			bin = mkfsBin
		} else if o.bin == "" && argv0 == "pcq" {
			bin = pcqBin
		}
	}
	var cmd *exec.Cmd
	if o.nobody {
		if argv0 != "famfs" {
			args = append([]string{strings.TrimSuffix(argv0, ".famfs")}, args...)
		}
		cmd = asNobody(t, append([]string{bin}, args...)...)
	} else {
		cmd = exec.Command(bin, args...)
		cmd.Args[0] = argv0
	}
	cmd.Dir = o.dir
	cmd.Env = append(append(os.Environ(), "FAMFS_SYSTEM_UUID="+id), o.env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("famfs %v: %v", args, err)
	}
	if strings.Contains(r.stderr, "panic:") || r.code >= 128 || r.code < 0 {
		t.Fatalf("famfs %v crashed: %v", args, r)
	}
	return r
}

// expectWith runs famfs with o and checks the exit code: code, or any
// failure for fail. It reports with t.Errorf so that one test can check many
// command lines.
func expectWith(t testing.TB, o runOpts, code int, id string, args ...string) result {
	t.Helper()
	r := runWith(t, o, id, args...)
	if code == fail && r.code == 0 || code != fail && r.code != code {
		want := "non-zero"
		if code != fail {
			want = strconv.Itoa(code)
		}
		t.Errorf("famfs %s: want exit %s, got %v", strings.Join(args, " "), want, r)
	}
	return r
}

// expect runs famfs as id and checks the exit code (see expectWith).
func expect(t testing.TB, code int, id string, args ...string) result {
	t.Helper()
	return expectWith(t, runOpts{}, code, id, args...)
}

// tool runs an ordinary program and returns its exit code and output.
func tool(t testing.TB, name string, args ...string) (int, string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		missingTool(t, "%s is needed (%v)", name, err)
	}
	cmd := exec.Command(name, args...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		if ee.ExitCode() < 0 {
			t.Fatalf("%s %v killed: %v\n%s", name, args, err, out)
		}
		return ee.ExitCode(), string(out)
	case err != nil:
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return 0, string(out)
}

// toolOK runs a program that must succeed.
func toolOK(t testing.TB, name string, args ...string) string {
	t.Helper()
	code, out := tool(t, name, args...)
	if code != 0 {
		t.Errorf("%s %s: exit %d\n%s", name, strings.Join(args, " "), code, out)
	}
	return out
}

// toolFails runs a program that must fail (and not be killed).
func toolFails(t testing.TB, name string, args ...string) string {
	t.Helper()
	code, out := tool(t, name, args...)
	if code == 0 {
		t.Errorf("%s %s: succeeded, want a failure\n%s", name, strings.Join(args, " "), out)
	}
	return out
}

// field returns the n-th (1-based) whitespace field of the only line of out
// that contains label; it fails the test unless exactly one line does.
func field(t testing.TB, out, label string, n int) string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, label) {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Errorf("want exactly one line with %q, got %d in:\n%s", label, len(lines), out)
		return ""
	}
	f := strings.Fields(lines[0])
	if len(f) < n {
		t.Errorf("line %q has no field %d", lines[0], n)
		return ""
	}
	return f[n-1]
}

// daemonsServing lists the pids of famfs daemons whose command line names
// the mount point mpt.
func daemonsServing(mpt string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) > 2 && args[0] == "famfs" && args[1] == "mount" {
			for _, a := range args {
				if a == mpt {
					pids = append(pids, pid)
				}
			}
		}
	}
	return pids
}

// noMountOf fails the test if anything is mounted from dev or at mpt, or a
// daemon serves mpt.
func noMountOf(t testing.TB, dev, mpt string) {
	t.Helper()
	b, _ := os.ReadFile("/proc/self/mounts")
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 2 && (f[0] == dev || mpt != "" && f[1] == mpt) {
			t.Errorf("left mounted: %s", l)
		}
	}
	if mpt != "" {
		if pids := daemonsServing(mpt); len(pids) > 0 {
			t.Errorf("daemons left serving %s: %v", mpt, pids)
		}
	}
}

// dropCaches asks the kernel to drop dentries and inodes, as the reference
// tests do between writing and verifying (best effort).
func dropCaches() {
	os.WriteFile("/proc/sys/vm/drop_caches", []byte("2"), 0)
}

// statIDs returns mode bits, uid and gid of p.
func statIDs(t testing.TB, p string) (os.FileMode, uint32, uint32) {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	s := st.Sys().(*syscall.Stat_t)
	return st.Mode().Perm(), s.Uid, s.Gid
}

// writeFile writes n random-ish bytes (a fixed pattern keyed by name) to a
// local file.
func writeFile(t testing.TB, p string, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	x := uint32(len(p)*7919 + n)
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// sameFile fails unless a and b hold the same bytes.
func sameFile(t testing.TB, a, b string) {
	t.Helper()
	x, err1 := os.ReadFile(a)
	y, err2 := os.ReadFile(b)
	if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
		t.Errorf("%s and %s differ (%v, %v; %d vs %d bytes)", a, b, err1, err2, len(x), len(y))
	}
}

// logEntries reads the number of log entries in use from the device.
func logEntries(t testing.TB, dev string) uint64 {
	t.Helper()
	fsys, err := famfs.Open(dev, famfs.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	next, _, _ := fsys.LogStatus()
	return next
}
