package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// helpOf runs `<argv...> -h` in-process and returns what it prints.
func helpOf(t *testing.T, argv ...string) string {
	t.Helper()
	code, out, errs := runCLI(append(argv, "-h")...)
	if code != 0 {
		t.Fatalf("%v -h: exit %d\n%s", argv, code, errs)
	}
	return out
}

// everyCommand lists the command lines of every command of every name the
// binary answers to.
func everyCommand() [][]string {
	var out [][]string
	var walk func(prefix []string, c *cobra.Command)
	walk = func(prefix []string, c *cobra.Command) {
		out = append(out, prefix)
		for _, s := range c.Commands() {
			if s.IsAvailableCommand() {
				walk(append(append([]string{}, prefix...), s.Name()), s)
			}
		}
	}
	for _, name := range Names {
		walk([]string{name}, Commands(name))
	}
	return out
}

func TestHelp(t *testing.T) {
	if h := helpOf(t, "mkfs.famfs"); !strings.Contains(h, "at least 4 GiB") {
		t.Errorf("mkfs.famfs -h does not give the minimum device size:\n%s", h)
	}
	for _, c := range [][]string{{"mkfs.famfs"}, {"famfs", "mkfs"}, {"famfs", "mkdir"}, {"famfs", "creat"}, {"famfs", "cp"}, {"famfs", "clone"}} {
		if h := helpOf(t, c...); !strings.Contains(h, "$FAMFS_SYSTEM_UUID") || !strings.Contains(h, "/opt/famfs/system_uuid") {
			t.Errorf("%v -h does not say how the master is chosen:\n%s", c, h)
		}
	}
	for _, c := range []string{"mkdir", "creat", "cp", "clone", "verify", "getmap", "flush"} {
		if h := helpOf(t, "famfs", c); !strings.Contains(h, "at most 78 bytes") {
			t.Errorf("famfs %s -h does not give the path length limit:\n%s", c, h)
		}
	}
	for _, c := range []string{"creat", "verify"} {
		if h := helpOf(t, "famfs", c); !strings.Contains(h, "--seed number") {
			t.Errorf("famfs %s -h: the seed is not shown as a number:\n%s", c, h)
		}
	}
	if h := helpOf(t, "famfs", "bench"); !strings.Contains(h, "It runs for about 20 s") {
		t.Errorf("famfs bench -h does not say how long it runs:\n%s", h)
	}
	// Boolean flags read --flag, in every command's help.
	for _, c := range everyCommand() {
		h := helpOf(t, c...)
		if strings.Contains(h, "[=true|false]") || !strings.Contains(h, "-h, --help ") {
			t.Errorf("%v -h:\n%s", c, h)
		}
	}
}

// A boolean flag still needs no value and still takes one.
func TestBoolFlags(t *testing.T) {
	dev := newDevice(t)
	for _, c := range []struct {
		args []string
		json bool
	}{
		{[]string{"famfs", "fsck", "--json", dev}, true},
		{[]string{"famfs", "fsck", "--json=true", dev}, true},
		{[]string{"famfs", "fsck", "--json=false", dev}, false},
		{[]string{"famfs", "fsck", dev}, false},
	} {
		code, out, errs := runCLI(c.args...)
		if code != 0 || strings.HasPrefix(out, "{") != c.json {
			t.Errorf("%v: exit %d, JSON %v wanted\n%.200s%s", c.args, code, c.json, out, errs)
		}
	}
	if code, _, _ := runCLI("famfs", "fsck", "--json=maybe", dev); code != ExitUsage {
		t.Errorf("--json=maybe: exit %d, want %d", code, ExitUsage)
	}
}

// One vocabulary: master and client. "Owner" survives only in the fsck
// report's reference text, which the README says once.
func TestVocabulary(t *testing.T) {
	for _, c := range everyCommand() {
		h := helpOf(t, c...)
		for _, w := range []string{"owned by", "Owner", "owner host", "primary host", "secondary"} {
			if strings.Contains(h, w) {
				t.Errorf("%v -h says %q:\n%s", c, w, h)
			}
		}
	}
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, para := range strings.Split(string(b), "\n\n") {
		if strings.Contains(para, "Owner") {
			n++
			if !strings.Contains(para, "compatib") && !strings.Contains(para, "scripts written for the reference") {
				t.Errorf("README says Owner outside the compatibility note:\n%s", para)
			}
		}
	}
	if n != 1 {
		t.Errorf("README mentions Owner in %d paragraphs; the compatibility note should be the one", n)
	}
}
