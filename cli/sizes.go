package cli

import (
	"fmt"
	"strconv"

	"github.com/famfs-go/famfs/internal/units"
)

// parseSize parses a size the way the reference does (units.ParseSize).
func parseSize(s string) (uint64, error) { return units.ParseSize(s) }

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

// numberValue is a pflag.Value for plain numbers (decimal, 0x hex, 0 octal),
// such as seeds.
type numberValue struct{ v *uint64 }

func (n numberValue) String() string { return strconv.FormatUint(*n.v, 10) }
func (n numberValue) Set(x string) error {
	v, err := parseNumber(x)
	if err != nil {
		return err
	}
	*n.v = v
	return nil
}
func (n numberValue) Type() string { return "number" }

func newNumber(p *uint64) numberValue { return numberValue{p} }

// parseNumber parses a non-negative integer: decimal, 0x hex or 0 octal.
func parseNumber(s string) (uint64, error) {
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return v, nil
}
