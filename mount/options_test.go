package mount

import (
	"log/slog"
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

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{"7": slog.LevelDebug, "6": slog.LevelInfo, "4": slog.LevelWarn, "3": slog.LevelError, "debug": slog.LevelDebug, "WARN": slog.LevelWarn} {
		if got, err := parseLevel(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	if _, err := parseLevel("loud"); err == nil {
		t.Error("bad level accepted")
	}
}
