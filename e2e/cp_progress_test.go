package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// famfs cp on a terminal draws a byte counter (with -v naming each file as
// it is done); redirected, it prints only what -v asks for.
func TestCpProgress(t *testing.T) {
	t.Parallel()
	script := needTool(t, "script", "bsdutils; script(1) gives famfs a terminal")
	c := newCluster(t)
	m := c.mount(masterID)
	src := filepath.Join(c.dir, "src")
	writeFile(t, src, 256<<20)

	// On a terminal (script(1) gives it one; stty a size).
	ts := filepath.Join(c.dir, "typescript")
	cmd := exec.Command(script, "-q", "-c", "stty cols 100 rows 30; "+famfsBin+" cp -v "+src+" dst1", ts)
	cmd.Dir = m
	cmd.Env = append(os.Environ(), "FAMFS_SYSTEM_UUID="+masterID)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	b, err := os.ReadFile(ts)
	if err != nil {
		t.Fatal(err)
	}
	out := string(b)
	if !strings.Contains(out, "famfs cp 256.0 MiB / 256.0 MiB") || !strings.Contains(out, "famfs cp: "+src+" -> dst1 (268435456 bytes)") {
		t.Errorf("cp on a terminal: no byte counter or no -v line:\n%q", out)
	}

	// Redirected: the -v line only.
	r := runWith(t, runOpts{dir: m}, masterID, "cp", "-v", src, "dst2")
	if r.code != 0 || r.stdout != "famfs cp: "+src+" -> dst2 (268435456 bytes)\n" || r.stderr != "" {
		t.Errorf("cp -v redirected: %v", r)
	}
	r = runWith(t, runOpts{dir: m}, masterID, "cp", src, "dst3")
	if r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Errorf("cp redirected: %v", r)
	}
	sameFile(t, src, filepath.Join(m, "dst1"))
	sameFile(t, src, filepath.Join(m, "dst2"))
}
