package bench

import "os"

// TB is the part of testing.TB the device helpers need (so this package does
// not link the testing package into the famfs binary).
type TB interface {
	Helper()
	Fatal(args ...any)
	Cleanup(func())
	TempDir() string
}

// TestDir is where Go benchmarks keep device files: $FAMFS_BENCH_DIR, else
// /dev/shm, else a temporary directory.
func TestDir(tb TB) string {
	if d := os.Getenv("FAMFS_BENCH_DIR"); d != "" {
		return d
	}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		return "/dev/shm"
	}
	return tb.TempDir()
}

// TestDevice names a device file in TestDir that does not exist yet (Mkfs
// creates it with its size) and is removed when the benchmark ends.
func TestDevice(tb TB) string {
	tb.Helper()
	f, err := os.CreateTemp(TestDir(tb), "famfs-bench-*.img")
	if err != nil {
		tb.Fatal(err)
	}
	f.Close()
	os.Remove(f.Name())
	tb.Cleanup(func() { os.Remove(f.Name()) })
	return f.Name()
}
