package ctlsock

import (
	"log/slog"
	"testing"
)

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
