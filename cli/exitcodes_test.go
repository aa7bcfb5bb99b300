package cli

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// codesIn lists the exit codes a description names: the numbers that open
// it or follow ", ", ": " or "; " ("fsck(8)" and "at most 127" are not codes).
func codesIn(s string) []int {
	var out []int
	for _, m := range regexp.MustCompile(`(?:^|[:;,] )(\d+)\b`).FindAllStringSubmatch(s, -1) {
		n, _ := strconv.Atoi(m[1])
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// The README's exit-code table and the commands' help say the same, and
// the help names the constants the code returns.
func TestReadmeExitCodes(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "### Exit codes\n")
	if !ok {
		t.Fatal("README has no exit-code table")
	}
	table, _, _ = strings.Cut(strings.TrimLeft(table, "\n"), "\n\n")
	named := map[string]bool{}
	var rest []int
	rows := 0
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 4 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") || strings.TrimSpace(cells[1]) == "command" {
			continue
		}
		rows++
		codes := codesIn(strings.TrimSpace(cells[2]))
		if strings.TrimSpace(cells[1]) == "everything else" {
			rest = codes
			continue
		}
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(cells[1], -1) {
			name := strings.TrimSuffix(strings.TrimPrefix(m[1], "famfs "), ".famfs")
			named[name] = true
			help, ok := exitCodes[name]
			if !ok {
				t.Errorf("README row %q: no command %q", line, name)
				continue
			}
			if got := codesIn(help); !slices.Equal(got, codes) {
				t.Errorf("%s: the help names codes %v, the README %v", name, got, codes)
			}
		}
	}
	if rows < 3 || rest == nil {
		t.Fatalf("README exit-code table not understood (%d rows):\n%s", rows, table)
	}
	for name, help := range exitCodes {
		if !named[name] && !slices.Equal(codesIn(help), rest) {
			t.Errorf("%s: the help names codes %v; the README's \"everything else\" says %v", name, codesIn(help), rest)
		}
	}
	for name, want := range map[string][]int{
		"mkfs":   {ExitOK, mkfsFailed, ExitUsage},
		"fsck":   {fsckClean, fsckProblems, fsckOperational, ExitUsage},
		"mount":  {ExitOK, mountUsage, mountFailure},
		"getmap": {ExitOK, getmapNotFamfs, getmapNoMap, getmapMissing, getmapIsDir, ExitUsage},
		"cp":     {ExitOK, ExitFailure, ExitUsage},
	} {
		slices.Sort(want)
		if got := codesIn(exitCodes[name]); !slices.Equal(got, want) {
			t.Errorf("%s: the help names %v, the code returns %v", name, got, want)
		}
	}
}

// Every command's help ends with its exit codes.
func TestHelpStatesExitCodes(t *testing.T) {
	root := newRootCmd(&env{})
	for _, c := range root.Commands() {
		if c.Hidden || !c.IsAvailableCommand() {
			continue
		}
		if !strings.Contains(c.Long, "Exit codes: ") {
			t.Errorf("famfs %s -h does not state its exit codes", c.Name())
		}
	}
}
