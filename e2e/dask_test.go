package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/famfs-go/famfs/mount"

	"github.com/famfs-go/famfs/internal/mounts"
)

// The Dask example (examples/dask), small variant: a Dask scheduler and
// three worker hosts per variant (each its own process, FAMFS_SYSTEM_UUID
// and data root) run a filter and group-by over a data set held three ways:
// per-host tmpfs copies, famfs client mounts, famfs mounts with the preload.
// The answers are checked here against the query computed in Go from the
// source .npy files, and under the preload every worker's mapping of every
// column must be the device.

// daskPython is Debian's python3 with numpy, pandas and distributed.
func daskPython(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import numpy, pandas, distributed").CombinedOutput(); err != nil {
		missingTool(t, "%s with numpy, pandas and distributed is needed (.ci/run installs python3-numpy, python3-pandas and python3-distributed): %v\n%s", py, err, out)
	}
	return py
}

// daskOut is what bench.py --json writes (the parts the test reads).
type daskOut struct {
	Rows      int64 `json:"rows"`
	Allocated int64 `json:"data_allocated"`
	Workers   int   `json:"workers"`
	Variants  []daskVariant
	Reference daskAnswer `json:"reference"`
}

type daskVariant struct {
	Variant    string
	Device     string
	Copies     string
	Roots      map[string]string
	RunsSecs   []float64 `json:"runs_secs"`
	Answer     daskAnswer
	PageCache  int64 `json:"page_cache_bytes"`
	Stored     int64 `json:"stored_bytes"`
	Hosts      map[string]struct{ Tasks int }
	Maps       daskMaps
	ReleaseMem struct{ Shmem int64 } `json:"release_meminfo"`
}

type daskMaps struct {
	OK      bool
	Workers map[string]struct {
		PID     int
		Root    string
		Columns map[string]struct{ Line, Path string }
	}
}

type daskAnswer struct {
	Key      []int64   `json:"key"`
	N        []int64   `json:"n"`
	SumPrice []float64 `json:"sum_price"`
	MinPrice []float64 `json:"min_price"`
	MaxPrice []float64 `json:"max_price"`
	SumQty   []int64   `json:"sum_qty"`
}

func TestDaskExample(t *testing.T) {
	t.Parallel()
	py := daskPython(t)
	preloadLib(t) // beside famfsBin, where famfs run finds it
	// The scratch directory is a tmpfs (/dev/shm): the source data set, the
	// per-host copies, the huge-page tmpfs of the device and every mount
	// live under it, so the cleanup below finds everything.
	dir := scratchDir(t, "famfs-e2e-dask-")
	t.Cleanup(func() { daskCleanup(t, dir) })

	out := filepath.Join(dir, "out.json")
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "../examples/dask/bench.py", "--famfs", famfsBin, "--scratch", dir,
		"--copies-dir", filepath.Join(dir, "copies"), "--size", "4MiB", "--workers", "3", "--runs", "1",
		"--timeout", "90", "--check-maps", "--json", out, "--keep")
	// On the deadline, SIGTERM lets the driver clean up; SIGKILL a minute later.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := os.MkdirAll(filepath.Join(dir, "copies"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := cmd.Run()
	logs := func() string { return daskLogs(dir) }
	if err != nil {
		t.Fatalf("bench.py: %v\nstdout:\n%s\nstderr:\n%s\n%s", err, stdout.String(), stderr.String(), logs())
	}
	t.Logf("bench.py:\n%s", stdout.String())

	var o daskOut
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatalf("%s: %v", out, err)
	}

	// The answer, computed here from the source columns.
	want := daskQuery(t, filepath.Join(dir, "source", "sales"))
	if len(want.Key) == 0 || o.Rows < 100_000 {
		t.Fatalf("a trivial data set: %d rows, %d keys in the answer", o.Rows, len(want.Key))
	}
	if err := sameAnswer(want, o.Reference); err != nil {
		t.Errorf("pandas' local computation differs from Go's: %v", err)
	}
	got := map[string]daskVariant{}
	for _, v := range o.Variants {
		got[v.Variant] = v
	}
	for _, name := range []string{"copies", "mount", "preload"} {
		v, ok := got[name]
		if !ok {
			t.Fatalf("no %s variant in %s", name, out)
		}
		if err := sameAnswer(want, v.Answer); err != nil {
			t.Errorf("%s: the distributed answer differs from the local one: %v", name, err)
		}
		if len(v.RunsSecs) != 2 {
			t.Errorf("%s: %d runs, want 2", name, len(v.RunsSecs))
		}
		// Three worker hosts, each its own process and data root, each ran tasks.
		pids, roots := map[int]bool{}, map[string]bool{}
		for h, w := range v.Maps.Workers {
			pids[w.PID], roots[w.Root] = true, true
			if v.Hosts[h].Tasks == 0 {
				t.Errorf("%s: worker host %s ran no task", name, h)
			}
		}
		if len(pids) != 3 || len(roots) != 3 || len(v.Roots) != 3 {
			t.Errorf("%s: want 3 worker hosts with their own processes and data roots, got pids %v roots %v", name, pids, roots)
		}
	}

	// The mappings behind the columns, from each worker's /proc/<pid>/maps.
	dev := got["preload"].Device
	if dev == "" || dev != got["mount"].Device || !strings.HasPrefix(dev, dir+"/hp/") {
		t.Fatalf("the famfs variants' device %q (mount: %q): want one device file on the huge-page tmpfs under %s", dev, got["mount"].Device, dir)
	}
	for _, name := range []string{"copies", "mount", "preload"} {
		v := got[name]
		for h, w := range v.Maps.Workers {
			if len(w.Columns) != 4 {
				t.Errorf("%s %s: %d columns mapped, want 4", name, h, len(w.Columns))
			}
			for c, m := range w.Columns {
				file := filepath.Join(w.Root, "sales", c+".npy")
				fields := strings.Fields(m.Line)
				if len(fields) < 6 || fields[len(fields)-1] != m.Path {
					t.Errorf("%s %s %s: maps line %q does not name %q", name, h, c, m.Line, m.Path)
				}
				switch name {
				case "preload": // the device itself, never the FUSE file nor a copy
					if m.Path != dev {
						t.Errorf("preload: %s (pid %d) maps %s from %q, want the device %s\n%s", h, w.PID, c, m.Path, dev, m.Line)
					}
					if !strings.Contains(fields[1], "s") {
						t.Errorf("preload: %s maps %s privately: %s", h, c, m.Line)
					}
				case "mount": // the file on this host's own mount
					if m.Path != file || !strings.HasPrefix(w.Root, dir+"/hosts/") {
						t.Errorf("mount: %s maps %s from %q, want %s", h, c, m.Path, file)
					}
				case "copies": // this host's own copy
					if m.Path != file || !strings.HasPrefix(w.Root, dir+"/copies/") {
						t.Errorf("copies: %s maps %s from %q, want %s", h, c, m.Path, file)
					}
				}
			}
		}
		if !v.Maps.OK {
			t.Errorf("%s: bench.py reports wrong mappings", name)
		}
	}
	// No page-cache copy under the preload: the client mounts (cache=keep,
	// which keeps what is read through them) hold nothing of the data.
	if pc := got["preload"].PageCache; pc != 0 {
		t.Errorf("preload: the client mounts' page cache holds %d bytes of the data set", pc)
	}
	// One stored copy in famfs (each file rounded up to 2 MiB), one per
	// host for the baseline.
	if c, f, one := got["copies"].Stored, got["preload"].Stored, o.Allocated; one <= 0 || c < 3*one || f < one || f > one+4*(2<<20) {
		t.Errorf("stored: copies %d bytes, famfs %d bytes, the data set %d bytes: want three copies against one", c, f, one)
	}

	// bench.py cleaned up after itself: no mount, no process left.
	if ms := mountsUnder(dir); len(ms) != 0 {
		t.Errorf("bench.py left mounts: %v", ms)
	}
	for _, p := range daskPids(dir) {
		if syscall.Kill(p.pid, 0) == nil && strings.Contains(cmdline(p.pid), dir) {
			t.Errorf("bench.py left process %d (%s) running", p.pid, p.name)
		}
	}
}

// daskQuery computes the example's query (famfs_dask.py) from the .npy
// columns in d: rows with 90 <= day < 181 and qty >= 10, grouped by key:
// count, sum, min and max of price, sum of qty.
func daskQuery(t *testing.T, d string) daskAnswer {
	t.Helper()
	key := npyColumn(t, filepath.Join(d, "key.npy"), "<i8")
	price := npyColumn(t, filepath.Join(d, "price.npy"), "<f8")
	qty := npyColumn(t, filepath.Join(d, "qty.npy"), "<i4")
	day := npyColumn(t, filepath.Join(d, "day.npy"), "<i4")
	n := len(key) / 8
	if len(price) != 8*n || len(qty) != 4*n || len(day) != 4*n {
		t.Fatalf("the columns have different lengths")
	}
	type acc struct {
		n, sq        int64
		sp, min, max float64
	}
	groups := map[int64]*acc{}
	for i := 0; i < n; i++ {
		dy := int32(binary.LittleEndian.Uint32(day[4*i:]))
		q := int32(binary.LittleEndian.Uint32(qty[4*i:]))
		if dy < 90 || dy >= 181 || q < 10 {
			continue
		}
		k := int64(binary.LittleEndian.Uint64(key[8*i:]))
		p := math.Float64frombits(binary.LittleEndian.Uint64(price[8*i:]))
		g := groups[k]
		if g == nil {
			g = &acc{min: math.Inf(1), max: math.Inf(-1)}
			groups[k] = g
		}
		g.n++
		g.sq += int64(q)
		g.sp += p
		g.min = math.Min(g.min, p)
		g.max = math.Max(g.max, p)
	}
	var a daskAnswer
	for k := range groups {
		a.Key = append(a.Key, k)
	}
	sort.Slice(a.Key, func(i, j int) bool { return a.Key[i] < a.Key[j] })
	for _, k := range a.Key {
		g := groups[k]
		a.N, a.SumPrice, a.MinPrice, a.MaxPrice, a.SumQty = append(a.N, g.n), append(a.SumPrice, g.sp),
			append(a.MinPrice, g.min), append(a.MaxPrice, g.max), append(a.SumQty, g.sq)
	}
	return a
}

// sameAnswer compares two answers exactly (the example's prices make every
// sum exact in float64, whatever the order of the additions).
func sameAnswer(want, got daskAnswer) error {
	if len(got.Key) != len(want.Key) {
		return fmt.Errorf("%d keys, want %d", len(got.Key), len(want.Key))
	}
	for i := range want.Key {
		if len(got.N) <= i || len(got.SumPrice) <= i || len(got.MinPrice) <= i || len(got.MaxPrice) <= i || len(got.SumQty) <= i {
			return fmt.Errorf("the answer's columns are short")
		}
		if got.Key[i] != want.Key[i] || got.N[i] != want.N[i] || got.SumPrice[i] != want.SumPrice[i] ||
			got.MinPrice[i] != want.MinPrice[i] || got.MaxPrice[i] != want.MaxPrice[i] || got.SumQty[i] != want.SumQty[i] {
			return fmt.Errorf("key %d: got n=%d sum=%v min=%v max=%v qty=%d, want key %d n=%d sum=%v min=%v max=%v qty=%d",
				got.Key[i], got.N[i], got.SumPrice[i], got.MinPrice[i], got.MaxPrice[i], got.SumQty[i],
				want.Key[i], want.N[i], want.SumPrice[i], want.MinPrice[i], want.MaxPrice[i], want.SumQty[i])
		}
	}
	return nil
}

var npyHeader = regexp.MustCompile(`'descr':\s*'([^']+)',\s*'fortran_order':\s*False,\s*'shape':\s*\((\d+),\)`)

// npyColumn returns the data of a one-dimensional .npy file of type descr.
func npyColumn(t *testing.T, path, descr string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		t.Fatalf("%s: not a .npy file", path)
	}
	var hlen, start int
	switch b[6] {
	case 1:
		hlen, start = int(binary.LittleEndian.Uint16(b[8:])), 10
	case 2, 3:
		hlen, start = int(binary.LittleEndian.Uint32(b[8:])), 12
	default:
		t.Fatalf("%s: .npy version %d", path, b[6])
	}
	if start+hlen > len(b) {
		t.Fatalf("%s: short header", path)
	}
	m := npyHeader.FindStringSubmatch(string(b[start : start+hlen]))
	if m == nil || m[1] != descr {
		t.Fatalf("%s: header %q, want a one-dimensional %s array", path, b[start:start+hlen], descr)
	}
	n, _ := strconv.Atoi(m[2])
	size, _ := strconv.Atoi(descr[2:])
	data := b[start+hlen:]
	if len(data) != n*size {
		t.Fatalf("%s: %d data bytes for %d values of %s", path, len(data), n, descr)
	}
	return data
}

type daskPid struct {
	pid  int
	name string
}

// daskPids reads the pids bench.py started (its pid file).
func daskPids(dir string) []daskPid {
	b, _ := os.ReadFile(filepath.Join(dir, "pids"))
	var out []daskPid
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 2 {
			if p, err := strconv.Atoi(f[0]); err == nil && p > 0 {
				out = append(out, daskPid{p, f[1]})
			}
		}
	}
	return out
}

func cmdline(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return string(bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
}

// mountsUnder lists the mount points at or below dir (any type), deepest first.
func mountsUnder(dir string) []string {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 {
			p := strings.ReplaceAll(f[4], `\040`, " ")
			if p == dir || strings.HasPrefix(p, dir+"/") {
				out = append(out, p)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// daskLogs returns the tail of every log bench.py kept (for a failure).
func daskLogs(dir string) string {
	var sb strings.Builder
	logs, _ := filepath.Glob(filepath.Join(dir, "logs", "*.log"))
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) > 15 {
			lines = lines[len(lines)-15:]
		}
		fmt.Fprintf(&sb, "--- %s:\n%s\n", filepath.Base(l), strings.Join(lines, "\n"))
	}
	return sb.String()
}

// daskCleanup ends whatever bench.py left (it cleans up itself unless it
// was killed): its processes (only those whose command line names the
// scratch directory: a pid may have been reused), the famfs mounts under
// the scratch directory and their daemons, the huge-page tmpfs; then the
// directory goes.
func daskCleanup(t *testing.T, dir string) {
	for _, p := range daskPids(dir) {
		if strings.Contains(cmdline(p.pid), dir) {
			syscall.Kill(-p.pid, syscall.SIGKILL) // its session (bench.py starts each in its own)
			syscall.Kill(p.pid, syscall.SIGKILL)
		}
	}
	famfsMounts := map[string]bool{}
	if ms, err := mounts.Famfs(); err == nil {
		for _, m := range ms {
			famfsMounts[m.Point] = true
		}
	}
	for _, mpt := range mountsUnder(dir) {
		pid := 0
		if famfsMounts[mpt] {
			if st, err := mount.NewClient(mpt).Status(); err == nil {
				pid = st.PID
			}
		}
		if err := syscall.Unmount(mpt, 0); err != nil {
			syscall.Unmount(mpt, syscall.MNT_DETACH)
		}
		if pid > 0 {
			waitExit(pid, 5*time.Second)
			syscall.Kill(pid, syscall.SIGKILL)
		}
		if famfsMounts[mpt] {
			mount.RemoveSockets(mpt)
			os.Remove(mount.LogPath(mpt))
		}
	}
	if left := mountsUnder(dir); len(left) > 0 {
		t.Errorf("still mounted after the cleanup: %v", left)
	}
	os.RemoveAll(dir)
}
