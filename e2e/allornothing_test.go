package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Issue 10, #1-#4: a copy or creation that cannot complete logs nothing; a
// tree's empty files are skipped with a warning; new files never expose what
// an earlier file left in their memory.
func TestAllOrNothing(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	m := c.mount(masterID)
	local := filepath.Join(c.dir, "local")

	// #1: one path of a tree over the 78-byte limit: nothing is logged.
	tree := filepath.Join(local, "tree")
	writeFile(t, filepath.Join(tree, "a", "ok"), 5000)
	writeFile(t, filepath.Join(tree, "a", strings.Repeat("L", 75)), 100)
	before := logEntries(t, c.dev)
	r := expect(t, 1, masterID, "cp", "-r", tree, m+"/tree")
	if !strings.Contains(r.stderr, strings.Repeat("L", 75)) {
		t.Errorf("the error does not name the long path: %q", r.stderr)
	}
	if n := logEntries(t, c.dev); n != before {
		t.Errorf("a cp -r that could not complete logged %d entries", n-before)
	}
	if _, err := os.Stat(m + "/tree"); err == nil {
		t.Error("the tree's top directory was logged")
	}
	// creat --multi and mkdir -p likewise.
	expect(t, 1, masterID, "creat", "-M", m+"/g1,1m", "-M", m+"/"+strings.Repeat("x", 79)+",1m")
	expect(t, 1, masterID, "mkdir", "-p", m+"/p1/p2/"+strings.Repeat("y", 79))
	if n := logEntries(t, c.dev); n != before {
		t.Errorf("failed creat --multi / mkdir -p logged %d entries", n-before)
	}

	// #2: a tree holding an empty file: skipped with a warning, the rest is
	// copied, success.
	os.Remove(filepath.Join(tree, "a", strings.Repeat("L", 75)))
	if err := os.WriteFile(filepath.Join(tree, "a", "empty"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r = expect(t, 0, masterID, "cp", "-r", tree, m+"/tree")
	if !strings.Contains(r.stderr, "empty") {
		t.Errorf("no warning for the empty file: %q", r.stderr)
	}
	sameFile(t, filepath.Join(tree, "a", "ok"), m+"/tree/a/ok")
	// An empty file named as the source is an error, and nothing is logged.
	before = logEntries(t, c.dev)
	expect(t, 1, masterID, "cp", filepath.Join(tree, "a", "empty"), filepath.Join(tree, "a", "ok"), m+"/tree")
	if logEntries(t, c.dev) != before {
		t.Error("a failed cp of two sources logged something")
	}

	// #3: a source that shrinks while it is copied: either the copy was
	// done before the shrink (the file is whole) or nothing is logged;
	// never a logged file with an unwritten tail.
	// The shrink comes when cp has read nothing yet, a quarter, and half
	// of the source (as its descriptor's offset says).
	big := filepath.Join(local, "big")
	for try := 0; try < 3; try++ {
		want := writeFile(t, big, 256<<20)
		dst := m + "/shrink" + string(rune('0'+try))
		cp := exec.Command(famfsBin, "cp", big, dst)
		cp.Env = append(os.Environ(), "FAMFS_SYSTEM_UUID="+masterID)
		var errb strings.Builder
		cp.Stderr = &errb
		if err := cp.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cp.Wait() }()
		at := int64(try) * 64 << 20
		var exited error
		ended := false
		waitFor(t, 30*time.Second, fmt.Sprintf("cp to read %d bytes of the source", at), func() bool {
			select {
			case exited = <-done:
				ended = true
				return true
			default:
			}
			off, ok := readOffset(cp.Process.Pid, big)
			return ok && off >= at
		})
		os.Truncate(big, 1<<20)
		if !ended {
			exited = <-done
		}
		res := result{code: cp.ProcessState.ExitCode(), stderr: errb.String()}
		if exited != nil && res.code <= 0 || strings.Contains(res.stderr, "panic:") {
			t.Fatalf("cp crashed: %v\n%s", exited, res.stderr)
		}
		got, err := os.ReadFile(dst)
		t.Logf("try %d: shrunk %s; cp exit %d, %d bytes logged (%v): %s", try,
			map[bool]string{true: "after cp ended", false: fmt.Sprintf("at a read offset of %d or more", at)}[ended],
			res.code, len(got), err, strings.TrimSpace(res.stderr))
		switch {
		case res.code == 0:
			// The source was copied whole, as it was when cp looked at it
			// (before or after the shrink).
			if (len(got) != len(want) && len(got) != 1<<20) || !bytes.Equal(got, want[:len(got)]) {
				t.Errorf("try %d: cp succeeded but the copy (%d bytes) is not the source", try, len(got))
			}
		case err == nil:
			t.Errorf("try %d: cp failed (%s) but left %s logged", try, res.stderr, dst)
		case !strings.Contains(res.stderr, "big"):
			t.Errorf("try %d: the error does not name the source: %q", try, res.stderr)
		}
	}

	// #4: space a new file gets is zero, slack included, even where an
	// earlier file (of another file system) kept a secret.
	secret := bytes.Repeat([]byte("0600 secret "), (8<<20)/12)
	sf := filepath.Join(local, "secret")
	if err := os.WriteFile(sf, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	expect(t, 0, masterID, "cp", "-m", "600", sf, m+"/secret")
	expect(t, 0, masterID, "umount", m)
	expect(t, 0, masterID, "mkfs.famfs", "-f", c.dev)
	// mkfs -f released the old files' memory of this regular-file device;
	// a dax device would still hold old bytes: put some where the next file
	// goes (the start of the data area, after the superblock and log).
	const dataStart = 0xa00000
	if df, err := os.OpenFile(c.dev, os.O_RDWR, 0); err == nil {
		df.WriteAt(secret, dataStart)
		df.Close()
	}
	m = c.mount(masterID)
	expect(t, 0, masterID, "creat", "-s", "5000000", m+"/fresh")
	got, err := os.ReadFile(m + "/fresh")
	if err != nil || len(got) != 5000000 || !bytes.Equal(got, make([]byte, len(got))) {
		t.Fatalf("a new file shows old bytes (%v)", err)
	}
	// The device bytes behind it, to the end of its last allocation unit.
	seg := getmapSegments(t, m+"/fresh")
	if seg != dataStart {
		t.Errorf("the new file is at %#x, not over the old bytes at %#x", seg, dataStart)
	}
	dev, _ := os.Open(c.dev)
	defer dev.Close()
	all := make([]byte, 6<<20)
	if _, err := dev.ReadAt(all, int64(seg)); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(all, []byte("secret")) {
		t.Error("the new file's allocation (slack included) still holds the secret")
	}
	// --no-zero is the explicit opt-out: old bytes may stay.
	expect(t, 0, masterID, "creat", "--no-zero", "-s", "2m", m+"/raw")
}

// getmapSegments returns the device offset of a file's first byte.
func getmapSegments(t *testing.T, p string) uint64 {
	t.Helper()
	r := expect(t, 0, masterID, "getmap", "--json", p)
	var out []struct {
		Segments []struct {
			DevOff uint64 `json:"device_offset_bytes"`
		} `json:"segments"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out) != 1 || len(out[0].Segments) == 0 {
		t.Fatalf("getmap --json: %v\n%s", err, r.stdout)
	}
	return out[0].Segments[0].DevOff
}

// readOffset returns the file offset of process pid's descriptor of path
// (false if it has none open).
func readOffset(pid int, path string) (int64, bool) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if to, err := os.Readlink(filepath.Join(dir, e.Name())); err != nil || to != path {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, e.Name()))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "pos:"); ok {
				n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				return n, err == nil
			}
		}
	}
	return 0, false
}
