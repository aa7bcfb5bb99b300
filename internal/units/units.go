// Package units parses sizes the way the reference famfs tools accept them.
package units

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseSize parses a C integer (decimal, 0x hex, leading-0 octal) with an
// optional k, m, g or t suffix (powers of 1024): "4096", "0x800000", "2M",
// "3g".
func ParseSize(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	mult := uint64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k', 'K':
			mult = 1 << 10
		case 'm', 'M':
			mult = 1 << 20
		case 'g', 'G':
			mult = 1 << 30
		case 't', 'T':
			mult = 1 << 40
		}
		if mult != 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseUint(t, 0, 64)
	if err != nil || t == "" {
		return 0, fmt.Errorf("invalid size %q (use a number with an optional k, m or g suffix)", s)
	}
	if v > ^uint64(0)/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return v * mult, nil
}
