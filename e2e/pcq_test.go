package e2e

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// statusFile reads a pcq status file's number.
func statusFile(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatalf("status file %q: %v", b, err)
	}
	return v
}

// The reference smoke test's pcq cases (docs/pcq.md, "What the smoke test
// checks"), run through the pcq personality and as famfs pcq.
func TestPcqSmoke(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	os.Chmod(c.dir, 0o755) // the unprivileged runs reach the mount, not the device
	// The smoke test runs its queues as their non-root owner, who maps them
	// through grants (the mount trusts its group with the device).
	m := c.mount(masterID, "-o", "zerocopy_group="+groupName(t, 65534))
	sd := filepath.Join(c.dir, "status.d")
	os.Mkdir(sd, 0o777)
	os.Chmod(sd, 0o777)
	sf := filepath.Join(sd, "status")
	// 1. Bad combinations.
	for _, bad := range [][]string{
		{"pcq", "--info", "--create", "-b", "1k", "-n", "8", m + "/q0"},
		{"pcq", "--drain", "--producer", m + "/q0"},
		{"pcq", "-p", "--time", "10", "--nmessages", "100", m + "/q0"},
		{"pcq", "--create", m + "/q0"},
		{"pcq", "--create", "-D", "-v", "--bsize", "1024", "--nbuckets", "1024"},
		{"pcq", "--setperm", "x", m + "/q0"},
		{"pcq", "-p", "-u", "0", m + "/q0"},
	} {
		if r := run(t, masterID, bad...); r.code != 16 {
			t.Errorf("%v: %v", bad, r)
		}
	}
	if r := run(t, masterID, "pcq", "-?"); r.code != 0 || !strings.Contains(r.stdout, "producer") {
		t.Errorf("pcq -?: %v", r)
	}
	// 2. Five queues, -u/-g by name.
	for i, g := range [][2]string{{"1024", "1024"}, {"64", "1K"}, {"64K", "512"}, {"512K", "1k"}, {"256K", "256"}} {
		args := []string{"pcq", "--create", "-u", "nobody", "-g", "nogroup", "-v", "--bsize", g[0], "--nbuckets", g[1], m + "/q" + strconv.Itoa(i)}
		if i == 0 {
			args = append(args[:2], append([]string{"-D"}, args[2:]...)...)
		}
		must(t, masterID, args...)
		for _, f := range []string{"/q", "/q"} {
			var st syscall.Stat_t
			path := m + f + strconv.Itoa(i)
			if err := syscall.Stat(path, &st); err != nil || st.Uid != 65534 {
				t.Errorf("%s: uid %d, %v", path, st.Uid, err)
			}
			if err := syscall.Stat(path+".consumer", &st); err != nil || st.Uid != 65534 || st.Size != 2<<20 {
				t.Errorf("%s.consumer: uid %d, size %d, %v", path, st.Uid, st.Size, err)
			}
		}
	}
	if r := run(t, masterID, "pcq", "--create", "-b", "64", "-n", "8", m+"/q1"); r.code != 1 || !strings.Contains(r.stderr, "exists") {
		t.Errorf("a queue made twice: %v", r)
	}
	q := m + "/q1"
	// 3. setperm, checked as the files' non-root owner.
	nobody := runOpts{nobody: true, bin: c.nobodyBin()}
	for _, sp := range []struct {
		mode     string
		prodOK   bool
		consOK   bool
		pm, cmod os.FileMode
	}{
		{"p", true, false, 0o644, 0o444}, {"c", false, true, 0o444, 0o644}, {"n", false, false, 0o444, 0o444}, {"b", true, true, 0o644, 0o644},
	} {
		if r := runWith(t, nobody, masterID, "pcq", "--setperm", sp.mode, q); r.code != 0 {
			t.Fatalf("setperm %s: %v", sp.mode, r)
		}
		pi, _ := os.Stat(q)
		ci, _ := os.Stat(q + ".consumer")
		if pi.Mode().Perm() != sp.pm || ci.Mode().Perm() != sp.cmod {
			t.Errorf("setperm %s: modes %o %o", sp.mode, pi.Mode().Perm(), ci.Mode().Perm())
		}
		r := runWith(t, nobody, masterID, "pcq", "-p", "-N", "1", q)
		if (r.code == 0) != sp.prodOK {
			t.Errorf("setperm %s: producer %v", sp.mode, r)
		}
		r = runWith(t, nobody, masterID, "pcq", "-d", q)
		if (r.code == 0) != sp.consOK {
			t.Errorf("setperm %s: drain %v", sp.mode, r)
		}
		if r := runWith(t, nobody, masterID, "pcq", "--info", "-v", q); r.code != 0 {
			t.Errorf("setperm %s: info %v", sp.mode, r)
		}
	}
	// 4.–5. info and drain of an empty queue; 128 in, 64 out, 64 drained.
	r := runWith(t, nobody, masterID, "pcq", "-i", "-f", sf, q)
	if r.code != 0 || !strings.Contains(r.stdout, "get_queue_info: queue "+q+" contains 0 messages p next_seq 2 c next_seq 2") || statusFile(t, sf) != 0 {
		t.Errorf("info of the empty queue (the setperm runs sent and drained 2): %v; status file %d", r, statusFile(t, sf))
	}
	for _, step := range []struct {
		args []string
		want int64
	}{
		{[]string{"--producer", "-v", "-N", "128"}, 128},
		{[]string{"--consumer", "-N", "64", "-v"}, 64},
		{[]string{"--drain", "-v"}, 64},
	} {
		args := append(append([]string{"pcq"}, step.args...), "--statusfile", sf, q)
		if r := runWith(t, nobody, masterID, args...); r.code != 0 {
			t.Fatalf("%v: %v", step.args, r)
		}
		if v := statusFile(t, sf); v != step.want {
			t.Errorf("%v: status file %d, want %d", step.args, v, step.want)
		}
	}
	// 6. Both sides in one process.
	r = must(t, masterID, "pcq", "-pc", "--seed", "43", "-N", "1000", "--statusfile", sf, m+"/q2")
	if statusFile(t, sf) != 2000 || !strings.Contains(r.stdout, "pcq consumer: nreceived=1000 nerrors=0") {
		t.Errorf("-pc --seed 43: %v", r)
	}
	r = must(t, masterID, "pcq", "-pc", "-s", "1", "-N", "10000", "--statusfile", sf, m+"/q3")
	if statusFile(t, sf) != 20000 {
		t.Errorf("-pc -N 10000: %v", r)
	}
	// 7. A timed run, then info, drain, info.
	r = must(t, masterID, "pcq", "-pc", "-s", "0.2", "--time", "1", m+"/q4")
	if !strings.Contains(r.stdout, "prod(nsent=") || !strings.Contains(r.stdout, "pcq producer: nsent=") {
		t.Errorf("timed run: %v", r)
	}
	must(t, masterID, "pcq", "--info", "-v", m+"/q4")
	must(t, masterID, "pcq", "--drain", m+"/q4")
	if r := must(t, masterID, "pcq", "--info", m+"/q4"); !strings.Contains(r.stdout, "contains 0 messages") {
		t.Errorf("info after the drain: %v", r)
	}
	// -D runs too (coherent memory here).
	must(t, masterID, "pcq", "-pc", "-D", "-N", "100", m+"/q0")
	// 8. The log replays with the queues in it.
	must(t, masterID, "logplay", "-n", c.dev)
}

// A Go producer on the master and a Go consumer on a client host, separate
// processes with different system UUIDs, pass 100,000 seeded messages; a
// consumer killed mid-stream is restarted and the stream goes on where it
// stopped, in order.
func TestPcqAcrossHosts(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	m := c.mount(masterID)
	c1 := c.mount(client1ID, "-o", "rw")
	must(t, masterID, "pcq", "-C", "-b", "4k", "-n", "64", m+"/q")
	waitSeen(t, c1+"/q.consumer")
	const n = 100000
	prod := exec.Command(famfsBin, "pcq", "-p", "-S", "9", "-N", strconv.Itoa(n), m+"/q")
	prod.Env = append(os.Environ(), "FAMFS_SYSTEM_UUID="+masterID)
	var pout strings.Builder
	prod.Stdout, prod.Stderr = &pout, &pout
	if err := prod.Start(); err != nil {
		t.Fatal(err)
	}
	defer prod.Process.Kill()
	// The first consumer dies by SIGKILL after some messages.
	cons := exec.Command(famfsBin, "pcq", "-c", "-S", "9", "-N", strconv.Itoa(n), c1+"/q")
	cons.Env = append(os.Environ(), "FAMFS_SYSTEM_UUID="+client1ID)
	if err := cons.Start(); err != nil {
		t.Fatal(err)
	}
	consumed := func() uint64 {
		b := make([]byte, 8)
		f, err := os.Open(m + "/q.consumer")
		if err != nil {
			return 0
		}
		defer f.Close()
		f.ReadAt(b, 1048592)
		return binary.LittleEndian.Uint64(b)
	}
	eventually(t, 20*time.Second, "the first consumer under way", func() bool { return consumed() > 5000 })
	cons.Process.Kill()
	cons.Wait()
	done := consumed()
	if done >= n {
		t.Fatalf("the first consumer finished before it was killed (%d)", done)
	}
	sf := filepath.Join(c.dir, "status")
	r := must(t, client1ID, "pcq", "-c", "-S", "9", "-N", strconv.FormatUint(n-done, 10), "--statusfile", sf, c1+"/q")
	if !strings.Contains(r.stdout, "nerrors=0") || statusFile(t, sf) != int64(n-done) {
		t.Errorf("the restarted consumer: %v", r)
	}
	if err := prod.Wait(); err != nil {
		t.Fatalf("producer: %v\n%s", err, pout.String())
	}
	if !strings.Contains(pout.String(), "pcq producer: nsent=100000 nerrors=0") {
		t.Errorf("producer said:\n%s", pout.String())
	}
	t.Logf("the first consumer took %d messages, the second %d", done, n-done)
}

// A queue file that is not a queue is refused with a clear error, never a
// crash: a bad magic, indexes out of range, a bucket size that is not a
// power of two.
func TestPcqCorrupt(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	m := c.mount(masterID)
	sf := filepath.Join(c.dir, "status")
	for _, tc := range []struct {
		name, file string
		off        int64
		val        uint64
		want       string
	}{
		{"magic", "", 0, 0x12345678, "producer magic"},
		{"consumer-magic", ".consumer", 0, 1, "consumer magic"},
		{"bsize", "", 16, 100, "not a power of two"},
		{"pindex", "", 32, 1 << 40, "producer index"},
		{"cindex", ".consumer", 8, 99, "consumer index"},
	} {
		q := m + "/" + tc.name
		must(t, masterID, "pcq", "-C", "-b", "64", "-n", "16", q)
		f, err := os.OpenFile(q+tc.file, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 8)
		binary.LittleEndian.PutUint64(b, tc.val)
		if _, err := f.WriteAt(b, tc.off); err != nil {
			t.Fatal(err)
		}
		f.Close()
		for _, op := range [][]string{{"-i", "-f", sf}, {"-p", "-N", "1"}, {"-c", "-N", "1"}, {"-d"}} {
			args := append(append([]string{"pcq"}, op...), q)
			r := run(t, masterID, args...)
			if r.code != 1 || !strings.Contains(r.stderr, "not a valid pcq queue") || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("%s %v: %v", tc.name, op, r)
			}
		}
		if v := statusFile(t, sf); v != -1 {
			t.Errorf("%s: info status file %d, want -1", tc.name, v)
		}
	}
}
