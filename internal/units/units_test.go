package units

import "testing"

func TestParseSize(t *testing.T) {
	for in, want := range map[string]uint64{
		"4096": 4096, "0x800000": 0x800000, "10000k": 10000 << 10, "100m": 100 << 20, "3g": 3 << 30,
		"2M": 2 << 20, "010": 8, "1t": 1 << 40,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("%s: %d %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "k", "-1", "12q", "mm", "99999999999999999999", "20000000000000000g"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
