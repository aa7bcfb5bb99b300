package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	famfs "github.com/famfs-go/famfs"
	"github.com/google/uuid"
)

// famfs logplay, items 121-123 (docs/design.md, "Reference CLI behaviours
// this implementation keeps"): on a mount it makes the daemon replay; -n
// lists the log; -r/-m exclude each other.
func TestRefLogplay(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	m := c.mount(masterID)
	expect(t, 0, masterID, "logplay", m)        // #121: empty fs
	expect(t, 0, masterID, "logplay", "-h")     // #121
	expect(t, 0, masterID, "logplay", "-rc", m) // #122
	expect(t, 16, masterID, "logplay", "-rm", m)
	expect(t, 16, masterID, "logplay")
	expect(t, 0, masterID, "mkdir", "-p", m+"/d/e")
	expect(t, 0, masterID, "creat", "-s", "2m", "-r", "-S", "4", m+"/d/e/f")
	for _, flags := range [][]string{{"-m"}, {"-vr"}, {"-vvv"}, {"-c"}, {"-r"}} { // #123: no-ops
		expect(t, 0, masterID, append(append([]string{"logplay"}, flags...), m)...)
		expect(t, 0, masterID, append(append([]string{"logplay"}, flags...), m+"/d")...)
	}
	r := expect(t, 0, masterID, "logplay", "-n", m) // #123: dry run
	if !strings.Contains(r.stdout, "3 log entries; 1 files; 2 directories; 0 problems") {
		t.Errorf("logplay -n does not summarize the log:\n%s", r.stdout)
	}
	r = expect(t, 0, masterID, "logplay", "-n", "-v", m) // the listing, as the reference's -v
	if !strings.Contains(r.stdout, "__famfs_logplay: 2 file=d/e/f size=2097152") {
		t.Errorf("logplay -n -v does not list the file:\n%s", r.stdout)
	}
	expect(t, 0, masterID, "logplay", "-n", "-v", c.dev)
	expect(t, 0, masterID, "logplay", c.dev) // a device is listed
	expect(t, 1, masterID, "logplay", filepath.Join(c.dir, "nothere"))
	expect(t, 1, masterID, "logplay", "/etc/passwd")

	// On a client that does not poll, logplay is what brings new entries in.
	c1 := c.mount(client1ID, "-o", "poll=1h")
	if _, err := os.Stat(c1 + "/d/e/f"); err != nil {
		t.Fatalf("mount did not replay: %v", err)
	}
	fsys, err := famfs.Open(c.dev, famfs.OpenOptions{SystemUUID: uuid.MustParse(masterID)})
	if err != nil {
		t.Fatal(err)
	}
	if err := fsys.Mkdir("late", famfs.MkdirOptions{Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	fsys.Close()
	if _, err := os.Stat(c1 + "/late"); err == nil {
		t.Log("the client saw the entry before logplay (kernel lookup raced the test)")
	}
	r = expect(t, 0, client1ID, "logplay", "-vvv", c1)
	if _, err := os.Stat(c1 + "/late"); err != nil {
		t.Errorf("logplay did not replay: %v\n%s", err, r.stdout)
	}
	expect(t, 0, client1ID, "logplay", "-rc", c1)
	expect(t, 0, client1ID, "verify", "-S", "4", "-f", c1+"/d/e/f")
}

// The small tools (docs/design.md, "Reference CLI behaviours this
// implementation keeps"): mkmeta (#139), check (the portable part of #142),
// getmap (#144, emulated from the log), clone (#145-147, see also
// TestRefFsck), flush (#149-150), chkread (#152).
func TestRefSmallTools(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	m := c.mount(masterID)
	expect(t, 0, masterID, "mkdir", "-m", "600", m+"/private")
	expect(t, 0, masterID, "mkdir", "-p", m+"/d/e")
	expect(t, 0, masterID, "creat", "-s", "3m", "-r", "-S", "3", m+"/d/e/f")
	expect(t, 0, masterID, "creat", "-s", "20m", "-N", "3", "-B", "8", m+"/striped")

	// #139 mkmeta: a no-op that must succeed on a device that exists.
	expect(t, 16, masterID, "mkmeta")
	expect(t, 0, masterID, "mkmeta", "-h")
	expect(t, 0, masterID, "mkmeta", "-?")
	expect(t, 1, masterID, "mkmeta", "/tmp/nonexistent-famfs-e2e")
	expect(t, 0, masterID, "mkmeta", c.dev)
	expect(t, 0, masterID, "mkmeta", c.dev)

	// #142 check (the reference's is v1 only).
	expect(t, 16, masterID, "check")
	expect(t, 0, masterID, "check", "-?")
	expect(t, 0, masterID, "check", m)
	expect(t, 0, masterID, "check", "-v", m)
	expectWith(t, runOpts{dir: c.dir}, 1, masterID, "check", "relpath")
	expect(t, 1, masterID, "check", "/badpath")
	expect(t, 1, masterID, "check", m+"/d") // not the mount point
	expectWith(t, runOpts{nobody: true, bin: c.nobodyBin()}, 1, masterID, "check", m)

	// #144 getmap: 0 mapped, 1 not famfs, 9 missing, 21 not a regular file.
	expect(t, 0, masterID, "getmap", "-h")
	expect(t, 16, masterID, "getmap")
	expectWith(t, runOpts{dir: c.dir}, 1, masterID, "getmap", "badfile")
	expectWith(t, runOpts{dir: c.dir}, 1, masterID, "getmap", "-c", "badfile")
	expect(t, 1, masterID, "getmap", "/etc/passwd")
	r := expect(t, 0, masterID, "getmap", m+"/.meta/.log")
	if !strings.Contains(r.stdout, "200000\t8388608") {
		t.Errorf("getmap .meta/.log:\n%s", r.stdout)
	}
	r = expect(t, 0, masterID, "getmap", "-q", m+"/.meta/.log")
	if strings.Contains(r.stdout, "extents") || !strings.Contains(r.stdout, "good file") {
		t.Errorf("getmap -q:\n%s", r.stdout)
	}
	expect(t, 0, masterID, "getmap", m+"/.meta/.superblock")
	expect(t, 9, masterID, "getmap", m+"/nothere")
	expect(t, 21, masterID, "getmap", m+"/d")
	expectWith(t, runOpts{dir: m}, 0, masterID, "getmap", "d/e/f")
	expect(t, 0, masterID, "getmap", m+"/d/e/f", m+"/striped")
	r = expect(t, 9, masterID, "getmap", "-c", m+"/nothere", m+"/d/e/f")
	if !strings.Contains(r.stdout, "good file "+m+"/d/e/f") {
		t.Errorf("getmap -c did not go on:\n%s", r.stdout)
	}
	r = expect(t, 0, masterID, "getmap", m+"/striped")
	if !strings.Contains(r.stdout, "Interleaved extent has 3 strips") {
		t.Errorf("getmap of a striped file:\n%s", r.stdout)
	}

	// #149, #150 flush: the exit code counts the errors.
	expect(t, 0, masterID, "flush", "-?")
	expect(t, 16, masterID, "flush")
	expect(t, 1, masterID, "flush", "/bogus/file")
	var files, all []string
	filepath.Walk(m, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			t.Error(err)
			return nil
		}
		all = append(all, p)
		if info.Mode().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 4 || len(all) != 9 { // .meta/{.superblock,.log}, f, striped; m, .meta, private, d, d/e
		t.Fatalf("walked %d files, %d paths: %v", len(files), len(all), all)
	}
	expect(t, 0, masterID, append([]string{"flush"}, files...)...)
	expect(t, 0, masterID, append([]string{"flush", "-v"}, files...)...)
	expect(t, len(all)-len(files), masterID, append([]string{"flush", "-vv"}, all...)...)
	expect(t, 0, masterID, "flush", "/etc/passwd") // any regular file

	// #152 chkread: read() and mmap() agree.
	expect(t, 0, masterID, "chkread", "-l", m+"/.meta/.log")
	expect(t, 0, masterID, "chkread", "-s", m+"/.meta/.superblock")
	expect(t, 0, masterID, "chkread", "-?")
	expect(t, 16, masterID, "chkread")
	expect(t, 1, masterID, "chkread", "-s", m+"/badfilexx")
	expect(t, 0, masterID, "chkread", m+"/d/e/f")
	expect(t, 0, masterID, "verify", "-S", "3", "-f", m+"/d/e/f")
}
