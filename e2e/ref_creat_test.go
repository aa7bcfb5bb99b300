package e2e

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

func fileSize(t *testing.T, p string) int64 {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Errorf("%v", err)
		return -1
	}
	return st.Size()
}

// famfs creat, items 59-77 and 81-82 (docs/design.md, "Reference CLI
// behaviours this implementation keeps").
func TestRefCreat(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	m := c.mount(masterID)
	f := m + "/test1"

	expect(t, 0, masterID, "creat", "-h")                 // #59
	expect(t, 16, masterID, "creat")                      // #59
	expect(t, 1, masterID, "creat", "-r", "-S", "1", f)   // #60: new file, no size
	expect(t, 16, masterID, "creat", "-S", "-s", "10", f) // #61
	if _, err := os.Stat(f); err == nil {
		t.Fatal("a failed creat left the file")
	}
	expect(t, 0, masterID, "creat", "-vv", "-r", "-s", "4096", "-S", "1", f) // #62
	expect(t, 0, masterID, "verify", "-S", "1", "-f", f)
	expect(t, 1, masterID, "creat", m+"/.meta")             // #63
	expect(t, 1, masterID, "creat", "-s", "4k", m+"/.meta") // #63
	// #64: -m is the mode; nothing is left to be the file name.
	expect(t, 16, masterID, "creat", "-S", "1", "-r", "-m", m+"/zork,4K,1")
	expect(t, 16, masterID, "creat", "-t", "1000", "-m", m+"/zork,4K,1")
	expect(t, 1, masterID, "creat", "-v", "-s", "4K", "/tmp/notfamfs") // #65
	// #66: one bad --multi member fails the command. The reference still
	// makes the good one; ours makes none (creation is all or nothing:
	// README, "Differences from the reference").
	expect(t, 1, masterID, "creat", "--multi", m+"/goodfile,4k", "--multi", "/tmp/badfile,4M")
	if _, err := os.Stat(m + "/goodfile"); err == nil {
		t.Error("a failed --multi created its good member")
	}
	if _, err := os.Stat("/tmp/badfile"); err == nil {
		t.Error("creat made /tmp/badfile")
	}
	// #67: existing 4 KiB file: another size fails; no size re-randomizes.
	expect(t, 1, masterID, "creat", "-S", "1", "-r", "-s", "2048", f)
	expect(t, 0, masterID, "creat", "-S", "2", "-r", f)
	expect(t, 0, masterID, "verify", "-S", "2", "-f", f)
	expect(t, 1, masterID, "verify", "-S", "1", "-f", f)
	// #68: size mismatch through --multi; "-t -1" with a name,size string.
	expect(t, 16, masterID, "creat", "-t", "1000", "--multi", f+",2K,1")
	expect(t, 1, masterID, "creat", "-t", "0", "--multi", f+",2K,1")
	expect(t, 16, masterID, "creat", "-t", "-1", f+",2K,1")
	// #69, #70: --multi conflicts and malformed members (and no hang).
	expect(t, 16, masterID, "creat", "-S", "1", "-r", "-M", f+",22")
	expect(t, 16, masterID, "creat", "-M", f)
	expect(t, 16, masterID, "creat", "-M", f)
	expect(t, 16, masterID, "creat", "-M", f+",22,22,22")
	expect(t, 0, masterID, "verify", "-S", "2", "-f", f) // none of that touched it
	// #71: seeded and unseeded members.
	expect(t, 0, masterID, "creat", "-M", m+"/A,2M,42", "-M", m+"/B,2M")
	expect(t, 0, masterID, "verify", "-S", "42", "-f", m+"/A")
	if b, _ := os.ReadFile(m + "/B"); len(b) != 2<<20 {
		t.Errorf("B: %d bytes", len(b))
	}
	// #72: re-creating an existing file.
	expect(t, 0, masterID, "creat", "-r", "-s", "4096", "-S", "99", f)
	expect(t, 0, masterID, "verify", "-S", "99", "-f", f)
	expect(t, 0, masterID, "creat", "-s", "4096", f)
	expect(t, 0, masterID, "verify", "-S", "99", "-f", f) // a no-op
	expect(t, 1, masterID, "creat", "-s", "8192", f)
	expect(t, 1, masterID, "creat", "-r", "-s", "4096", "-S", "1", "/tmp/test1") // #73
	expect(t, 1, masterID, "creat", "-r", "-s", "0", "-S", "1", m+"/zero")       // #74
	if _, err := os.Stat(m + "/zero"); err == nil {
		t.Error("a zero-size creat made a file")
	}
	// #75: mode, owner and group, -r without a seed; kept over a remount.
	p := m + "/perm"
	expect(t, 0, masterID, "creat", "-s", "0x100000", "-r", "-m", "600", "-u", "1234", "-g", "5678", p)
	check := func(when string) {
		mode, uid, gid := statIDs(t, p)
		if mode != 0o600 || uid != 1234 || gid != 5678 || fileSize(t, p) != 0x100000 {
			t.Errorf("%s: %s is %o %d:%d", when, p, mode, uid, gid)
		}
		code, out := tool(t, "stat", "--format=%a %u %g %s", p)
		if code != 0 || strings.TrimSpace(out) != "600 1234 5678 1048576" {
			t.Errorf("%s: stat --format: %q", when, out)
		}
	}
	check("created")
	// #76: size forms.
	for s, n := range map[string]int64{"4096": 4096, "0x800000": 0x800000, "0x4000000": 0x4000000,
		"10000k": 10000 << 10, "100m": 100 << 20, "3g": 3 << 30, "2M": 2 << 20} {
		expect(t, 0, masterID, "creat", "-s", s, m+"/size_"+s)
		if got := fileSize(t, m+"/size_"+s); got != n {
			t.Errorf("-s %s: size %d, want %d", s, got, n)
		}
	}
	// #77: a relative path that is not inside famfs.
	expectWith(t, runOpts{dir: c.dir}, 1, masterID, "creat", "-s", "0x400000", "no_leading_slash")
	// ... but a relative path inside the mount is fine.
	expectWith(t, runOpts{dir: m}, 0, masterID, "creat", "-s", "0x400000", "leading_dot")
	expectWith(t, runOpts{dir: m + "/.meta"}, 0, masterID, "creat", "-s", "4k", "../dotdot")
	// A name that can only be a directory is no file name.
	for _, p := range []string{"/cdir/", "/cdir/.", "/A/..", "/size_3g/"} {
		expect(t, 1, masterID, "creat", "-s", "1m", m+p)
	}
	if _, err := os.Stat(m + "/cdir"); err == nil {
		t.Error("creat made a file from a name ending in /")
	}
	// #81: multi-randomize of existing files, size 0 keeps the size.
	expect(t, 0, masterID, "creat", "-t0", "-v", "-M", m+"/A,0,7", "-M", m+"/B,0,8", "-M", f+",0,9")
	expect(t, 0, masterID, "verify", "-m", m+"/A,7", "-m", m+"/B,8", "-m", f+",9")
	expect(t, 0, masterID, "creat", "-M", m+"/A,2m,10", "-M", m+"/B,0x200000,11")
	expect(t, 0, masterID, "verify", "-m", m+"/A,10", "-m", m+"/B,11")
	// #82: many 2 MiB files in a directory (the fio stress set).
	expect(t, 0, masterID, "mkdir", "-p", m+"/fio_stress")
	var multi []string
	for j := 0; j < 4; j++ {
		for i := 0; i < 8; i++ {
			multi = append(multi, "-M", fmt.Sprintf("%s/fio_stress/job%d_%d,2m", m, j, i))
		}
	}
	expect(t, 0, masterID, append([]string{"creat"}, multi...)...)
	if ents, _ := os.ReadDir(m + "/fio_stress"); len(ents) != 32 {
		t.Errorf("fio_stress holds %d files", len(ents))
	}
	expect(t, 0, masterID, "fsck", m)

	c.remount(masterID)
	check("after remount")
	expect(t, 0, masterID, "verify", "-m", m+"/A,10", "-m", m+"/B,11", "-m", f+",9")
}

// famfs creat, item 78 (docs/design.md, "Reference CLI behaviours this
// implementation keeps"): six 64 MiB seeded files verify twice, still verify
// after a remount, and differ from each other.
func TestRefCreatSeeded(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	m := c.mount(masterID)
	var multi []string
	for s := 10; s <= 15; s++ {
		name := fmt.Sprintf("%s/test%d", m, s)
		expect(t, 0, masterID, "creat", "-r", "-s", "64m", "-S", strconv.Itoa(s), name)
		expect(t, 0, masterID, "verify", "-S", strconv.Itoa(s), "-f", name)
		multi = append(multi, "-m", fmt.Sprintf("%s,%d", name, s))
	}
	expect(t, 0, masterID, append([]string{"verify"}, multi...)...)
	dropCaches()
	c.remount(masterID)
	expect(t, 0, masterID, append([]string{"verify"}, multi...)...)
	toolFails(t, "cmp", "-s", m+"/test10", m+"/test11")
	toolFails(t, "cmp", "-s", m+"/test12", m+"/test15")
}

// Items 79-81, 91 and 180 (docs/design.md, "Reference CLI behaviours this
// implementation keeps"): the stripe test, on an 8 GiB device: 8 buckets of
// 1 GiB, 7 strips of 2 MiB chunks.
func TestRefCreatStriped(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	m := c.mount(masterID)
	// #79: interleave argument validation.
	expect(t, 1, masterID, "creat", "-B", "100", "-C", "2m", "-N", "3", "-s", "2m", m+"/il")
	expect(t, 1, masterID, "creat", "-B", "10", "-C", "2000000", "-N", "3", "-s", "2m", m+"/il")
	expect(t, 1, masterID, "creat", "-B", "16", "-C", "2m", "-N", "3", "-s", "2m", m+"/il") // buckets < 1 GiB
	expect(t, 1, masterID, "creat", "-B", "4", "-C", "2m", "-N", "5", "-s", "2m", m+"/il")  // strips > buckets
	if _, err := os.Stat(m + "/il"); err == nil {
		t.Error("a refused striped creat made the file")
	}
	r := expect(t, 0, masterID, "fsck", m)
	capacity, _ := strconv.ParseUint(field(t, r.stdout, "Device capacity:", 3), 10, 64)
	nbuckets := capacity >> 30
	if nbuckets > 16 {
		nbuckets = 16
	}
	nb, ns := strconv.FormatUint(nbuckets, 10), strconv.FormatUint(nbuckets-1, 10)
	toolOK(t, "df", m)
	// #108 (the stripe test's copy phase): a 256 MiB file made with
	// -N/-B only (default chunk) copied by several threads into a striped
	// destination, which then verifies, is re-randomized with its size
	// given, and verifies again.
	expect(t, 0, masterID, "creat", "-N", ns, "-B", nb, "-s", "256m", "-r", "-S", "50", m+"/cpsrc")
	expect(t, 0, masterID, "cp", "-t", "5", "-N", ns, "-B", nb, m+"/cpsrc", m+"/cpdst")
	expect(t, 0, masterID, "verify", "-m", m+"/cpsrc,50", "-m", m+"/cpdst,50")
	expect(t, 0, masterID, "creat", "-M", m+"/cpdst,256m,51")
	expect(t, 0, masterID, "verify", "-S", "51", "-f", m+"/cpdst")
	for _, f := range []string{"/cpsrc", "/cpdst"} {
		if r := expect(t, 0, masterID, "getmap", m+f); !strings.Contains(r.stdout, "Interleave_Param chunk_size: 2097152") {
			t.Errorf("%s is not striped with 2 MiB chunks:\n%s", f, r.stdout)
		}
	}
	// #80: striped files until the device is full; the first must work and
	// the last fails cleanly (run rejects exit >= 128).
	var made []string
	for i := 0; i < 40; i++ {
		name := fmt.Sprintf("%s/striped%02d", m, i)
		size := strconv.Itoa(254<<20 + i*1237)
		r := run(t, masterID, "creat", "-C", "2M", "-N", ns, "-B", nb, "-s", size, name)
		if r.code != 0 {
			if i == 0 {
				t.Fatalf("the first striped creat failed: %v", r)
			}
			if !strings.Contains(r.stderr, "space") {
				t.Errorf("unclear out-of-space failure: %s", r.stderr)
			}
			if _, err := os.Stat(name); err == nil {
				t.Error("a failed creat left its file")
			}
			break
		}
		made = append(made, name)
	}
	t.Logf("%d striped files fit", len(made))
	if len(made) < 18 || len(made) >= 40 {
		t.Fatalf("%d striped files fit on 8 GiB", len(made))
	}
	expect(t, 0, masterID, "fsck", m)
	r = expect(t, 0, masterID, "getmap", made[0])
	if !strings.Contains(r.stdout, "Interleaved extent has "+ns+" strips") {
		t.Errorf("not striped:\n%s", r.stdout)
	}
	// #81: randomize some in one threaded multi creat (size 0 keeps it),
	// and with the matching size and the default thread pool.
	pick := []string{made[0], made[len(made)/2], made[len(made)-1]}
	args, vargs := []string{"creat", "-t0", "-v"}, []string{"verify"}
	for i, p := range pick {
		args = append(args, "-M", fmt.Sprintf("%s,0,%d", p, 42+i))
		vargs = append(vargs, "-m", fmt.Sprintf("%s,%d", p, 42+i))
	}
	expect(t, 0, masterID, args...)
	dropCaches()
	expect(t, 0, masterID, vargs...) // #91
	c.remount(masterID)
	expect(t, 0, masterID, vargs...) // #91: the interleaved maps survive replay
	expect(t, 0, masterID, "fsck", "--human", "-B", nb, m)
	sz := strconv.FormatInt(fileSize(t, made[1]), 10)
	expect(t, 0, masterID, "creat", "-M", made[1]+","+sz+",77")
	expect(t, 0, masterID, "verify", "-m", made[1]+",77")
	expect(t, 0, masterID, "fsck", m)
}
