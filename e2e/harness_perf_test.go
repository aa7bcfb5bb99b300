package e2e

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// famfs bench --harness runs the reference's perf tests 001–007 and prints
// their lines (with the tmpfs baseline and the ratio after each); small
// knobs keep it short.
func TestPerfHarness(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("the harness mounts: it needs root")
	}
	cmd := exec.Command(famfsBin, "bench", "--harness")
	cmd.Env = append(os.Environ(), "MAX_FILES=100", "MMAP_SIZE_GB=1", "MMAP_RAND_SECS=1", "MMAP_IO_SIZES=4K,1M", "MMAP_SEED=7")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("famfs bench --harness: %v\n%s", err, out)
	}
	s := string(out)
	for _, want := range []string{
		`CREATE_2M, elapsed_sec=[0-9.]+, rc=0, tmpfs_sec=[0-9.]+, ratio=[0-9.]+x`,
		`CREATE_100_FILES, elapsed_sec=[0-9.]+, rc=0,`,
		`003: skipped: 1000 files is above MAX_FILES=100`,
		`CREATE_100_FILES_MAX, elapsed_sec=`,
		`OPENCLOSE, files=100, elapsed_sec=[0-9.]+, avg_ms=[0-9.]+, rc=0,`,
		`MMAP_BEGIN, .*seed=7`,
		`MMAP_SEQ_WRITE, bs=4K, throughput=[0-9.]+ MiB/s, iops=[0-9]+, elapsed_sec=[0-9.]+, rc=0, tmpfs_throughput=`,
		`MMAP_SEQ_READ, bs=1M, `, `MMAP_RAND_WRITE, bs=4K, `, `MMAP_RAND_READ, bs=1M, `,
		`MMAP_END, `,
	} {
		if !regexp.MustCompile(want).MatchString(s) {
			t.Errorf("no line matching %q in:\n%s", want, s)
		}
	}
	if strings.Contains(s, "rc=1") {
		t.Errorf("a step failed:\n%s", s)
	}
}
