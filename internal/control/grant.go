package control

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/famfs-go/famfs/internal/omf"
	"github.com/google/uuid"
	"golang.org/x/sys/unix"
)

// The zero-copy grant protocol (v2). A program that opened a famfs file
// through a mount passes that descriptor (SCM_RIGHTS) to the mount's daemon
// over a SOCK_SEQPACKET socket; the daemon answers with the file's map and,
// for callers already trusted with the device, a descriptor of the device.
// The C preload library speaks the same protocol (docs/protocol.md, "Grant
// protocol", describes it); the layout is fixed:
//
//	request (16 bytes + exactly one descriptor):
//	  u32 magic, u16 version, u16 op (GrantOp), u32 flags (GrantWantDevice), u32 reserved (0)
//	reply (64 bytes + nseg*24, + the device descriptor when granted with one):
//	  u32 magic, u16 version, u16 status (0 or an errno), u32 flags, u32 nseg,
//	  u64 file_size, u64 alloc_unit, u64 dev_align, u64 ino, [16]byte fs_uuid,
//	  nseg * {u64 file_off, u64 dev_off, u64 len}
//
// All integers are little-endian.
//
// Leases (version 2; the bytes are those of version 1). Every successful
// grant, with a device descriptor or map only, is a lease: the daemon holds
// the file (docs/delete.md, "Holds": a deleted file's space is not given to
// another file while it is held) until the connection the grant was made on
// closes. A client keeps the connection open for as long as it uses the map
// or the descriptor, and closes it when done; the kernel closes it when the
// client dies (kill -9 included) or execs (clients open it close-on-exec).
// The client never needs to send anything more: the daemon sits in a read of
// the connection and ends the lease at end of file.
//
//   - Before its first grant a connection is closed after GrantIdleTimeout
//     without a request (as in version 1); a connection that holds a lease
//     never times out.
//   - A connection may carry further requests, one at a time; each granted
//     one is one more lease, and all of them end when the connection closes.
//     A refusal changes nothing.
//   - Refusals new in version 2: ENOENT (the file was deleted), EIO also
//     when the daemon was evicted from the participant table, EDQUOT (the
//     user holds MaxLeasesPerUID leases of this mount already).
//   - Pending connections (no lease yet) count against the per-user cap of
//     64 connections; a connection holding leases counts against the lease
//     cap instead (MaxLeasesPerUID leases per user, root exempt), so a
//     program may map thousands of files.
//
// A version-1 client closes the connection as soon as it has its reply,
// which would end the lease while it still maps the file; the daemon
// refuses version-1 requests (EINVAL), and such a client reads through the
// mount.
const (
	GrantMagic   = 0x5a434d46 // "FMCZ" in memory order
	GrantVersion = 2          // 2: a grant is a lease held until its connection closes
	GrantOp      = 1

	GrantRequestSize = 16
	GrantHeaderSize  = 64
	GrantSegmentSize = 24

	// GrantWantDevice (request flags): attach a device descriptor if the
	// caller is trusted with the device; without it only the map comes back.
	GrantWantDevice = 1 << 0

	// Reply flags.
	GrantWritable    = 1 << 0 // the device descriptor is O_RDWR
	GrantNonCoherent = 1 << 1 // flush after storing, invalidate before loading
	GrantDevDax      = 1 << 2 // a devdax char device: map at dev_align

	// MaxGrantSegments bounds a reply (96 MiB of segments); a file with
	// more answers E2BIG and is served by the mount.
	MaxGrantSegments = 1 << 22

	// GrantIdleTimeout: the daemon closes a grant connection that holds no
	// lease and sends no request for this long.
	GrantIdleTimeout = 10 * time.Second

	// MaxLeasesPerUID is how many leases one unprivileged user may hold on
	// one mount (root: no cap); MaxLeasesNonRoot all unprivileged users
	// together. Past them a grant answers EDQUOT.
	MaxLeasesPerUID  = 4096
	MaxLeasesNonRoot = 32768
)

// GrantSocketPath returns the grant socket of the mount at mountpoint: the
// control socket with ".sock" replaced by ".grant".
func GrantSocketPath(mountpoint string) string {
	return strings.TrimSuffix(SocketPath(mountpoint), ".sock") + ".grant"
}

// GrantLinkPath is the name by which a program finds the grant socket of the
// famfs mount whose files have device number dev (st_dev): a symbolic link,
// /run/famfs/dev-MAJOR-MINOR.grant, to GrantSocketPath. Only a famfs daemon
// (root) makes one, so a file on a FUSE mount is a famfs file when the link
// of its st_dev exists; the daemon checks the descriptor itself anyway.
// (An extended attribute could say the same, but FUSE caches no "no such
// attribute": every `ls -l` would then ask the daemon per file.)
func GrantLinkPath(dev uint64) string {
	return fmt.Sprintf("%s/dev-%d-%d.grant", filepath.Dir(SocketPath("/")), unix.Major(dev), unix.Minor(dev))
}

// RemoveSockets removes what a mount's daemon leaves in /run/famfs when it
// cannot clean up itself (killed with SIGKILL): the control socket, the grant
// socket and the links that name the grant socket.
func RemoveSockets(mountpoint string) {
	os.Remove(SocketPath(mountpoint))
	sock := GrantSocketPath(mountpoint)
	os.Remove(sock)
	links, _ := filepath.Glob(filepath.Join(filepath.Dir(sock), "dev-*.grant"))
	for _, l := range links {
		if t, err := os.Readlink(l); err == nil && t == sock {
			os.Remove(l)
		}
	}
}

// GrantRequest is a decoded request.
type GrantRequest struct {
	Flags uint32
}

// Encode returns the 16-byte request.
func (r GrantRequest) Encode() []byte {
	b := make([]byte, GrantRequestSize)
	binary.LittleEndian.PutUint32(b[0:], GrantMagic)
	binary.LittleEndian.PutUint16(b[4:], GrantVersion)
	binary.LittleEndian.PutUint16(b[6:], GrantOp)
	binary.LittleEndian.PutUint32(b[8:], r.Flags)
	return b
}

// ErrGrantMalformed is wrapped by the decoders' errors.
var ErrGrantMalformed = errors.New("malformed grant message")

// DecodeGrantRequest checks and decodes a request message.
func DecodeGrantRequest(b []byte) (GrantRequest, error) {
	if len(b) != GrantRequestSize {
		return GrantRequest{}, fmt.Errorf("%w: request of %d bytes, want %d", ErrGrantMalformed, len(b), GrantRequestSize)
	}
	if m := binary.LittleEndian.Uint32(b[0:]); m != GrantMagic {
		return GrantRequest{}, fmt.Errorf("%w: magic %#x", ErrGrantMalformed, m)
	}
	if v := binary.LittleEndian.Uint16(b[4:]); v != GrantVersion {
		return GrantRequest{}, fmt.Errorf("%w: version %d, this daemon speaks %d (grants are leases held by the connection)", ErrGrantMalformed, v, GrantVersion)
	}
	if op := binary.LittleEndian.Uint16(b[6:]); op != GrantOp {
		return GrantRequest{}, fmt.Errorf("%w: unknown op %d", ErrGrantMalformed, op)
	}
	r := GrantRequest{Flags: binary.LittleEndian.Uint32(b[8:])}
	if r.Flags&^GrantWantDevice != 0 {
		return GrantRequest{}, fmt.Errorf("%w: unknown flags %#x", ErrGrantMalformed, r.Flags)
	}
	if rs := binary.LittleEndian.Uint32(b[12:]); rs != 0 {
		return GrantRequest{}, fmt.Errorf("%w: reserved field %#x", ErrGrantMalformed, rs)
	}
	return r, nil
}

// Segment is one run of a grant reply: file bytes contiguous on the device
// (the format's own segment, docs/format.md).
type Segment = omf.Segment

// GrantReply is a decoded reply.
type GrantReply struct {
	Status    syscall.Errno // 0: granted
	Flags     uint32        // GrantWritable, GrantNonCoherent, GrantDevDax
	FileSize  uint64
	AllocUnit uint64
	DevAlign  uint64
	Ino       uint64
	FSUUID    uuid.UUID
	Segments  []Segment // file order, covering [0, FileSize rounded up to AllocUnit)
}

// Writable reports whether the device descriptor is writable.
func (r GrantReply) Writable() bool { return r.Flags&GrantWritable != 0 }

// Encode returns the reply message (an error reply carries no segments).
func (r GrantReply) Encode() []byte {
	segs := r.Segments
	if r.Status != 0 {
		segs = nil
	}
	b := make([]byte, GrantHeaderSize+GrantSegmentSize*len(segs))
	le := binary.LittleEndian
	le.PutUint32(b[0:], GrantMagic)
	le.PutUint16(b[4:], GrantVersion)
	le.PutUint16(b[6:], uint16(r.Status))
	le.PutUint32(b[8:], r.Flags)
	le.PutUint32(b[12:], uint32(len(segs)))
	le.PutUint64(b[16:], r.FileSize)
	le.PutUint64(b[24:], r.AllocUnit)
	le.PutUint64(b[32:], r.DevAlign)
	le.PutUint64(b[40:], r.Ino)
	copy(b[48:64], r.FSUUID[:])
	for i, s := range segs {
		o := GrantHeaderSize + GrantSegmentSize*i
		le.PutUint64(b[o:], s.FileOff)
		le.PutUint64(b[o+8:], s.DevOff)
		le.PutUint64(b[o+16:], s.Len)
	}
	return b
}

// DecodeGrantReply checks and decodes a reply message. Besides the layout it
// checks what a client relies on: segments in file order, contiguous from 0,
// each non-empty and not wrapping, covering at least the file size; none on
// an error reply.
func DecodeGrantReply(b []byte) (GrantReply, error) {
	le := binary.LittleEndian
	bad := func(format string, args ...any) (GrantReply, error) {
		return GrantReply{}, fmt.Errorf("%w: %s", ErrGrantMalformed, fmt.Sprintf(format, args...))
	}
	if len(b) < GrantHeaderSize {
		return bad("reply of %d bytes, shorter than the %d-byte header", len(b), GrantHeaderSize)
	}
	if m := le.Uint32(b[0:]); m != GrantMagic {
		return bad("magic %#x", m)
	}
	if v := le.Uint16(b[4:]); v != GrantVersion {
		return bad("version %d", v)
	}
	r := GrantReply{
		Status: syscall.Errno(le.Uint16(b[6:])), Flags: le.Uint32(b[8:]),
		FileSize: le.Uint64(b[16:]), AllocUnit: le.Uint64(b[24:]), DevAlign: le.Uint64(b[32:]), Ino: le.Uint64(b[40:]),
	}
	copy(r.FSUUID[:], b[48:64])
	n := le.Uint32(b[12:])
	if uint64(len(b)) != GrantHeaderSize+GrantSegmentSize*uint64(n) {
		return bad("%d segments announced in %d bytes", n, len(b))
	}
	if r.Status != 0 {
		if n != 0 {
			return bad("error reply (%v) with %d segments", r.Status, n)
		}
		return r, nil
	}
	if r.Flags&^(GrantWritable|GrantNonCoherent|GrantDevDax) != 0 {
		return bad("unknown flags %#x", r.Flags)
	}
	if r.AllocUnit == 0 || r.AllocUnit&(r.AllocUnit-1) != 0 {
		return bad("allocation unit %d", r.AllocUnit)
	}
	if r.DevAlign == 0 || r.DevAlign&(r.DevAlign-1) != 0 {
		return bad("device alignment %d", r.DevAlign)
	}
	r.Segments = make([]Segment, n)
	var next uint64
	for i := range r.Segments {
		o := GrantHeaderSize + GrantSegmentSize*i
		s := Segment{FileOff: le.Uint64(b[o:]), DevOff: le.Uint64(b[o+8:]), Len: le.Uint64(b[o+16:])}
		if s.FileOff != next || s.Len == 0 || s.FileOff+s.Len < s.FileOff || s.DevOff+s.Len < s.DevOff {
			return bad("segment %d {file %#x dev %#x len %#x} does not follow file offset %#x", i, s.FileOff, s.DevOff, s.Len, next)
		}
		next = s.FileOff + s.Len
		r.Segments[i] = s
	}
	if next < r.FileSize {
		return bad("segments cover %d bytes of a %d-byte file", next, r.FileSize)
	}
	return r, nil
}

// GrantError is a daemon's refusal.
type GrantError struct {
	Socket string
	Status syscall.Errno
}

func (e *GrantError) Error() string {
	why := ""
	switch e.Status {
	case syscall.EACCES:
		why = ": not trusted with the device (use the mount), or a write-only descriptor"
	case syscall.EBADF:
		why = ": not a file of this mount"
	case syscall.EIO:
		why = ": the file system under the mount was re-made, or the daemon was evicted from the participant table"
	case syscall.ENOENT:
		why = ": the file was deleted"
	case syscall.EDQUOT:
		why = fmt.Sprintf(": this user holds %d leases of the mount already (close some files)", MaxLeasesPerUID)
	case syscall.EINVAL:
		why = " (malformed request)"
	case syscall.E2BIG:
		why = ": the file has too many segments for one reply"
	}
	return fmt.Sprintf("grant socket %s: refused: %v%s", e.Socket, e.Status, why)
}

// Unwrap lets errors.Is(err, syscall.EACCES) and friends work.
func (e *GrantError) Unwrap() error { return e.Status }

// GrantSocket returns the grant socket of the famfs mount f (a descriptor of
// a file on it) is on, or an error wrapping syscall.ENODATA if f is not a
// file of a famfs mount.
func GrantSocket(f *os.File) (string, error) {
	var st unix.Stat_t
	if err := ctrlErr(f, func(fd int) error { return unix.Fstat(fd, &st) }); err != nil {
		return "", err
	}
	link := GrantLinkPath(st.Dev)
	if _, err := os.Stat(link); err != nil {
		return "", fmt.Errorf("%s: no grant socket %s (not a file on a famfs mount): %w", f.Name(), link, syscall.ENODATA)
	}
	return link, nil
}

func ctrlErr(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// Lease is a grant in force: the daemon of the mount holds the file for the
// caller (a deleted file's space is not reused while it is held) until Close.
// Keep it open for as long as the map or the device descriptor is used for
// this file; the connection it keeps is close-on-exec, and ends when the
// process dies. Dropping a Lease without Close ends it when the garbage
// collector finalises the connection.
type Lease struct {
	Reply GrantReply // what the daemon granted
	sock  string
	conn  *net.UnixConn
}

// Socket is the grant socket the lease was made on.
func (l *Lease) Socket() string { return l.sock }

// Close ends the lease. It does not close the device descriptor that came
// with the grant. It is safe to call more than once.
func (l *Lease) Close() error {
	if l == nil || l.conn == nil {
		return nil
	}
	c := l.conn
	l.conn = nil
	return c.Close()
}

// Grant asks the daemon of the famfs mount that f (a file opened through the
// mount) lives on for the file's map and a descriptor of the device, opened
// with f's access mode. The daemon hands the device only to callers already
// trusted with it; others get a *GrantError wrapping syscall.EACCES and use
// the mount. The returned descriptor, if any, is the caller's to close, and
// so is the lease (Close it when done with the file; see Lease).
func Grant(f *os.File) (*Lease, *os.File, error) {
	return GrantWith(f, GrantWantDevice)
}

// GrantWith is Grant with explicit request flags: 0 asks for the map only
// (still a lease).
func GrantWith(f *os.File, flags uint32) (*Lease, *os.File, error) {
	sock, err := GrantSocket(f)
	if err != nil {
		return nil, nil, err
	}
	return GrantVia(sock, f, flags)
}

// GrantVia sends the grant request for f to the grant socket at sock. On
// success the connection stays open as the returned lease.
func GrantVia(sock string, f *os.File, flags uint32) (*Lease, *os.File, error) {
	conn, err := net.DialTimeout("unixpacket", sock, 10*time.Second)
	if err != nil {
		return nil, nil, fmt.Errorf("grant socket %s: %w", sock, err)
	}
	uc := conn.(*net.UnixConn)
	uc.SetDeadline(time.Now().Add(30 * time.Second))
	r, dev, err := grantOn(uc, f, flags)
	if err != nil {
		conn.Close()
		var ge *GrantError
		if errors.As(err, &ge) {
			ge.Socket = sock
		} else {
			err = fmt.Errorf("grant socket %s: %w", sock, err)
		}
		return nil, nil, err
	}
	uc.SetDeadline(time.Time{})
	return &Lease{Reply: r, sock: sock, conn: uc}, dev, nil
}

// grantOn sends one request on a connected grant socket and reads the reply.
func grantOn(uc *net.UnixConn, f *os.File, flags uint32) (GrantReply, *os.File, error) {
	var werr error
	err := ctrlErr(f, func(fd int) error {
		_, _, werr = uc.WriteMsgUnix(GrantRequest{Flags: flags}.Encode(), syscall.UnixRights(fd), nil)
		return nil
	})
	if err == nil {
		err = werr
	}
	if err != nil {
		return GrantReply{}, nil, err
	}
	// Learn the reply's length first (a file of many segments can exceed
	// any fixed buffer), then take it with its descriptor.
	raw, err := uc.SyscallConn()
	if err != nil {
		return GrantReply{}, nil, err
	}
	var size int
	var perr error
	err = raw.Read(func(fd uintptr) bool {
		size, _, perr = unix.Recvfrom(int(fd), nil, unix.MSG_PEEK|unix.MSG_TRUNC)
		return perr != unix.EAGAIN
	})
	if err == nil {
		err = perr
	}
	if err != nil {
		return GrantReply{}, nil, err
	}
	if size == 0 {
		return GrantReply{}, nil, errors.New("the daemon closed the connection")
	}
	buf := make([]byte, size)
	oob := make([]byte, syscall.CmsgSpace(4*4))
	n, oobn, mflags, _, err := uc.ReadMsgUnix(buf, oob)
	if err != nil {
		return GrantReply{}, nil, err
	}
	var fds []int
	if msgs, err := syscall.ParseSocketControlMessage(oob[:oobn]); err == nil {
		for _, m := range msgs {
			if got, err := syscall.ParseUnixRights(&m); err == nil {
				fds = append(fds, got...)
			}
		}
	}
	closeAll := func() {
		for _, fd := range fds {
			syscall.Close(fd)
		}
	}
	if mflags&(syscall.MSG_TRUNC|syscall.MSG_CTRUNC) != 0 {
		closeAll()
		return GrantReply{}, nil, fmt.Errorf("%w: reply truncated", ErrGrantMalformed)
	}
	r, err := DecodeGrantReply(buf[:n])
	if err != nil {
		closeAll()
		return GrantReply{}, nil, err
	}
	if r.Status != 0 {
		closeAll()
		return r, nil, &GrantError{Status: r.Status}
	}
	want := 0
	if flags&GrantWantDevice != 0 {
		want = 1
	}
	if len(fds) != want {
		closeAll()
		return GrantReply{}, nil, fmt.Errorf("%w: %d descriptors with a grant, want %d", ErrGrantMalformed, len(fds), want)
	}
	if want == 0 {
		return r, nil, nil
	}
	return r, os.NewFile(uintptr(fds[0]), "famfs-device"), nil
}
