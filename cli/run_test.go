package cli

import (
	"slices"
	"testing"
)

func TestPreloadEnv(t *testing.T) {
	lib := "/opt/famfs/lib/libfamfs-preload.so"
	for _, c := range []struct {
		in    []string
		debug bool
		want  []string
	}{
		{[]string{"A=1"}, false, []string{"A=1", "LD_PRELOAD=" + lib}},
		{[]string{"LD_PRELOAD=/x.so:/y.so", "B=2"}, false, []string{"B=2", "LD_PRELOAD=" + lib + ":/x.so:/y.so"}},
		{[]string{"LD_PRELOAD=/x.so " + lib}, false, []string{"LD_PRELOAD=" + lib + ":/x.so"}}, // kept once
		{[]string{"FAMFS_PRELOAD_DEBUG=0"}, true, []string{"LD_PRELOAD=" + lib, "FAMFS_PRELOAD_DEBUG=1"}},
		{[]string{"FAMFS_PRELOAD_DEBUG=1"}, false, []string{"FAMFS_PRELOAD_DEBUG=1", "LD_PRELOAD=" + lib}},
	} {
		if got := preloadEnv(c.in, lib, c.debug); !slices.Equal(got, c.want) {
			t.Errorf("preloadEnv(%q, debug %v) = %q, want %q", c.in, c.debug, got, c.want)
		}
	}
}
