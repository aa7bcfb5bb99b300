package bench

import (
	"encoding/binary"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/famfs-go/famfs/omf"
)

func testDir(t *testing.T) string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		d, err := os.MkdirTemp("/dev/shm", "famfs-bench-test-")
		if err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}

func TestLogEntriesShape(t *testing.T) {
	for _, n := range []int{1, 5, 100, 15420} {
		es := LogEntries(n, omf.LogOffset+omf.DefaultLogLen)
		if len(es) != n {
			t.Fatalf("n=%d: %d entries", n, len(es))
		}
		seen := map[string]omf.EntryType{"": omf.EntryMkdir}
		var files, dirs int
		for i, e := range es {
			if err := omf.CheckRelPath(e.Path, true); err != nil {
				t.Fatalf("n=%d entry %d: %v", n, i, err)
			}
			if _, dup := seen[e.Path]; dup {
				t.Fatalf("n=%d: %q twice", n, e.Path)
			}
			parent := ""
			if k := strings.LastIndexByte(e.Path, '/'); k >= 0 {
				parent = e.Path[:k]
			}
			if seen[parent] != omf.EntryMkdir {
				t.Fatalf("n=%d: %q before its directory", n, e.Path)
			}
			seen[e.Path] = e.Type
			if e.Type == omf.EntryFile {
				if err := e.FMap.Validate(e.Size, 64<<30, omf.AllocUnit); err != nil {
					t.Fatal(err)
				}
				files++
			} else {
				dirs++
			}
		}
		if n == 15420 && (dirs != 420 || files != 15000) {
			t.Fatalf("full log: %d dirs, %d files", dirs, files)
		}
	}
}

func TestSumWords(t *testing.T) {
	b := make([]byte, 8*37+5)
	var want uint64
	for i := 0; i+8 <= len(b); i += 8 {
		v := uint64(i)*0x9E3779B97F4A7C15 + 3
		binary.LittleEndian.PutUint64(b[i:], v)
		want += v
	}
	if got := sumWords(b); got != want {
		t.Fatalf("got %#x want %#x", got, want)
	}
	if sumWords(b[:7]) != 0 {
		t.Fatal("partial word counted")
	}
}

// Run end to end with small sizes: every figure is measured and printed.
// No timing is asserted (this machine's times are noise); only that the
// numbers exist and are consistent.
func TestRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("makes several file systems")
	}
	r, err := Run(Options{Dir: testDir(t), Reps: 1, Files: 300, MapSize: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Figures) != len(AllFigures) {
		t.Fatalf("%d figures", len(r.Figures))
	}
	for i, f := range r.Figures {
		if f.ID != AllFigures[i] || !(f.Value > 0) || !(f.Baseline > 0) || !(f.Ratio > 0) || math.IsInf(f.Ratio, 0) || len(f.Samples) != 1 {
			t.Errorf("%+v", f)
		}
	}
	if n := r.Figures[0].Name; n != "log replay (15420 entries)" {
		t.Errorf("replay figure %q", n)
	}
	var out, details strings.Builder
	if err := Print(&out, r); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != len(AllFigures)+1 {
		t.Fatalf("printed:\n%s", out.String())
	}
	for i, f := range r.Figures {
		if !strings.HasPrefix(lines[i], f.Name) || !strings.Contains(lines[i], "ratio ") || !strings.Contains(lines[i], "target "+f.Target) {
			t.Errorf("line %q", lines[i])
		}
	}
	PrintDetails(&details, r)
	if !strings.Contains(details.String(), "samples") {
		t.Errorf("details:\n%s", details.String())
	}
	t.Logf("\n%s", details.String())
	if _, err := Run(Options{Dir: testDir(t), Only: []string{"nonsense"}}); err == nil {
		t.Fatal("unknown figure accepted")
	}
}

// Only: [None] measures no library figure but still describes the
// environment (famfs bench --only mount).
func TestRunNone(t *testing.T) {
	r, err := Run(Options{Dir: t.TempDir(), Only: []string{None}})
	if err != nil || len(r.Figures) != 0 || r.GoVersion == "" || r.CPUs == 0 {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := Run(Options{Dir: t.TempDir(), Only: []string{"bogus"}}); err == nil {
		t.Fatal("unknown figure accepted")
	}
}
