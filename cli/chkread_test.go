package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/famfs-go/famfs/internal/omf"
)

// chkread -s and -l say what the bytes hold and whether they are valid, and
// still compare read() with mmap(): a damaged superblock or log header is
// reported, field named, and the exit status is the comparison's.
func TestChkread(t *testing.T) {
	dev := newDevice(t)
	f, err := os.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	meta := make([]byte, omf.LogOffset+omf.DefaultLogLen)
	_, err = f.ReadAt(meta, 0)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sb, lg := filepath.Join(dir, "superblock"), filepath.Join(dir, "log")
	write := func(p string, b []byte) {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(sb, meta[:omf.SuperblockRegion])
	write(lg, meta[omf.LogOffset:])
	for _, c := range []struct {
		flag, path string
		want       []string
	}{
		{"-s", sb, []string{"superblock: format 2.2 log 0x200000+0x800000", "superblock is valid", "Read and mmap match"}},
		{"-l", lg, []string{"log: len 8388608 last_index 15419 next_index 0 of 15420 slots", "log header is valid", "Read and mmap match"}},
	} {
		if code, out, errs := runCLI("famfs", "chkread", c.flag, c.path); code != 0 || !containsAll(out, c.want) {
			t.Errorf("chkread %s: exit %d\n%s%s", c.flag, code, out, errs)
		}
	}
	meta[8] += 5          // ts_version 53
	meta[omf.LogOffset]++ // the log's magic
	write(sb, meta[:omf.SuperblockRegion])
	write(lg, meta[omf.LogOffset:])
	for _, c := range []struct {
		flag, path string
		want       []string
	}{
		{"-s", sb, []string{"superblock is invalid: no valid famfs superblock: superblock: ts_version", "Read and mmap match"}},
		{"-l", lg, []string{"log: len 8388608", "log header is invalid: damaged log entry: log header: famfs_log_magic", "Read and mmap match"}},
	} {
		if code, out, errs := runCLI("famfs", "chkread", c.flag, c.path); code != 0 || !containsAll(out, c.want) {
			t.Errorf("chkread %s of damaged bytes: exit %d\n%s%s", c.flag, code, out, errs)
		}
	}
}

func containsAll(s string, subs []string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
