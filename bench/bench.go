// Package bench measures famfs' performance figures against baselines taken
// in the same run, on the same device files, so that the ratios mean something
// on noisy shared machines where absolute times do not:
//
//   - log replay: a full log (15,420 entries in 8 MiB: nested directories and
//     files) replayed into a fresh namespace by FS.Rescan on an open file
//     system, against a plain read plus CRC-32 of the same 8 MiB from a plain
//     mmap(2) of the device;
//   - batch creation: 10,000 files created in one FS.Batch (one hold of
//     the log lock), against 10,000 bare appends of the same entries through
//     a plain mapping of the log (encode, store, flush the entry's lines,
//     store and flush the header's counters);
//   - mapped read: a sequential read (summing 8-byte words) of a 1 GiB file
//     through File.Map, against the same loop over a raw mmap of the same
//     device bytes;
//   - memory: the heap an open file system of a full log keeps in use after
//     a GC.
//
// The subjects use the public library only; the baselines use only the format
// package omf and mmap(2), never the library's own mapping and log code.
//
// Run measures, Print reports one line per figure. Each figure and its
// baseline are measured Reps times, alternating which goes first; the ratio is
// taken between the best runs (the least disturbed by other load), and the
// median ratio of the paired runs is kept too. RunMount measures the mount
// figures. The Go benchmarks in this package's tests run the same work.
package bench

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/internal/mounts"
	"golang.org/x/sys/unix"
)

// Figure names for Options.Only.
const (
	Replay  = "replay"
	Create  = "create"
	MapRead = "map"
	Memory  = "memory"
	// None, alone in Options.Only, measures no library figure: Run only
	// describes the environment (for a run of the mount figures alone).
	None = "none"
)

// allocUnit is the format's allocation unit, which the workloads size their
// files and rings by.
var allocUnit = famfs.Format().AllocUnit

// AllFigures lists every figure in the order Run measures them.
var AllFigures = []string{Replay, Create, Zero, MapRead, Memory, Remove, Reuse, Participate, HeldRead, Queue}

// Options tune Run. The zero value measures everything with the defaults.
type Options struct {
	// Dir holds the device files (sparse regular files, removed afterwards).
	// A tmpfs mounted with huge=always gives 2 MiB page faults; /dev/shm
	// (the default) gives 4 KiB ones.
	Dir string
	// Reps is how many times each figure and its baseline are measured
	// (default 5).
	Reps int
	// LogLen is the log length of the replay and memory figures (default
	// 8 MiB: 15,420 entries). The log is filled completely.
	LogLen uint64
	// Files is the size of the creation batch (default 10,000).
	Files int
	// MapSize is the size of the mapped-read file (default 1 GiB).
	MapSize uint64
	// Only restricts the run to these figures (see AllFigures); empty means all.
	Only []string
	// Progress, if set, receives a line as each figure starts.
	Progress io.Writer
	// Binary runs the consumer side of the pcq figure in a child process:
	// a famfs binary, or this package's test binary (default: this
	// executable; see PeerMain).
	Binary string
	// CPUClock measures process CPU time (all threads, the garbage
	// collector's included) instead of wall time for the replay and creation
	// figures: steadier when other processes compete for the CPU.
	CPUClock bool
}

func (o *Options) defaults() {
	if o.Dir == "" {
		o.Dir = "/dev/shm"
	}
	if o.Reps <= 0 {
		o.Reps = 5
	}
	if o.LogLen == 0 {
		o.LogLen = famfs.Format().DefaultLogLen
	}
	if o.Files <= 0 {
		o.Files = 10000
	}
	if o.MapSize == 0 {
		o.MapSize = 1 << 30
	}
}

func (o *Options) want(fig string) bool { return len(o.Only) == 0 || slices.Contains(o.Only, fig) }

func (o *Options) progress(format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, format+"\n", args...)
	}
}

// Figure is one measured figure and its same-run baseline.
type Figure struct {
	ID   string `json:"id"`   // Replay, Create, MapRead or Memory
	Name string `json:"name"` // e.g. "log replay (15420 entries)"

	Value    float64 `json:"value"`     // best run, in Unit
	Unit     string  `json:"unit"`      // "ms", "GB/s", "MiB"
	Baseline float64 `json:"baseline"`  // best baseline run, in Unit
	BaseName string  `json:"base_name"` // what the baseline is, e.g. "read+crc"
	BaseWord string  `json:"base_word"` // how the printer introduces it, e.g. "floor"

	// Ratio compares Value with Baseline so that the target reads naturally:
	// time/baseline time for times, bandwidth/baseline bandwidth for reads,
	// heap/budget for memory.
	Ratio       float64      `json:"ratio"`
	MedianRatio float64      `json:"median_ratio,omitempty"` // median over the paired runs
	Target      string       `json:"target"`                 // e.g. "<= 4x"
	OK          bool         `json:"ok"`
	Detail      string       `json:"detail,omitempty"` // extra facts (per-entry cost, files/s, ...)
	Also        []Comparison `json:"also,omitempty"`   // the same work against other baselines

	Samples     []float64 `json:"samples"` // every run, in Unit
	BaseSamples []float64 `json:"base_samples,omitempty"`
}

// timeFigure is a figure of times in ms (lower is better) from paired
// samples: the best of each side, their ratio, the median of the paired
// ratios, and OK when the ratio is at most target (no target: a cost report,
// always OK).
func timeFigure(id, name string, sm, bm []float64, baseWord, baseName string, target float64) Figure {
	best, base := slices.Min(sm), slices.Min(bm)
	f := Figure{ID: id, Name: name, Value: best, Unit: "ms", Baseline: base, BaseWord: baseWord, BaseName: baseName,
		Ratio: best / base, MedianRatio: medianRatio(sm, bm), Target: "(cost report)", OK: true, Samples: sm, BaseSamples: bm}
	if target > 0 {
		f.Target, f.OK = fmt.Sprintf("<= %gx", target), f.Ratio <= target
	}
	return f
}

// Comparison is a further view of a figure, against another baseline.
type Comparison struct {
	Name     string  `json:"name"`
	Value    float64 `json:"value"` // in the figure's Unit
	Baseline float64 `json:"baseline"`
	Ratio    float64 `json:"ratio"`
}

// Results is what Run measured.
type Results struct {
	Dir       string   `json:"dir"`   // where the device files lived
	Pages     string   `json:"pages"` // "2 MiB (tmpfs huge=always)", "4 KiB (tmpfs)", ...
	Reps      int      `json:"reps"`
	Clock     string   `json:"clock"` // "wall" or "cpu"
	GoVersion string   `json:"go_version"`
	CPUs      int      `json:"cpus"`
	CacheOps  string   `json:"cache_ops"`
	Figures   []Figure `json:"figures"`
}

// OK reports whether every figure met its target.
func (r *Results) OK() bool {
	for _, f := range r.Figures {
		if !f.OK {
			return false
		}
	}
	return true
}

// Run measures the figures Options asks for. It stops at the first figure
// that cannot be measured (a setup failure), returning what it has so far.
func Run(o Options) (Results, error) {
	o.defaults()
	for _, f := range o.Only {
		if f != None && !slices.Contains(AllFigures, f) {
			return Results{}, fmt.Errorf("bench: unknown figure %q (have %s)", f, strings.Join(AllFigures, ", "))
		}
	}
	st, err := os.Stat(o.Dir)
	if err != nil {
		return Results{}, fmt.Errorf("bench: %w", err)
	}
	if !st.IsDir() {
		return Results{}, fmt.Errorf("bench: %s is not a directory", o.Dir)
	}
	clock := "wall"
	if o.CPUClock {
		clock = "cpu"
	}
	res := Results{Dir: o.Dir, Pages: pageSizeOf(o.Dir), Reps: o.Reps, Clock: clock, GoVersion: runtime.Version(),
		CPUs: runtime.GOMAXPROCS(0), CacheOps: famfs.CacheOps()}
	steps := []struct {
		id string
		fn func(*Options) (Figure, error)
	}{{Replay, runReplay}, {Create, runCreate}, {Zero, runZero}, {MapRead, runMapRead}, {Memory, runMemory},
		{Remove, runRemove}, {Reuse, runReuse}, {Participate, runParticipate}, {HeldRead, runHeldRead}, {Queue, runQueue}}
	for _, s := range steps {
		if !o.want(s.id) {
			continue
		}
		o.progress("bench: %s ...", s.id)
		f, err := s.fn(&o)
		if err != nil {
			return res, fmt.Errorf("bench %s: %w", s.id, err)
		}
		res.Figures = append(res.Figures, f)
	}
	return res, nil
}

// pageSizeOf describes the page faults a shared mapping of a file in dir
// gets: "2 MiB (tmpfs huge=always)" on a huge tmpfs, "4 KiB" otherwise.
func pageSizeOf(dir string) string {
	ms, err := mounts.Table()
	if err != nil {
		return "unknown"
	}
	abs, err := filepath.EvalSymlinks(dir)
	if err != nil {
		abs = dir
	}
	var best *mounts.Mount
	for i := range ms {
		m := &ms[i]
		if abs == m.Point || strings.HasPrefix(abs, strings.TrimSuffix(m.Point, "/")+"/") {
			if best == nil || len(m.Point) >= len(best.Point) {
				best = m
			}
		}
	}
	if best == nil {
		return "unknown"
	}
	small := fmt.Sprintf("%d KiB", os.Getpagesize()>>10)
	switch best.Type {
	case "tmpfs":
		opts := superOptions(best.Point)
		for _, h := range []string{"huge=always", "huge=within_size"} {
			if strings.Contains(opts, h) {
				return "2 MiB (tmpfs " + h + ")"
			}
		}
		return small + " (tmpfs)"
	case "hugetlbfs":
		return "huge (hugetlbfs)"
	}
	return small + " (" + best.Type + ")"
}

// superOptions returns the file system options /proc/mounts shows for point
// (mountinfo's per-mount options do not include tmpfs' huge=).
func superOptions(point string) string {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return ""
	}
	opts := ""
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[1] == point {
			opts = f[3] // the last mount on a point wins
		}
	}
	return opts
}

// timeIt runs fn once and returns its wall time.
func timeIt(fn func() error) (time.Duration, error) {
	runtime.GC()
	t0 := time.Now()
	err := fn()
	return time.Since(t0), err
}

// cpuTimeIt runs fn once and returns the process CPU time it took.
func cpuTimeIt(fn func() error) (time.Duration, error) {
	runtime.GC()
	t0 := cpuTime()
	err := fn()
	return cpuTime() - t0, err
}

// timer returns a measurement of fn with the clock Options ask for.
func (o *Options) timer(fn func() error) func() (time.Duration, error) {
	if o.CPUClock {
		return func() (time.Duration, error) { return cpuTimeIt(fn) }
	}
	return func() (time.Duration, error) { return timeIt(fn) }
}

// pair measures subject and baseline reps times each, alternating which runs
// first, and returns every sample (durations).
func pair(reps int, subject, baseline func() (time.Duration, error)) (s, b []time.Duration, err error) {
	for i := range reps {
		first, second := subject, baseline
		if i%2 == 1 {
			first, second = baseline, subject
		}
		d1, err := first()
		if err != nil {
			return s, b, err
		}
		d2, err := second()
		if err != nil {
			return s, b, err
		}
		if i%2 == 1 {
			d1, d2 = d2, d1
		}
		s, b = append(s, d1), append(b, d2)
	}
	return s, b, nil
}

// medianRatio is the median of s[i]/b[i].
func medianRatio(s, b []float64) float64 {
	if len(s) == 0 || len(s) != len(b) {
		return 0
	}
	r := make([]float64, len(s))
	for i := range s {
		r[i] = s[i] / b[i]
	}
	slices.Sort(r)
	if n := len(r); n%2 == 0 {
		return (r[n/2-1] + r[n/2]) / 2
	}
	return r[len(r)/2]
}

func ms(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d) / float64(time.Millisecond)
	}
	return out
}

// tempPath names a device file for one figure inside dir.
func tempPath(dir, what string) string {
	return filepath.Join(dir, fmt.Sprintf("famfs-bench-%d-%s.img", os.Getpid(), what))
}

// cpuTime is the CPU time this process has used so far (all threads: the
// garbage collector's work counts). Unlike wall time it does not grow while
// other processes have the CPU, so it is the steadier clock on a busy machine.
func cpuTime() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
