package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/famfs-go/famfs/internal/testutil/golden"
)

// entryLines are the per-entry lines of a dry-run logplay listing (the
// reference's "log contains N entries" header and its "invalid log entry"
// after an ADD_DAXDEV entry are not entries).
func entryLines(out string) []string {
	var ls []string
	for _, l := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(l, "__famfs_logplay: ")
		if !ok {
			if strings.HasPrefix(l, "\tniext=") || strings.HasPrefix(l, "\t\tstrip: ") {
				ls = append(ls, l) // an interleaved file's strips
			}
			continue
		}
		if strings.HasPrefix(rest, "log contains ") || rest == "invalid log entry" {
			continue
		}
		ls = append(ls, l)
	}
	return ls
}

// famfs logplay -n summarizes; -n -v lists every entry exactly as the
// reference's logplay -n -v does, on the images the reference wrote.
func TestLogplayListsAsReference(t *testing.T) {
	t.Parallel()
	dir, err := golden.Locate()
	if err != nil {
		t.Fatal(err)
	}
	names, err := golden.Names(dir)
	if err != nil || len(names) == 0 {
		t.Fatalf("golden scenarios: %v %v", names, err)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			s, err := golden.Load(dir, name)
			if err != nil {
				t.Fatal(err)
			}
			dev := filepath.Join(t.TempDir(), "dev")
			if err := os.WriteFile(dev, s.Image, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(dev, int64(s.DevSize)); err != nil {
				t.Fatal(err)
			}
			want := entryLines(s.Manifest.LogplayDryrun)
			r := expect(t, 0, masterID, "logplay", "-n", "-v", dev)
			got := entryLines(r.stdout)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("logplay -n -v lists\n%s\nthe reference lists\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			r = expect(t, 0, masterID, "logplay", "-n", dev)
			if ls := entryLines(r.stdout); len(ls) > 0 || !strings.Contains(r.stdout, fmt.Sprintf("famfs logplay: %d log entries; ", s.EntriesInUse)) {
				t.Errorf("logplay -n lists entries or gives no summary:\n%s", r.stdout)
			}
		})
	}
}
