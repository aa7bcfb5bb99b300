package omf

import (
	"strings"
	"testing"
)

// refValid is the path rule spelled out component by component, to check
// validRelPath's one-pass version against.
func refValid(p string) bool {
	if p == "" || strings.IndexByte(p, 0) >= 0 || p[0] == '/' {
		return false
	}
	for _, c := range strings.Split(p, "/") {
		if c == "" || c == "." || c == ".." {
			return false
		}
	}
	return true
}

func TestValidRelPathMatchesRule(t *testing.T) {
	alpha := []byte{'a', '/', '.', 0}
	var gen func(prefix []byte, n int)
	gen = func(prefix []byte, n int) {
		p := string(prefix)
		if got, want := validRelPath(p), refValid(p); got != want {
			t.Fatalf("validRelPath(%q) = %v, want %v", p, got, want)
		}
		if got := CheckRelPath(p, false) == nil; got != refValid(p) {
			t.Fatalf("CheckRelPath(%q) accepts = %v", p, got)
		}
		if n == 0 {
			return
		}
		for _, c := range alpha {
			gen(append(prefix, c), n-1)
		}
	}
	gen(nil, 7)
	long := strings.Repeat("x", MaxRelPath+1)
	if CheckRelPath(long, true) == nil || CheckRelPath(long, false) != nil || CheckRelPath(long+"x", false) == nil {
		t.Fatal("length limits")
	}
}
