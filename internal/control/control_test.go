package control

import (
	"strings"
	"testing"
)

func TestSocketPathIsStableAndShort(t *testing.T) {
	long := "/mnt/" + strings.Repeat("very-long-mount-point-name/", 20)
	a, b := SocketPath(long), SocketPath(long+"/")
	if a != b || a != SocketPath("/mnt/../mnt/"+long[5:]) {
		t.Fatalf("not derived from the clean path: %s %s", a, b)
	}
	if len(a) >= 108 {
		t.Fatalf("socket path %d bytes: too long for sun_path", len(a))
	}
	if SocketPath("/a") == SocketPath("/b") || LogPath("/a") == SocketPath("/a") {
		t.Fatal("collision")
	}
}
