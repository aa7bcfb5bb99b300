package control

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/famfs-go/famfs/internal/testutil/sockpair"

	"github.com/famfs-go/famfs/internal/omf"
	"github.com/google/uuid"
)

func TestGrantSocketPath(t *testing.T) {
	p := GrantSocketPath("/mnt/famfs")
	if filepath.Ext(p) != ".grant" || p[:len(p)-len(".grant")]+".sock" != SocketPath("/mnt/famfs") {
		t.Fatalf("%s beside %s", p, SocketPath("/mnt/famfs"))
	}
	if len(p) >= 108 {
		t.Fatal("too long for sun_path")
	}
}

// The layout is docs/protocol.md's ("Request"), byte for byte.
func TestGrantRequestLayout(t *testing.T) {
	b := GrantRequest{Flags: GrantWantDevice}.Encode()
	want := []byte{0x46, 0x4d, 0x43, 0x5a, 2, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0}
	if !bytes.Equal(b, want) {
		t.Fatalf("% x", b)
	}
	if string(b[:4]) != "FMCZ" {
		t.Fatalf("magic bytes %q", b[:4])
	}
	r, err := DecodeGrantRequest(b)
	if err != nil || r.Flags != GrantWantDevice {
		t.Fatal(r, err)
	}
	for name, mut := range map[string]func([]byte) []byte{
		"short":     func(b []byte) []byte { return b[:15] },
		"long":      func(b []byte) []byte { return append(b, 0) },
		"magic":     func(b []byte) []byte { b[0]++; return b },
		"version 1": func(b []byte) []byte { b[4] = 1; return b }, // its client would drop the lease at once
		"version 3": func(b []byte) []byte { b[4] = 3; return b },
		"op":        func(b []byte) []byte { b[6] = 2; return b },
		"flags":     func(b []byte) []byte { b[8] = 2; return b },
		"reserved":  func(b []byte) []byte { b[15] = 1; return b },
	} {
		if _, err := DecodeGrantRequest(mut(append([]byte(nil), b...))); !errors.Is(err, ErrGrantMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func sampleReply() GrantReply {
	return GrantReply{
		Flags: GrantWritable | GrantNonCoherent, FileSize: 5 << 20, AllocUnit: 2 << 20, DevAlign: 2 << 20, Ino: 17,
		FSUUID:   uuid.MustParse("01234567-89ab-4def-8123-456789abcdef"),
		Segments: []omf.Segment{{FileOff: 0, DevOff: 0x1000000, Len: 4 << 20}, {FileOff: 4 << 20, DevOff: 0x4000000, Len: 2 << 20}},
	}
}

func TestGrantReplyLayout(t *testing.T) {
	r := sampleReply()
	b := r.Encode()
	if len(b) != 64+2*24 {
		t.Fatalf("%d bytes", len(b))
	}
	le := binary.LittleEndian
	if le.Uint32(b) != GrantMagic || le.Uint16(b[4:]) != 2 || le.Uint16(b[6:]) != 0 || le.Uint32(b[8:]) != 3 ||
		le.Uint32(b[12:]) != 2 || le.Uint64(b[16:]) != 5<<20 || le.Uint64(b[24:]) != 2<<20 || le.Uint64(b[32:]) != 2<<20 ||
		le.Uint64(b[40:]) != 17 || !bytes.Equal(b[48:64], r.FSUUID[:]) ||
		le.Uint64(b[64:]) != 0 || le.Uint64(b[72:]) != 0x1000000 || le.Uint64(b[80:]) != 4<<20 ||
		le.Uint64(b[88:]) != 4<<20 || le.Uint64(b[96:]) != 0x4000000 || le.Uint64(b[104:]) != 2<<20 {
		t.Fatalf("layout:\n% x", b)
	}
	got, err := DecodeGrantReply(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Flags != r.Flags || got.FileSize != r.FileSize || got.Ino != r.Ino || got.FSUUID != r.FSUUID || len(got.Segments) != 2 || got.Segments[1] != r.Segments[1] {
		t.Fatalf("%+v", got)
	}
	// An error reply carries no segments, whatever the struct holds.
	r.Status = syscall.EACCES
	b = r.Encode()
	if len(b) != 64 || le.Uint16(b[6:]) != 13 {
		t.Fatalf("error reply % x", b)
	}
	if got, err := DecodeGrantReply(b); err != nil || got.Status != syscall.EACCES {
		t.Fatal(got, err)
	}
}

func TestGrantReplyRejects(t *testing.T) {
	good := sampleReply().Encode()
	le := binary.LittleEndian
	for name, mut := range map[string]func([]byte) []byte{
		"short":          func(b []byte) []byte { return b[:63] },
		"trailing":       func(b []byte) []byte { return append(b, 0) },
		"magic":          func(b []byte) []byte { b[3] = 0; return b },
		"version":        func(b []byte) []byte { b[4] = 9; return b },
		"nseg too big":   func(b []byte) []byte { le.PutUint32(b[12:], 3); return b },
		"nseg huge":      func(b []byte) []byte { le.PutUint32(b[12:], 0xffffffff); return b },
		"flags":          func(b []byte) []byte { b[8] |= 0x80; return b },
		"alloc unit":     func(b []byte) []byte { le.PutUint64(b[24:], 3<<20); return b },
		"dev align zero": func(b []byte) []byte { le.PutUint64(b[32:], 0); return b },
		"gap":            func(b []byte) []byte { le.PutUint64(b[88:], 5<<20); return b },
		"empty segment":  func(b []byte) []byte { le.PutUint64(b[80:], 0); return b },
		"wraps":          func(b []byte) []byte { le.PutUint64(b[96:], ^uint64(0)); return b },
		"short cover":    func(b []byte) []byte { le.PutUint64(b[16:], 7<<20); return b },
		"error+segments": func(b []byte) []byte { le.PutUint16(b[6:], 13); return b },
	} {
		if _, err := DecodeGrantReply(mut(append([]byte(nil), good...))); !errors.Is(err, ErrGrantMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzDecodeGrantReply: no panic, and what decodes encodes back to the same
// bytes.
func FuzzDecodeGrantReply(f *testing.F) {
	f.Add(sampleReply().Encode())
	f.Add(GrantReply{Status: syscall.EBADF}.Encode())
	f.Add(GrantReply{AllocUnit: 2 << 20, DevAlign: 1 << 30}.Encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeGrantReply(b)
		if err != nil {
			return
		}
		if again := r.Encode(); !bytes.Equal(again, b) {
			t.Fatalf("re-encoded differs:\n% x\n% x", b, again)
		}
	})
}

func FuzzDecodeGrantRequest(f *testing.F) {
	f.Add(GrantRequest{Flags: GrantWantDevice}.Encode())
	f.Add(GrantRequest{}.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeGrantRequest(b)
		if err == nil && !bytes.Equal(r.Encode(), b) {
			t.Fatalf("re-encoded differs: % x", b)
		}
	})
}

// The client sends the request with the descriptor and takes a reply of
// any size (here 20,000 segments, beyond the default socket buffers) with
// the device descriptor.
func TestGrantClientLargeReply(t *testing.T) {
	cl, srv := sockpair.New(t, syscall.SOCK_SEQPACKET)
	dir := t.TempDir()
	mine := filepath.Join(dir, "file")
	os.WriteFile(mine, []byte("proof"), 0o600)
	devPath := filepath.Join(dir, "dev")
	os.WriteFile(devPath, []byte("device bytes"), 0o600)
	proof, _ := os.Open(mine)
	defer proof.Close()

	const nseg = 20000
	want := GrantReply{AllocUnit: 2 << 20, DevAlign: 2 << 20, Ino: 99, FileSize: nseg * (2 << 20)}
	for i := range nseg {
		want.Segments = append(want.Segments, omf.Segment{FileOff: uint64(i) << 21, DevOff: uint64(nseg-i) << 21, Len: 2 << 20})
	}
	done := make(chan error, 1)
	go func() {
		buf, oob := make([]byte, 64), make([]byte, 64)
		n, oobn, _, _, err := srv.ReadMsgUnix(buf, oob)
		if err != nil {
			done <- err
			return
		}
		msgs, _ := syscall.ParseSocketControlMessage(oob[:oobn])
		fds, _ := syscall.ParseUnixRights(&msgs[0])
		got := make([]byte, 5)
		syscall.Pread(fds[0], got, 0)
		syscall.Close(fds[0])
		if _, err := DecodeGrantRequest(buf[:n]); err != nil || string(got) != "proof" {
			done <- errors.New("bad request or descriptor")
			return
		}
		raw, _ := srv.SyscallConn()
		raw.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, 32 /* SO_SNDBUFFORCE */, 4<<20) })
		dev, _ := os.Open(devPath)
		defer dev.Close()
		_, _, err = srv.WriteMsgUnix(want.Encode(), syscall.UnixRights(int(dev.Fd())), nil)
		done <- err
	}()
	r, dev, err := grantOn(cl, proof, GrantWantDevice)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	if len(r.Segments) != nseg || r.Segments[nseg-1] != want.Segments[nseg-1] || r.Ino != 99 {
		t.Fatalf("%d segments", len(r.Segments))
	}
	b := make([]byte, 6)
	dev.ReadAt(b, 0)
	if string(b) != "device" {
		t.Fatalf("device descriptor reads %q", b)
	}
}

// A refusal comes back as a *GrantError wrapping the errno, with no
// descriptor even if one was (wrongly) attached.
func TestGrantClientRefusal(t *testing.T) {
	cl, srv := sockpair.New(t, syscall.SOCK_SEQPACKET)
	proof, _ := os.Open(os.Args[0])
	defer proof.Close()
	stray, _ := os.Open(os.Args[0])
	defer stray.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf, oob := make([]byte, 64), make([]byte, 64)
		srv.ReadMsgUnix(buf, oob)
		srv.WriteMsgUnix(GrantReply{Status: syscall.EACCES}.Encode(), syscall.UnixRights(int(stray.Fd())), nil)
	}()
	_, dev, err := grantOn(cl, proof, GrantWantDevice)
	<-done
	var ge *GrantError
	if dev != nil || !errors.As(err, &ge) || !errors.Is(err, syscall.EACCES) {
		t.Fatalf("%v %v", dev, err)
	}
}

// A file that is not on a famfs mount has no grant attribute.
func TestGrantNotFamfs(t *testing.T) {
	f, _ := os.Open(os.Args[0])
	defer f.Close()
	if _, _, err := Grant(f); err == nil {
		t.Fatal("granted a file outside famfs")
	}
}

// fakeGrantSocket listens on a SOCK_SEQPACKET socket in a temporary
// directory and answers each connection's requests with reply (attaching
// dev when given); each connection's end (EOF seen) is reported on ended.
func fakeGrantSocket(t *testing.T, reply GrantReply, dev *os.File) (sock string, ended chan int) {
	t.Helper()
	sock = filepath.Join(t.TempDir(), "g.grant")
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: sock, Net: "unixpacket"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ended = make(chan int, 16)
	go func() {
		for {
			c, err := ln.AcceptUnix()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				requests := 0
				for {
					buf, oob := make([]byte, 64), make([]byte, 64)
					n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
					if err != nil || n == 0 && oobn == 0 {
						ended <- requests
						return
					}
					requests++
					if msgs, err := syscall.ParseSocketControlMessage(oob[:oobn]); err == nil && len(msgs) > 0 {
						if fds, err := syscall.ParseUnixRights(&msgs[0]); err == nil {
							for _, fd := range fds {
								syscall.Close(fd)
							}
						}
					}
					var rights []byte
					if dev != nil && reply.Status == 0 {
						rights = syscall.UnixRights(int(dev.Fd()))
					}
					c.WriteMsgUnix(reply.Encode(), rights, nil)
				}
			}()
		}
	}()
	return sock, ended
}

// A granted lease keeps its connection open until Close, however long the
// client waits; a refusal closes the connection at once.
func TestGrantLeaseKeepsConnection(t *testing.T) {
	proof, _ := os.Open(os.Args[0])
	defer proof.Close()
	dev, _ := os.Open(os.Args[0])
	defer dev.Close()

	sock, ended := fakeGrantSocket(t, sampleReply(), dev)
	l, d, err := GrantVia(sock, proof, GrantWantDevice)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if l.Reply.Ino != 17 || l.Socket() != sock {
		t.Fatalf("lease %+v on %s", l.Reply, l.Socket())
	}
	select {
	case n := <-ended:
		t.Fatalf("the connection ended (after %d requests) while the lease was held", n)
	case <-time.After(100 * time.Millisecond):
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l.Close() // again: nothing
	select {
	case n := <-ended:
		if n != 1 {
			t.Fatalf("%d requests on the lease's connection", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the daemon side never saw the lease end")
	}

	sock, ended = fakeGrantSocket(t, GrantReply{Status: syscall.ENOENT}, nil)
	if l, _, err := GrantVia(sock, proof, 0); l != nil || !errors.Is(err, syscall.ENOENT) || !strings.Contains(err.Error(), "deleted") {
		t.Fatalf("refusal: %v %v", l, err)
	}
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("a refused grant left its connection open")
	}
}
