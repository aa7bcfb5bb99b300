package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// famfs cp, items 92-107 (docs/design.md, "Reference CLI behaviours this
// implementation keeps").
func TestRefCp(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	m := c.mount(masterID)
	local := filepath.Join(c.dir, "local")

	expect(t, 0, masterID, "cp", "-h") // #92
	// #93: a famfs file copied inside famfs verifies with the source's seed.
	expect(t, 0, masterID, "creat", "-r", "-s", "8m", "-S", "7", m+"/src")
	expect(t, 0, masterID, "cp", "-vvv", m+"/src", m+"/dst")
	expect(t, 0, masterID, "verify", "-S", "7", "-f", m+"/dst")
	toolOK(t, "cmp", m+"/src", m+"/dst")
	expect(t, 16, masterID, "cp", "--gid=-1") // #94
	expect(t, 16, masterID, "cp", "--uid=-1")
	expect(t, 16, masterID, "cp", "--uid=-1", m+"/src", m+"/neg")
	// #95: ten copies into a subdirectory.
	expect(t, 0, masterID, "mkdir", m+"/subdir")
	var ten []string
	for i := 0; i < 10; i++ {
		d := fmt.Sprintf("%s/subdir/f%d", m, i)
		expect(t, 0, masterID, "cp", m+"/src", d)
		ten = append(ten, "-m", d+",7")
	}
	dropCaches()
	expect(t, 0, masterID, append([]string{"verify"}, ten...)...)
	// #96: restart over the same size; another size is refused.
	expect(t, 0, masterID, "cp", m+"/src", m+"/subdir/f0")
	expect(t, 0, masterID, "verify", "-S", "7", "-f", m+"/subdir/f0")
	other := filepath.Join(local, "other")
	writeFile(t, other, 5000)
	expect(t, 1, masterID, "cp", other, m+"/subdir/f0")
	expect(t, 0, masterID, "verify", "-S", "7", "-f", m+"/subdir/f0")
	// #97, #106: missing, char-device and empty sources.
	expect(t, 1, masterID, "cp", filepath.Join(c.dir, "nonexistent_file"), m+"/")
	expect(t, 1, masterID, "cp", "/dev/zero", m+"/")
	empty := filepath.Join(local, "emptyfile")
	os.WriteFile(empty, nil, 0o644)
	expect(t, 1, masterID, "cp", empty, m+"/emptyfile2")
	for _, n := range []string{"zero", "nonexistent_file", "emptyfile2"} {
		if _, err := os.Stat(m + "/" + n); err == nil {
			t.Errorf("a refused cp left %s", n)
		}
	}
	// #98: FILE DIR makes DIR/basename.
	expect(t, 0, masterID, "cp", other, m+"/subdir")
	sameFile(t, other, m+"/subdir/other")
	// #99: mode, uid, gid over a wildcard into a deep directory.
	expect(t, 0, masterID, "mkdir", "-p", m+"/a/b/c/deep")
	srcs, _ := filepath.Glob(m + "/subdir/f*")
	expect(t, 0, masterID, append(append([]string{"cp", "-m", "600", "-u", "1234", "-g", "5678"}, srcs...), m+"/a/b/c/deep")...)
	checkIDs := func(when string) {
		for i := 0; i < 10; i++ {
			p := fmt.Sprintf("%s/a/b/c/deep/f%d", m, i)
			if mode, uid, gid := statIDs(t, p); mode != 0o600 || uid != 1234 || gid != 5678 {
				t.Errorf("%s: %s is %o %d:%d", when, p, mode, uid, gid)
			}
		}
	}
	checkIDs("copied")
	expect(t, 0, masterID, "verify", "-S", "7", "-f", m+"/a/b/c/deep/f3")
	expectWith(t, runOpts{dir: m + "/a/b"}, 0, masterID, "verify", "-S", "7", "-f", "c/deep/f4")
	// #100: a wildcard (expanded here, and one the shell did not expand)
	// into a directory. With a directory among the sources and no -r the
	// reference fails but copies every regular file; ours fails and copies
	// nothing (a copy that cannot complete logs nothing: README,
	// "Differences from the reference").
	for i := 0; i < 4; i++ {
		writeFile(t, filepath.Join(local, "wild", fmt.Sprintf("w%d", i)), 3000+i*4096)
	}
	os.MkdirAll(filepath.Join(local, "wild", "subdir"), 0o755)
	writeFile(t, filepath.Join(local, "wild", "subdir", "inner"), 100)
	expect(t, 0, masterID, "mkdir", m+"/wild1", m+"/wild2", m+"/wild3")
	files, _ := filepath.Glob(filepath.Join(local, "wild", "w*"))
	expect(t, 0, masterID, append(append([]string{"cp"}, files...), m+"/wild1")...)
	expect(t, 0, masterID, "cp", filepath.Join(local, "wild", "w*"), m+"/wild2") // unexpanded glob
	all, _ := filepath.Glob(filepath.Join(local, "wild", "*"))
	expect(t, 1, masterID, append(append([]string{"cp"}, all...), m+"/wild3")...)
	for i := 0; i < 4; i++ {
		n := fmt.Sprintf("w%d", i)
		for _, d := range []string{"wild1", "wild2"} {
			sameFile(t, filepath.Join(local, "wild", n), filepath.Join(m, d, n))
		}
		if _, err := os.Stat(filepath.Join(m, "wild3", n)); err == nil {
			t.Errorf("a failed cp copied %s", n)
		}
	}
	if _, err := os.Stat(m + "/wild3/subdir"); err == nil {
		t.Error("a directory was copied without -r")
	}
	// #101: a directory onto a file, several sources onto a file.
	expect(t, 1, masterID, "cp", "-r", filepath.Join(local, "wild"), m+"/src")
	expect(t, 1, masterID, append(append([]string{"cp"}, files...), m+"/src")...)
	expect(t, 1, masterID, append(append([]string{"cp"}, files...), m+"/newname")...)
	expect(t, 0, masterID, "verify", "-S", "7", "-f", m+"/src")
	// #102: -r of a wildcard into a directory, compare mode, diff -r; after
	// one page of one copy is overwritten both report the difference.
	tree := filepath.Join(local, "tree")
	for _, n := range []string{"a1", "a2", "d1/b1", "d1/b2", "d1/d2/c1", "d3/e1"} {
		writeFile(t, filepath.Join(tree, n), 9000+len(n)*4099)
	}
	expect(t, 0, masterID, "mkdir", m+"/dir2")
	treeAll, _ := filepath.Glob(tree + "/*")
	expect(t, 0, masterID, append(append([]string{"cp", "-rv"}, treeAll...), m+"/dir2")...)
	expect(t, 0, masterID, append(append([]string{"cp", "-c", "-rv"}, treeAll...), m+"/dir2")...)
	toolOK(t, "diff", "-r", tree, m+"/dir2")
	toolOK(t, "dd", "if=/dev/zero", "of="+m+"/dir2/d1/d2/c1", "bs=4096", "count=1", "conv=notrunc")
	toolFails(t, "diff", "-r", tree, m+"/dir2")
	r := expect(t, 1, masterID, append(append([]string{"cp", "-c", "-r"}, treeAll...), m+"/dir2")...)
	if !strings.Contains(r.stderr, "d1/d2/c1") {
		t.Errorf("cp -c does not name the differing file: %s", r.stderr)
	}
	expect(t, 0, masterID, "cp", "-c", tree+"/a1", m+"/dir2/a1")
	// #103: -r of a deep tree to a new name, absolute and relative.
	expect(t, 0, masterID, "cp", "-r", tree, m+"/A-prime")
	toolOK(t, "diff", "-r", tree, m+"/A-prime")
	expectWith(t, runOpts{dir: m}, 0, masterID, "cp", "-r", "A-prime", "A-second")
	toolOK(t, "diff", "-r", tree, m+"/A-second")
	expectWith(t, runOpts{dir: local}, 0, masterID, "cp", "-r", "tree", m+"/A-third")
	toolOK(t, "diff", "-r", tree, m+"/A-third")
	// #104: missing parent, onto a file, under a file.
	expect(t, 1, masterID, "cp", "-r", tree, m+"/bar/foo")
	expect(t, 1, masterID, "cp", "-r", tree, m+"/src")
	expect(t, 1, masterID, "cp", "-r", tree, m+"/src/foo")
	expect(t, 1, masterID, "cp", other, m+"/bar/foo")
	if _, err := os.Stat(m + "/bar"); err == nil {
		t.Error("cp made a missing parent")
	}
	// #105: everything of a deep directory into the mount root.
	deep, _ := filepath.Glob(m + "/a/b/c/deep/*")
	expect(t, 0, masterID, append(append([]string{"cp"}, deep...), m)...)
	expect(t, 0, masterID, "verify", "-S", "7", "-f", m+"/f9")
	// #107: the destination spelled MPT, MPT/ and MPT/.
	for i, d := range []string{m, m + "/", m + "/."} {
		src := filepath.Join(local, "root", fmt.Sprintf("r%d", i))
		writeFile(t, src, 12345+i)
		expect(t, 0, masterID, "cp", src, d)
		sameFile(t, src, fmt.Sprintf("%s/r%d", m, i))
	}
	// A destination that can only be a directory must be one for a file;
	// -r of a directory makes it.
	for _, d := range []string{"/nodir/", "/nodir/.", "/subdir/other/"} {
		expect(t, 1, masterID, "cp", other, m+d)
	}
	expect(t, 0, masterID, "cp", "-r", tree, m+"/newtree/")
	toolOK(t, "diff", "-r", tree, m+"/newtree")
	// Copies never land on the mount's .meta.
	expect(t, 1, masterID, "cp", other, m+"/.meta")
	expect(t, 1, masterID, "cp", other, m+"/.meta/")
	expect(t, 1, masterID, "cp", other, m+"/.meta/x")
	expect(t, 0, masterID, "fsck", m)

	c.remount(masterID)
	checkIDs("after remount") // #99
	dropCaches()
	expect(t, 0, masterID, append([]string{"verify"}, ten...)...) // #95
	toolOK(t, "diff", "-r", tree, m+"/A-prime")
}
