package control

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// DeviceFD receives the descriptor passed with the HTTP response.
func TestDeviceFDReceivesDescriptor(t *testing.T) {
	dir := t.TempDir()
	old := Dir
	Dir = dir
	defer func() { Dir = old }()
	mpt := "/some/mount"
	ln, err := net.Listen("unix", SocketPath(mpt))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	devFile := filepath.Join(dir, "dev")
	os.WriteFile(devFile, []byte("famfs device bytes"), 0o600)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /fd", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("path") != "a b/c" {
			http.Error(w, "bad path "+r.URL.Query().Get("path"), http.StatusBadRequest)
			return
		}
		if r.URL.Query().Get("write") == "1" {
			http.Error(w, "permission denied", http.StatusForbidden)
			return
		}
		f, _ := os.Open(devFile)
		defer f.Close()
		conn, _, _ := w.(http.Hijacker).Hijack()
		defer conn.Close()
		resp := "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"
		conn.(*net.UnixConn).WriteMsgUnix([]byte(resp), syscall.UnixRights(int(f.Fd())), nil)
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"pid": 42, "role": "client", "log_capacity": 15420}`)
	})
	go http.Serve(ln, mux)

	c := NewClient(mpt)
	f, err := c.DeviceFD("a b/c", false)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 5)
	f.ReadAt(b, 0)
	f.Close()
	if string(b) != "famfs" {
		t.Fatalf("descriptor reads %q", b)
	}
	if _, err := c.DeviceFD("a b/c", true); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("refusal: %v", err)
	}
	st, err := c.Status()
	if err != nil || st.PID != 42 || st.Role != "client" || st.LogCapacity != 15420 {
		t.Fatalf("%+v %v", st, err)
	}
}
