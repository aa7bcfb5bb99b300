package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/internal/omf"
	"github.com/famfs-go/famfs/internal/testutil/golden"
	"github.com/google/uuid"
)

func fsckTextOf(t *testing.T, r *famfs.FsckReport, human, verbose bool) string {
	t.Helper()
	var b bytes.Buffer
	if err := writeFsckText(&b, r, human, verbose); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func scenarios(t *testing.T) []*golden.Scenario {
	t.Helper()
	dir, err := golden.Locate()
	if err != nil {
		t.Fatal(err)
	}
	names, err := golden.Names(dir)
	if err != nil || len(names) == 0 {
		t.Fatalf("golden scenarios in %s: %v %v", dir, names, err)
	}
	var out []*golden.Scenario
	for _, n := range names {
		s, err := golden.Load(dir, n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// The text `famfs fsck` prints of each image the reference wrote is the
// reference's own fsck output, byte for byte: as the master ("Owner", the
// reference's word) and as a client, plain, verbose (with our one
// deliberate difference) and, right after mkfs, human-readable.
func TestFsckTextMatchesReference(t *testing.T) {
	for _, s := range scenarios(t) {
		t.Run(s.Name, func(t *testing.T) {
			dev := filepath.Join(t.TempDir(), "dax0.0")
			if err := os.WriteFile(dev, s.Image, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(dev, int64(s.DevSize)); err != nil {
				t.Fatal(err)
			}
			r, err := famfs.Fsck(dev, famfs.FsckOptions{SystemUUID: s.SystemUUID})
			if err != nil {
				t.Fatal(err)
			}
			devPath := r.Superblock.DevPath
			if got, want := fsckTextOf(t, r, false, false), golden.ExpandDev(s.FsckOutput, devPath); got != want {
				t.Errorf("fsck text differs from the reference's:\n%s", lineDiff(got, want))
			}
			if got, want := fsckTextOf(t, r, false, true), wantVerbose(t, s, devPath); got != want {
				t.Errorf("verbose fsck text differs from the reference's:\n%s", lineDiff(got, want))
			}
			if s.EntriesInUse == 0 {
				want, err := s.MkfsFsckText()
				if err != nil {
					t.Fatal(err)
				}
				if got := fsckTextOf(t, r, true, false); got != golden.ExpandDev(want, devPath) {
					t.Errorf("human fsck text differs from mkfs's:\n%s", lineDiff(got, golden.ExpandDev(want, devPath)))
				}
			}
			rc, err := famfs.Fsck(dev, famfs.FsckOptions{SystemUUID: uuid.MustParse("0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b")})
			if err != nil {
				t.Fatal(err)
			}
			want := strings.Replace(golden.ExpandDev(s.FsckOutput, devPath), "role of this node: Owner\n", "role of this node: Client\n", 1)
			if got := fsckTextOf(t, rc, false, false); got != want {
				t.Errorf("client fsck text:\n%s", lineDiff(got, want))
			}
		})
	}
}

// Our mkfs, given the reference's identities, is summarised by the same
// human-readable text as the reference's mkfs printed.
func TestMkfsSummaryMatchesReference(t *testing.T) {
	for _, s := range scenarios(t) {
		t.Run(s.Name, func(t *testing.T) {
			dev := filepath.Join(t.TempDir(), "dax0.0")
			if _, err := famfs.Mkfs(dev, famfs.MkfsOptions{Size: s.DevSize, SystemUUID: s.SystemUUID, UUID: s.FSUUID, DevUUID: s.DevUUID, DevPath: s.DevicePath}); err != nil {
				t.Fatal(err)
			}
			want, err := s.MkfsFsckText()
			if err != nil {
				t.Fatal(err)
			}
			r, err := famfs.Fsck(dev, famfs.FsckOptions{SystemUUID: s.SystemUUID})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := fsckTextOf(t, r, true, false), golden.ExpandDev(want, s.DevicePath); got != want {
				t.Errorf("human fsck after mkfs differs from the reference mkfs's summary:\n%s", lineDiff(got, want))
			}
		})
	}
}

// TestFsckTextProblems covers what the golden images cannot: the collision
// form of the reference's report and our Problems section.
func TestFsckTextProblems(t *testing.T) {
	master := uuid.MustParse("6a5a5a5a-5a5a-4a5a-8a5a-5a5a5a5a5a5a")
	newFS := func() (*famfs.FS, string) {
		dev := filepath.Join(t.TempDir(), "dev")
		if _, err := famfs.Mkfs(dev, famfs.MkfsOptions{Size: 4 << 30, SystemUUID: master}); err != nil {
			t.Fatal(err)
		}
		f, err := famfs.Open(dev, famfs.OpenOptions{SystemUUID: master})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f, dev
	}
	m, dev := newFS()
	if _, err := m.Create("a", famfs.CreateOptions{Size: 3 << 20, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	// A file cross-linked with "a", as the reference's `famfs clone` logs.
	if _, err := m.Create("clone", famfs.CreateOptions{CloneOf: "a"}); err != nil {
		t.Fatal(err)
	}
	r, err := famfs.Fsck(dev, famfs.FsckOptions{SystemUUID: master})
	if err != nil {
		t.Fatal(err)
	}
	text := fsckTextOf(t, r, false, false)
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

	// A clean file system has no Problems section, and the human form
	// prints sizes in GiB with the reference's single-precision rounding.
	m2, dev2 := newFS()
	if _, err := m2.Create("f", famfs.CreateOptions{Size: 1 << 30, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	r2, err := famfs.Fsck(dev2, famfs.FsckOptions{SystemUUID: master})
	if err != nil {
		t.Fatal(err)
	}
	text = fsckTextOf(t, r2, true, false)
	want := "Capacity:\n  Device capacity:        4.00G\n  Bitmap capacity:        4.00G\n  Sum of file sizes:      1.00G\n" +
		"  Allocated space:        1.01G\n  Free space:             2.99G\n  Space amplification:     1.01\n  Percent used:            25.2%\n\n"
	if !strings.Contains(text, want) || strings.Contains(text, "Problems:") {
		t.Errorf("human report:\n%s\nwant it to contain:\n%s", text, want)
	}

	// Without a superblock the report says why.
	bad := &famfs.FsckReport{Role: "Invalid superblock", SuperblockErr: "no valid famfs superblock"}
	if got := fsckTextOf(t, bad, false, false); got != "Famfs Superblock:\n  role of this node: Invalid superblock\n  ERROR: no valid famfs superblock\n\n" {
		t.Errorf("invalid superblock report %q", got)
	}
}

// wantVerbose is the reference's verbose fsck output with its one deliberate
// difference applied: the usable log size counts every entry slot.
func wantVerbose(t *testing.T, s *golden.Scenario, dev string) string {
	t.Helper()
	text := golden.ExpandDev(s.FsckVerboseOutput, dev)
	const label = "\n  usable log size:   "
	i := strings.Index(text, label)
	if i < 0 {
		t.Fatal("reference verbose output has no usable log size")
	}
	j := i + len(label) + strings.IndexByte(text[i+len(label):], '\n')
	ref, err := strconv.ParseUint(text[i+len(label):j], 10, 64)
	last := omf.LastIndexFor(s.LogLen)
	if err != nil || ref != omf.EntryOffset(last) {
		t.Fatalf("reference usable log size %q, expected its off-by-one value %d", text[i+len(label):j], omf.EntryOffset(last))
	}
	return text[:i+len(label)] + strconv.FormatUint(omf.EntryOffset(last+1), 10) + text[j:]
}

// lineDiff shows the first differing line of two texts.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for k := 0; k < max(len(g), len(w)); k++ {
		var gl, wl string
		if k < len(g) {
			gl = g[k]
		}
		if k < len(w) {
			wl = w[k]
		}
		if gl != wl || k >= len(g) || k >= len(w) {
			return fmt.Sprintf("line %d:\n got %q\nwant %q\n--- got:\n%s--- want:\n%s", k+1, gl, wl, got, want)
		}
	}
	return "(equal)"
}
