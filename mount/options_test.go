package mount

import (
	"strings"
	"testing"
	"time"
)

func TestParseOptions(t *testing.T) {
	o := DefaultOptions()
	if err := o.ParseOptions("defaults,nofail,_netdev,x-systemd.automount,comment=x,rw,cache=open,poll=5,timeout=30s,noallow_other"); err != nil {
		t.Fatal(err)
	}
	if !o.ReadWrite || o.Cache != CacheOpen || o.PollInterval != 5*time.Millisecond || o.Timeout != 30*time.Second || o.AllowOther {
		t.Fatalf("%+v", o)
	}
	if err := o.ParseOptions("ro"); err != nil || !o.ReadOnly || o.ReadWrite {
		t.Fatalf("ro: %+v %v", o, err)
	}
	if err := o.ParseOptions("zerocopy_group=root"); err != nil || o.ZeroCopyGroup != "root" {
		t.Fatalf("zerocopy_group: %+v %v", o, err)
	}
	for _, bad := range []string{"bogus", "cache=fast", "coherence=maybe", "poll=-1", "cache", "timeout=abc",
		"zerocopy_group", "zerocopy_group=", "zerocopy_group=no-such-group-here"} {
		o := DefaultOptions()
		if err := o.ParseOptions(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Every numeric option is range-checked, with an error naming the option and
// the accepted range; nothing overflows into a negative duration.
func TestParseNumericOptions(t *testing.T) {
	good := map[string]time.Duration{
		"timeout=0": 0, "timeout=0.5": 500 * time.Millisecond, "timeout=86400": 24 * time.Hour, "timeout=90m": 90 * time.Minute,
		"poll=0.1": 100 * time.Microsecond, "poll=2": 2 * time.Millisecond, "poll=86400000": 24 * time.Hour, "poll=250us": 250 * time.Microsecond,
	}
	for opt, want := range good {
		o := DefaultOptions()
		if err := o.ParseOptions(opt); err != nil {
			t.Errorf("%s: %v", opt, err)
			continue
		}
		if got := map[bool]time.Duration{true: o.Timeout, false: o.PollInterval}[opt[0] == 't']; got != want {
			t.Errorf("%s: %v, want %v", opt, got, want)
		}
	}
	for _, c := range []struct{ opt, msg string }{
		{"timeout=inf", "timeout=inf: want a number of seconds from 0 to 86400, or a duration from 0s to 24h"},
		{"timeout=+Inf", "timeout=+Inf: want"},
		{"timeout=1e300", "timeout=1e300: want"},
		{"timeout=-1e300", "timeout=-1e300: want"},
		{"timeout=nan", "timeout=nan: want"},
		{"timeout=-1", "timeout=-1: want"},
		{"timeout=86401", "timeout=86401: want"},
		{"timeout=9223372036", "timeout=9223372036: want"},
		{"timeout=25h", "timeout=25h: want"},
		{"timeout=-1s", "timeout=-1s: want"},
		{"timeout=2562047h47m16.854775808s", "timeout=2562047h47m16.854775808s: want"},
		{"timeout=", "timeout=: want"},
		{"poll=0", "poll=0: want a number of milliseconds from 0.1 to 86400000, or a duration from 100µs to 24h"},
		{"poll=1ns", "poll=1ns: want"},
		{"poll=inf", "poll=inf: want"},
		{"poll=1e300", "poll=1e300: want"},
		{"poll=25h", "poll=25h: want"},
		{"poll", `"poll" needs a value`},
	} {
		o := DefaultOptions()
		err := o.ParseOptions(c.opt)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %v, want one containing %q", c.opt, err, c.msg)
		}
		if o.Timeout < 0 || o.PollInterval <= 0 {
			t.Errorf("%s: left %v / %v", c.opt, o.Timeout, o.PollInterval)
		}
	}
}
