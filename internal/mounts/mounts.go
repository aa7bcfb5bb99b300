// Package mounts reads the mount table (/proc/self/mountinfo) to find famfs
// FUSE mounts: which mount a path lies in, and which mounts serve a device.
package mounts

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// FSType is the type famfs mounts show in /proc/mounts.
const FSType = "fuse.famfs"

// Mount is one line of the mount table.
type Mount struct {
	Point   string // mount point
	Root    string // root of the mount within its file system
	Type    string // e.g. "fuse.famfs"
	Source  string // e.g. the device path
	Options string // per-mount options
}

// Table returns the current mounts, in mount order.
func Table() ([]Mount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parse(bufio.NewScanner(f))
}

func parse(sc *bufio.Scanner) ([]Mount, error) {
	var out []Mount
	for sc.Scan() {
		// id parent major:minor root point options [optional...] - type source super
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		a, b := strings.Fields(pre), strings.Fields(post)
		if len(a) < 6 || len(b) < 2 {
			continue
		}
		out = append(out, Mount{Root: unescape(a[3]), Point: unescape(a[4]), Options: a[5], Type: b[0], Source: unescape(b[1])})
	}
	return out, sc.Err()
}

// unescape undoes the kernel's octal escapes (\040 for a space, ...).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOct(s[i+1]) && isOct(s[i+2]) && isOct(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOct(c byte) bool { return c >= '0' && c <= '7' }

// Famfs returns the famfs mounts.
func Famfs() ([]Mount, error) {
	all, err := Table()
	if err != nil {
		return nil, err
	}
	var out []Mount
	for _, m := range all {
		if m.Type == FSType {
			out = append(out, m)
		}
	}
	return out, nil
}

// BySource returns the famfs mounts whose source is the device at dev (compared
// after making both absolute and resolving symbolic links).
func BySource(dev string) ([]Mount, error) {
	ms, err := Famfs()
	if err != nil {
		return nil, err
	}
	want := Canonical(dev)
	var out []Mount
	for _, m := range ms {
		if Canonical(m.Source) == want {
			out = append(out, m)
		}
	}
	return out, nil
}

// Containing returns the famfs mount that path lies in (the longest mount
// point that is a prefix of its canonical form), and the path relative to
// that mount point.
func Containing(path string) (m Mount, rel string, ok bool) {
	return containing(Canonical(path))
}

// ContainingName is Containing for the name path gives: a symbolic link as
// its last component, in a famfs mount, is not followed (as rm(1), ln(1)
// and lstat(2) treat it); the components before it are resolved, and so is
// a link outside every famfs mount (a link to a mount point, say).
func ContainingName(path string) (m Mount, rel string, ok bool) {
	if m, rel, ok = containing(CanonicalName(path)); ok {
		return m, rel, ok
	}
	return Containing(path)
}

// CanonicalName is Canonical for all but the last component of p, which is
// kept as written (unless it is "." or "..").
func CanonicalName(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	dir, base := filepath.Split(abs)
	if base == "" || base == "." || base == ".." || dir == "" {
		return Canonical(abs)
	}
	return filepath.Join(Canonical(dir), base)
}

func containing(p string) (m Mount, rel string, ok bool) {
	ms, err := Famfs()
	if err != nil {
		return m, "", false
	}
	best := -1
	for i, x := range ms {
		pt := filepath.Clean(x.Point)
		if p == pt || strings.HasPrefix(p, strings.TrimSuffix(pt, "/")+"/") {
			if best < 0 || len(pt) >= len(filepath.Clean(ms[best].Point)) {
				best = i
			}
		}
	}
	if best < 0 {
		return m, "", false
	}
	m = ms[best]
	rel, _ = filepath.Rel(filepath.Clean(m.Point), p)
	if rel == "." {
		rel = ""
	}
	return m, rel, true
}

// Canonical makes p absolute and resolves symbolic links as far as the path
// exists (a missing tail is kept as written, cleaned).
func Canonical(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	dir, base := filepath.Split(abs)
	if dir == abs || dir == "" {
		return abs
	}
	return filepath.Join(Canonical(strings.TrimSuffix(dir, "/")), base)
}
