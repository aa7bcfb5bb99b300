package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

var snakeKey = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// checkSchema walks decoded JSON: every key is snake_case and no list is
// null (an empty list is []), except the keys allowed to be null.
func checkSchema(t *testing.T, what string, v any, path string, nullable map[string]bool) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if !snakeKey.MatchString(k) && !strings.HasPrefix(path, "counters") {
				t.Errorf("%s: key %s%s is not snake_case", what, path, k)
			}
			if c == nil && !nullable[k] {
				t.Errorf("%s: %s%s is null", what, path, k)
			}
			checkSchema(t, what, c, path+k+".", nullable)
		}
	case []any:
		for i, c := range x {
			checkSchema(t, what, c, fmt.Sprintf("%s%d.", path, i), nullable)
		}
	}
}

// Issue 10, #14: one JSON style for every --json output and status.
func TestJSONSchema(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	m := c.mount(masterID)
	expect(t, 0, masterID, "mkdir", m+"/d")
	expect(t, 0, masterID, "creat", "-r", "-s", "3m", "-S", "9", m+"/d/f")
	expect(t, 0, masterID, "creat", "-s", "9m", "-N", "2", "-B", "4", "-C", "2m", m+"/striped")
	nullable := map[string]bool{"replay_stops_at": true, "first_bad_offset_bytes": true}
	for _, args := range [][]string{
		{"fsck", "--json", m},
		{"fsck", "--json", "-B", "4", m},
		{"getmap", "--json", m + "/d/f", m + "/striped"},
		{"status", m},
		{"logplay", "--json", m},
		{"logplay", "-n", "-v", "--json", m},
		{"verify", "--json", "-S", "9", "-f", m + "/d/f"},
	} {
		r := expect(t, 0, masterID, args...)
		var v any
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
			t.Errorf("famfs %s: not JSON: %v\n%s", strings.Join(args, " "), err, r.stdout)
			continue
		}
		checkSchema(t, "famfs "+strings.Join(args[:2], " "), v, "", nullable)
	}
	r := expect(t, 0, masterID, "status", m)
	if !strings.Contains(r.stdout, `"log_fill_percent"`) {
		t.Errorf("status: no log_fill_percent:\n%s", r.stdout)
	}
	r = expect(t, 0, masterID, "fsck", "--json", m)
	if !strings.Contains(r.stdout, `"problems": []`) {
		t.Errorf("fsck --json of a clean file system: problems not []:\n%s", r.stdout)
	}
	// verify --json reports a mismatch and its offset, and exits with the
	// number of files that failed.
	r = expect(t, 1, masterID, "verify", "--json", "-m", m+"/d/f,9", "-m", m+"/d/f,10")
	var res []struct {
		OK        bool    `json:"ok"`
		BadOffset *uint64 `json:"first_bad_offset_bytes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || len(res) != 2 || !res[0].OK || res[1].OK || res[1].BadOffset == nil {
		t.Errorf("verify --json with one bad seed: %v\n%s", err, r.stdout)
	}
}
