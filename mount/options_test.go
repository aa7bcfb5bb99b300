package mount

import (
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
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
	for _, bad := range []string{"bogus", "cache=fast", "coherence=maybe", "poll=-1", "cache", "timeout=abc"} {
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

func TestPermitted(t *testing.T) {
	file := fuse.Attr{Mode: syscall.S_IFREG | 0o640, Owner: fuse.Owner{Uid: 1000, Gid: 100}}
	cases := []struct {
		uid, gid uint32
		want     uint32
		ok       bool
	}{
		{0, 0, 2, true},          // root
		{1000, 5, 4, true},       // owner reads
		{1000, 5, 2, true},       // owner writes
		{2000, 100, 4, true},     // group reads
		{2000, 100, 2, false},    // group may not write
		{2000, 2000, 4, false},   // others: nothing
		{65534, 65534, 4, false}, // nobody
	}
	for _, c := range cases {
		cred := &syscall.Ucred{Pid: -1, Uid: c.uid, Gid: c.gid}
		if got := permitted(cred, file, c.want); got != c.ok {
			t.Errorf("uid %d gid %d want %d: %v", c.uid, c.gid, c.want, got)
		}
	}
}
