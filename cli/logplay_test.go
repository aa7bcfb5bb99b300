package cli

import (
	"fmt"
	"strings"
	"testing"

	famfs "github.com/famfs-go/famfs"
)

// countingWriter counts the writes made to it.
type countingWriter struct {
	strings.Builder
	writes int
}

func (w *countingWriter) Write(b []byte) (int, error) {
	w.writes++
	return w.Builder.Write(b)
}

// logplay -n summarizes, -n -v lists every entry, and either writes its
// output in a few large writes, not one per entry.
func TestLogplayDryRunBuffered(t *testing.T) {
	dev := newDevice(t)
	fsys, err := famfs.Open(dev, famfs.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	err = fsys.Batch(func(b *famfs.Batch) error {
		for i := range n {
			if _, err := b.Create(fmt.Sprintf("f%04d", i), famfs.CreateOptions{Size: 1, Mode: 0o644}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	fsys.Close()
	for _, verbose := range []bool{false, true} {
		out := &countingWriter{}
		args := []string{"famfs", "logplay", "-n", dev}
		if verbose {
			args = []string{"famfs", "logplay", "-n", "-v", dev}
		}
		if code := run(args, &env{stdout: out, stderr: out}); code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, out.String())
		}
		listed := strings.Count(out.String(), "__famfs_logplay: ")
		if verbose && listed != n || !verbose && listed != 0 {
			t.Errorf("%v listed %d entries:\n%.500s", args, listed, out.String())
		}
		if !strings.Contains(out.String(), fmt.Sprintf("famfs logplay: %d log entries; %d files; 0 directories; 0 problems\n", n, n)) {
			t.Errorf("%v: no summary:\n%.500s", args, out.String())
		}
		if out.writes > 4 {
			t.Errorf("%v: %d writes for %d entries", args, out.writes, n)
		}
	}
}
