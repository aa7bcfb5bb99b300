package cli

import (
	"fmt"
	"strconv"
	"strings"
)

// parseSize parses a size the way the reference does: a C integer (decimal,
// 0x hex, leading-0 octal) with an optional k, m or g suffix (powers of 1024).
func parseSize(s string) (uint64, error) {
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

// sizeValue is a pflag.Value for sizes.
type sizeValue struct {
	v   *uint64
	set bool
}

func (s *sizeValue) String() string {
	if s.v == nil {
		return "0"
	}
	return strconv.FormatUint(*s.v, 10)
}
func (s *sizeValue) Set(x string) error {
	v, err := parseSize(x)
	if err != nil {
		return err
	}
	*s.v, s.set = v, true
	return nil
}
func (s *sizeValue) Type() string { return "size" }

func newSize(p *uint64) *sizeValue { return &sizeValue{v: p} }
