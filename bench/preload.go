package bench

// The preload figures measure unmodified programs on a client mount through
// `famfs run` (libfamfs-preload.so) against same-run baselines on the same
// huge-page device:
//
//   - the first sequential pass of Debian's python3/numpy over a 1 GiB file it
//     maps, against the same program over a raw mmap of the same device range
//     (and against the mount without the preload);
//   - dd's read() with 1 MiB blocks, against dd over a copy on the tmpfs;
//   - the client mount's page cache for the mapped file (cachestat of the
//     program's own descriptor), without and with the preload.
//
// They need the library beside the famfs binary and python3 with numpy; when
// either is missing the figures are skipped with a note.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Preload figure IDs (mount figures: they need the mounts).
const (
	PreloadMap    = "mount-preload-map"
	PreloadRead   = "mount-preload-read"
	PreloadMemory = "mount-preload-memory"
)

// preloadPass maps a range of a file read-only and times the first pass of
// a numpy reduction over it (mapping included); it then reports the pages
// the file's own page cache holds (cachestat(2) of the same descriptor).
const preloadPass = `import sys, os, mmap, time, ctypes, numpy
path, off, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fd = os.open(path, os.O_RDONLY)
t0 = time.perf_counter()
m = mmap.mmap(fd, n, prot=mmap.PROT_READ, offset=off)
mx = int(numpy.frombuffer(m, dtype=numpy.uint8).max())
t1 = time.perf_counter()
class Rng(ctypes.Structure): _fields_ = [("off", ctypes.c_uint64), ("len", ctypes.c_uint64)]
class CS(ctypes.Structure): _fields_ = [(k, ctypes.c_uint64) for k in ("cache", "dirty", "wb", "ev", "rev")]
r, cs = Rng(0, 0), CS()
cached = cs.cache if ctypes.CDLL(None).syscall(451, fd, ctypes.byref(r), ctypes.byref(cs), 0) == 0 else -1
print(t1 - t0, mx, cached)
`

// pythonWithNumpy finds Debian's python3 (or the first on PATH) with numpy.
func pythonWithNumpy() (string, error) {
	cands := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		cands = append(cands, p)
	}
	for _, p := range cands {
		if exec.Command(p, "-c", "import numpy").Run() == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no python3 with numpy (Debian: apt-get install python3-numpy)")
}

// preloadFigures measures the preload figures on a fresh device.
func (e *mountEnv) preloadFigures() ([]Figure, error) {
	py, err := pythonWithNumpy()
	if err == nil {
		if out, rerr := exec.Command(e.o.Binary, "run", "--", "true").CombinedOutput(); rerr != nil {
			err = fmt.Errorf("famfs run: %s", strings.TrimSpace(string(out)))
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "famfs bench: skipping the preload figures: %v\n", err)
		return nil, nil
	}
	e.logf("preload figures: an unmodified program through famfs run on a client mount")
	m, c, size, err := e.masterClientBig()
	if err != nil {
		return nil, err
	}
	file := c + "/big"
	devOff, err := e.singleExtent(file)
	if err != nil {
		return nil, err
	}
	base := filepath.Join(e.hp, "tmpfs.big")
	if err := copyFile(m+"/big", base); err != nil {
		return nil, err
	}
	defer os.Remove(base)

	// mmap, first pass: preload vs raw device mapping vs the mount
	type pass struct {
		secs   float64
		max    string
		cached int64
	}
	runPass := func(preload bool, path string, off int64) (pass, error) {
		args := []string{py, "-c", preloadPass, path, strconv.FormatInt(off, 10), strconv.FormatInt(size, 10)}
		if preload {
			args = append([]string{e.o.Binary, "run", "--"}, args...)
		}
		out, err := exec.Command(args[0], args[1:]...).Output()
		if err != nil {
			return pass{}, fmt.Errorf("%s: %w", strings.Join(args[:min(len(args), 4)], " "), err)
		}
		f := strings.Fields(string(out))
		if len(f) != 3 {
			return pass{}, fmt.Errorf("python printed %q", out)
		}
		var p pass
		p.secs, _ = strconv.ParseFloat(f[0], 64)
		p.max = f[1]
		p.cached, _ = strconv.ParseInt(f[2], 10, 64)
		return p, nil
	}
	var bestPre, bestRaw, bestFuse pass
	var preS, rawS []float64
	for i := 0; i < e.o.Repeat; i++ {
		order := []int{0, 1}
		if i%2 == 1 {
			order = []int{1, 0}
		}
		for _, k := range order {
			var p pass
			if k == 0 {
				p, err = runPass(true, file, 0)
			} else {
				p, err = runPass(false, e.dev, devOff)
			}
			if err != nil {
				return nil, err
			}
			gbs := float64(size) / p.secs / 1e9
			if k == 0 {
				preS = append(preS, gbs)
				if bestPre.secs == 0 || p.secs < bestPre.secs {
					bestPre = p
				}
			} else {
				rawS = append(rawS, gbs)
				if bestRaw.secs == 0 || p.secs < bestRaw.secs {
					bestRaw = p
				}
			}
		}
	}
	if bestPre.max != bestRaw.max {
		return nil, fmt.Errorf("the preload saw other bytes than the raw mapping (max %s vs %s)", bestPre.max, bestRaw.max)
	}
	for i := 0; i < min(e.o.Repeat, 2); i++ { // ~1 s a pass: two are enough
		p, err := runPass(false, file, 0)
		if err != nil {
			return nil, err
		}
		if bestFuse.secs == 0 || p.secs < bestFuse.secs {
			bestFuse = p
		}
	}
	gb := func(p pass) float64 { return float64(size) / p.secs / 1e9 }
	mapRatio := gb(bestPre) / gb(bestRaw)
	figs := []Figure{{ID: PreloadMap, Name: "preload mmap, first pass over 1 GiB (python/numpy)", Value: gb(bestPre), Unit: "GB/s",
		Baseline: gb(bestRaw), BaseName: "raw mmap of the device range", BaseWord: "vs", Ratio: mapRatio,
		MedianRatio: medianRatio(preS, rawS), Target: ">= 0.9x", OK: mapRatio >= 0.9,
		Also:    []Comparison{{Name: "vs the mount without the preload", Value: gb(bestPre), Baseline: gb(bestFuse), Ratio: gb(bestPre) / gb(bestFuse)}},
		Samples: preS, BaseSamples: rawS}}

	// read(), 1 MiB blocks: dd through the preload vs dd on tmpfs
	ddRE := regexp.MustCompile(`copied, ([0-9.e+-]+) s`)
	dd := func(preload bool, path string) (float64, error) {
		args := []string{"dd", "if=" + path, "of=/dev/null", "bs=1M"}
		if preload {
			args = append([]string{e.o.Binary, "run", "--"}, args...)
		}
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("%v: %v: %s", args, err, out)
		}
		mm := ddRE.FindStringSubmatch(string(out))
		if mm == nil {
			return 0, fmt.Errorf("dd printed %q", out)
		}
		s, _ := strconv.ParseFloat(mm[1], 64)
		if s <= 0 {
			return 0, fmt.Errorf("dd took %v s", s)
		}
		return float64(size) / s / (1 << 30), nil
	}
	var preR, tmpR []float64
	var bestPreR, bestTmpR, bestFuseR float64
	for i := 0; i < e.o.Repeat; i++ {
		order := []int{0, 1}
		if i%2 == 1 {
			order = []int{1, 0}
		}
		for _, k := range order {
			path := file
			if k == 1 {
				path = base
			}
			bw, err := dd(k == 0, path)
			if err != nil {
				return nil, err
			}
			if k == 0 {
				preR, bestPreR = append(preR, bw), max(bestPreR, bw)
			} else {
				tmpR, bestTmpR = append(tmpR, bw), max(bestTmpR, bw)
			}
		}
	}
	for i := 0; i < min(e.o.Repeat, 2); i++ {
		dropCaches()
		bw, err := dd(false, file)
		if err != nil {
			return nil, err
		}
		bestFuseR = max(bestFuseR, bw)
	}
	readRatio := bestPreR / bestTmpR
	figs = append(figs, Figure{ID: PreloadRead, Name: "preload read(), 1 MiB blocks (dd)", Value: bestPreR, Unit: "GiB/s",
		Baseline: bestTmpR, BaseName: "tmpfs read()", BaseWord: "vs", Ratio: readRatio, MedianRatio: medianRatio(preR, tmpR),
		Target: ">= 0.8x", OK: readRatio >= 0.8,
		Also:    []Comparison{{Name: "vs the mount without the preload", Value: bestPreR, Baseline: bestFuseR, Ratio: bestPreR / bestFuseR}},
		Samples: preR, BaseSamples: tmpR})

	// the client mount's page cache for the mapped file
	pageMiB := func(pages int64) float64 { return float64(pages) * float64(os.Getpagesize()) / (1 << 20) }
	if bestPre.cached < 0 || bestFuse.cached < 0 {
		e.logf("preload figures: cachestat(2) is not available: page cache not measured")
	} else {
		figs = append(figs, Figure{ID: PreloadMemory, Name: "client page cache, mapped 1 GiB file (preload)", Value: pageMiB(bestPre.cached),
			Unit: "MiB", Target: "0 bytes", OK: bestPre.cached == 0,
			Detail: fmt.Sprintf("the mount without the preload: %.0f MiB", pageMiB(bestFuse.cached))})
	}
	return figs, nil
}

// singleExtent returns the device offset of a file that is one device run
// (famfs getmap --json).
func (e *mountEnv) singleExtent(path string) (int64, error) {
	cmd := exec.Command(e.o.Binary, "getmap", "--json", path)
	cmd.Env = append(os.Environ(), "FAMFS_SYSTEM_UUID="+mbClient.String())
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("famfs getmap %s: %w", path, err)
	}
	var maps []struct {
		Segments []struct {
			DevOff int64 `json:"device_offset_bytes"`
		} `json:"segments"`
	}
	if err := json.Unmarshal(out, &maps); err != nil || len(maps) != 1 {
		return 0, fmt.Errorf("famfs getmap %s: %q", path, out)
	}
	if s := maps[0].Segments; len(s) != 1 {
		return 0, fmt.Errorf("%s: %d device runs, want 1", path, len(s))
	}
	return maps[0].Segments[0].DevOff, nil
}
