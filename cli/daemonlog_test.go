package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The daemon log stays under its cap with one rotation, the descriptors
// follow the new file, and remove deletes both parts.
func TestDaemonLogRotates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.log")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("from an earlier daemon\n")
	if _, err := newDaemonLog(path+"x", f, nil, 1000); err == nil {
		t.Fatal("took over a log its descriptor is not")
	}
	l, err := newDaemonLog(path, f, []int{int(f.Fd())}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	line := bytes.Repeat([]byte("x"), 99)
	for i := range 50 {
		fmt.Fprintf(l, "%02d %s\n", i, line[:96])
	}
	cur, _ := os.ReadFile(path)
	old, _ := os.ReadFile(path + ".1")
	if len(cur) > 1000 || len(old) > 1000 || len(old) < 900 {
		t.Fatalf("log %d bytes, rotated %d bytes", len(cur), len(old))
	}
	if !strings.HasSuffix(string(cur), "49 "+string(line[:96])+"\n") {
		t.Fatalf("the last line is not in the current log:\n%s", cur)
	}
	// Raw writes to the descriptor (the runtime's crash report) land in the
	// current file too.
	f.WriteString("raw\n")
	if got := tailLines(path, 2); !slices.Equal(got, []string{"49 " + string(line[:96]), "raw"}) {
		t.Fatalf("tail %q", got)
	}
	l.remove()
	for _, p := range []string{path, path + ".1"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left", p)
		}
	}
	var none *daemonLog
	none.remove()
}

func TestTailLines(t *testing.T) {
	dir := t.TempDir()
	if got := tailLines(filepath.Join(dir, "missing"), 3); got != nil {
		t.Fatal(got)
	}
	p := filepath.Join(dir, "big")
	var b strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	os.WriteFile(p, []byte(b.String()), 0o644)
	if got := tailLines(p, 3); !slices.Equal(got, []string{"line 19997", "line 19998", "line 19999"}) {
		t.Fatal(got)
	}
	os.WriteFile(p, []byte("one\ntwo"), 0o644)
	if got := tailLines(p, 3); !slices.Equal(got, []string{"one", "two"}) {
		t.Fatal(got)
	}
}
