package famfs

import (
	"bytes"
	"strings"
	"testing"

	"github.com/famfs-go/famfs/omf"
)

func reportText(t *testing.T, r *FsckReport, human, verbose bool) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteText(&b, human, verbose); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestReportTextProblems covers what the golden images cannot: the
// collision form of the reference's report and our Problems section.
func TestReportTextProblems(t *testing.T) {
	m, dev := newFS(t)
	a, err := m.Create("a", CreateOptions{Size: 3 << 20, Mode: 0o644})
	if err != nil {
		t.Fatal(err)
	}
	// Log a file cross-linked with "a", as the reference's `famfs clone` does.
	err = m.Update(func(tx *Tx) error {
		m.mu.Lock()
		defer m.mu.Unlock()
		err := m.appendLocked([]omf.Entry{{Type: omf.EntryFile, Size: 1 << 20, Flags: omf.FileFlagsAllHostsRW, Mode: 0o644, Path: "clone", FMap: a.Info().FMap}}, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Fsck(dev, masterID)
	if err != nil {
		t.Fatal(err)
	}
	text := reportText(t, r, false, false)
	for _, want := range []string{
		"  Log size (total bytes)    8388608\nERROR: 2 ALLOCATION COLLISIONS FOUND\nFamfs log:\n",
		"  2 of 15420 entries used\n  0 bad log entries detected\n  2 files\n  0 directories\n\nProblems:\n  log entry 1 (clone): allocation collision: ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Capacity:") || !strings.HasSuffix(text, "\n\n") {
		t.Errorf("collision report:\n%s", text)
	}

	// A refused entry (here a logged .meta at the root) is a bad entry and
	// a problem, not a file.
	m3, dev3 := newFS(t)
	if _, err := m3.Create("a", CreateOptions{Size: 1, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	err = m3.Update(func(tx *Tx) error {
		m3.mu.Lock()
		defer m3.mu.Unlock()
		return m3.appendLocked([]omf.Entry{{Type: omf.EntryFile, Size: 1, Flags: omf.FileFlagsAllHostsRW, Mode: 0o644, Path: ".meta",
			FMap: omf.FMap{Type: omf.ExtSimple, Extents: []omf.Extent{{Offset: 100 << 21, Len: 1 << 21}}}}}, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	r3, err := Fsck(dev3, masterID)
	if err != nil {
		t.Fatal(err)
	}
	text = reportText(t, r3, false, false)
	if want := "  2 of 15420 entries used\n  1 bad log entries detected\n  1 files\n  0 directories\n\nProblems:\n  log entry 1 (.meta): reserved name: "; !strings.Contains(text, want) || r3.Clean() {
		t.Errorf("report lacks %q:\n%s", want, text)
	}

	// A clean file system has no Problems section, and the human form
	// prints sizes in GiB with the reference's single-precision rounding.
	m2, dev2 := newFS(t)
	if _, err := m2.Create("f", CreateOptions{Size: 1 << 30, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	r2, err := Fsck(dev2, masterID)
	if err != nil {
		t.Fatal(err)
	}
	text = reportText(t, r2, true, false)
	want := "Capacity:\n  Device capacity:        4.00G\n  Bitmap capacity:        4.00G\n  Sum of file sizes:      1.00G\n" +
		"  Allocated space:        1.01G\n  Free space:             2.99G\n  Space amplification:     1.01\n  Percent used:            25.2%\n\n"
	if !strings.Contains(text, want) || strings.Contains(text, "Problems:") {
		t.Errorf("human report:\n%s\nwant it to contain:\n%s", text, want)
	}

	// Without a superblock the report says why.
	bad := &FsckReport{Role: "Invalid superblock", SuperblockErr: "no valid famfs superblock"}
	if got := reportText(t, bad, false, false); got != "Famfs Superblock:\n  role of this node: Invalid superblock\n  ERROR: no valid famfs superblock\n\n" {
		t.Errorf("invalid superblock report %q", got)
	}
}
