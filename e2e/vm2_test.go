package e2e

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// The two-kernel scenarios (test/vm2, README "Two kernels, one dax
// device"): two QEMU guests over one /dev/dax0.0, each with its own kernel,
// running this run's famfs and mkfs.famfs binaries and preload library.
// test/vm2/run.sh does the guest work (kernel, initramfs, QEMU); this test
// hands it the harness's builds (VM2_BIN) and reports each scenario as a
// subtest. It boots VMs for minutes, so it runs only with FAMFS_VM2=1
// (.ci/run sets it). FAMFS_VM2_SCENARIOS picks scenarios (run.sh's names,
// e.g. "1 3-rewrite"); ACCEL, VM_TIMEOUT, KPKG, KEEP, VERBOSE and MEM pass
// through to run.sh.
func TestVM2(t *testing.T) {
	if os.Getenv("FAMFS_VM2") != "1" {
		t.Skip("the two-VM scenarios (test/vm2) run only with FAMFS_VM2=1 (.ci/run sets it)")
	}
	if testing.Short() {
		t.Skip("boots QEMU guests")
	}
	needTool(t, "qemu-system-x86_64", "qemu-system-x86; `test/vm2/run.sh --install` installs what the guests need")
	if os.Getenv("ACCEL") == "" && !kvmUsable() {
		missingTool(t, "KVM is not usable here (no writable /dev/kvm, or PVM's, which runs only PVM guest kernels); ACCEL=auto or ACCEL=tcg runs the guests emulated, slowly")
	}
	// What the guests run: the harness's static builds, in a directory of
	// their own (run.sh copies it into the guests' 9p share).
	dir := t.TempDir()
	for _, b := range []string{famfsBin, mkfsBin, extraBin(t, "./test/vm2/mapcat"), extraBin(t, "./test/vm2/vmbench"), extraBin(t, "./test/vm2/vmsum")} {
		copyFile(t, b, filepath.Join(dir, filepath.Base(b)))
	}
	if _, err := exec.LookPath("gcc"); err == nil {
		copyFile(t, preloadLib(t), filepath.Join(dir, "libfamfs-preload.so"))
	} // else run.sh skips the preload steps, saying why

	cmd := exec.Command("bash", "../test/vm2/run.sh")
	cmd.Args = append(cmd.Args, strings.Fields(os.Getenv("FAMFS_VM2_SCENARIOS"))...)
	cmd.Env = append(os.Environ(), "VM2_BIN="+dir)
	// Every line, as it comes (go test -v shows them live): run.sh's log
	// (stderr) and its PASS/FAIL/SKIP/FIGURE lines and failure output
	// (stdout), which the subtests below take apart.
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	var (
		mu    sync.Mutex
		lines []string
	)
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		for sc.Scan() {
			mu.Lock()
			lines = append(lines, sc.Text())
			mu.Unlock()
			t.Log(sc.Text())
		}
		io.Copy(io.Discard, pr)
	}()
	start := time.Now()
	err := cmd.Run()
	pw.Close()
	<-read
	t.Logf("test/vm2/run.sh: %v after %v", err, time.Since(start).Round(time.Second))

	// One subtest a scenario run.sh reported on.
	res := regexp.MustCompile(`^(PASS|FAIL) vm2/(\S+) \(([0-9.]+ s)\)`)
	reported := 0
	for i, l := range lines {
		m := res.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		reported++
		name, passed := m[2], m[1] == "PASS"
		t.Run(name, func(t *testing.T) {
			for _, s := range lines {
				if why, ok := strings.CutPrefix(s, "SKIP vm2/"+name+": "); ok {
					t.Logf("a step skipped: %s", why)
				}
			}
			if passed {
				t.Logf("passed in %s", m[3])
				return
			}
			// run.sh prints the scenario's output after its FAIL line, up
			// to "FAIL vm2/NAME (end of its output)".
			var out []string
			for _, s := range lines[i+1:] {
				if s == "FAIL vm2/"+name+" (end of its output)" {
					break
				}
				out = append(out, s)
			}
			t.Errorf("%s\n%s", l, strings.Join(out, "\n"))
		})
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "FIGURE ") {
			t.Log(l)
		}
	}
	switch {
	case reported == 0:
		t.Fatalf("test/vm2/run.sh reported no scenario (%v); its output is above", err)
	case err != nil && !t.Failed():
		t.Fatalf("test/vm2/run.sh: %v, though no scenario failed; its output is above", err)
	}
}

// kvmUsable reports whether QEMU can use KVM here for a stock guest kernel:
// a writable /dev/kvm that is not PVM's (run.sh says more; it falls back to
// TCG when KVM cannot boot the guest).
func kvmUsable() bool {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	_, err = os.Stat("/sys/module/kvm_pvm")
	return err != nil
}
