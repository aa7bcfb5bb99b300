package cli

import (
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
