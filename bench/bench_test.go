package bench

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/famfs-go/famfs/bench/internal/bare"

	famfs "github.com/famfs-go/famfs"
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
		samples := 1
		if f.ID == Reuse { // its trials, not Reps
			samples = reuseTrials / 2
		}
		if f.ID != AllFigures[i] || !(f.Value > 0) || !(f.Baseline > 0) || !(f.Ratio > 0) || math.IsInf(f.Ratio, 0) || len(f.Samples) != samples {
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

// The creation baseline must write what the library writes: the same entries
// appended one by one through the raw appender leave a log identical, byte
// for byte, to the one FS.Batch wrote.
func TestRawAppendMatchesLibrary(t *testing.T) {
	dir := testDir(t)
	lib, raw := filepath.Join(dir, "lib.img"), filepath.Join(dir, "raw.img")
	b := newCreateBatch(300)
	f, err := b.newFS(lib, false)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := b.run(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	a, err := b.newAppendLog(raw)
	if err != nil {
		t.Fatal(err)
	}
	err = a.appendEach(entries)
	a.close()
	if err != nil {
		t.Fatal(err)
	}
	logOf := func(path string) []byte {
		r, err := bare.OpenMeta(path, false)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		return bytes.Clone(r.Log())
	}
	want, got := logOf(lib), logOf(raw)
	var h famfs.LogInfo
	if err := h.UnmarshalBinary(got); err != nil {
		t.Fatalf("raw log: %v", err)
	}
	if n := len(b.Dirs) + len(entries); h.NextIndex != uint64(n) {
		t.Fatalf("raw log next_index %d, want %d", h.NextIndex, n)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for got[i] == want[i] {
			i++
		}
		where := "the header"
		if fm := famfs.Format(); uint64(i) >= fm.LogHeaderSize {
			where = fmt.Sprintf("entry slot %d", (uint64(i)-fm.LogHeaderSize)/fm.EntrySize)
		}
		t.Fatalf("logs differ first at byte %d (%s)", i, where)
	}
}

// TestMain lets the test binary be the pcq figure's child process.
func TestMain(m *testing.M) {
	if peer, code := PeerMain(); peer {
		os.Exit(code)
	}
	os.Exit(m.Run())
}
