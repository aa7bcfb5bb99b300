package mount

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/control"
	"github.com/hanwen/go-fuse/v2/fuse"
)

type credKey struct{}

// ServeControl answers the control socket at control.SocketPath(mountpoint)
// until the mount goes away. A stale socket file is replaced.
func (s *Server) ServeControl() (func(), error) {
	path := control.SocketPath(s.opts.Mountpoint)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	// Anyone may ask; each request checks what the caller may do.
	os.Chmod(path, 0o666)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", s.handleStatus)
	mux.HandleFunc("GET /pid", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, os.Getpid()) })
	mux.HandleFunc("POST /replay", s.handleReplay)
	mux.HandleFunc("GET /log_level", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, s.level().String()) })
	mux.HandleFunc("POST /log_level", s.handleLogLevel)
	mux.HandleFunc("PUT /log_level", s.handleLogLevel)
	mux.HandleFunc("POST /invalidate", s.handleInvalidate)
	mux.HandleFunc("POST /fd", s.handleFD)
	hs := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if uc, ok := c.(*net.UnixConn); ok {
				if raw, err := uc.SyscallConn(); err == nil {
					var cred *syscall.Ucred
					raw.Control(func(fd uintptr) { cred, _ = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED) })
					if cred != nil {
						return context.WithValue(ctx, credKey{}, cred)
					}
				}
			}
			return ctx
		},
		ErrorLog: nil,
	}
	go hs.Serve(ln)
	return func() {
		hs.Close()
		os.Remove(path)
	}, nil
}

func (s *Server) level() slog.Level {
	if s.opts.Level != nil {
		return s.opts.Level.Level()
	}
	return slog.LevelInfo
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// Status assembles what GET /status returns.
func (s *Server) Status() control.Status {
	next, slots, stuck := s.fsys.LogStatus()
	sb := s.fsys.Superblock()
	st := control.Status{
		PID: os.Getpid(), Device: s.opts.Device, Mountpoint: s.opts.Mountpoint,
		HostUUID: s.fsys.HostUUID().String(), FSUUID: sb.UUID.String(), Role: s.fsys.Role().String(),
		ReadOnly: !s.fsys.DataWritable(), CacheMode: string(s.opts.Cache), Started: s.started.Format(time.RFC3339Nano),
		LogLevel: s.level().String(), ReplayNext: next, LogEntries: s.lastLog.Load(), LogCapacity: slots,
		PollInterval: s.opts.PollInterval.String(), Counters: s.statusCounters(),
	}
	st.Coherence = "off"
	if s.coherent {
		st.Coherence = "on"
	}
	if slots > 0 {
		st.LogFill = 100 * float64(st.LogEntries) / float64(slots)
	}
	if stuck != nil {
		st.ReplayStuck = stuck.Error()
	}
	st.Problems = s.fsys.NumProblems()
	if d := s.dead.Load(); d != nil {
		st.FSChanged = *d
	}
	return st
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) { writeJSON(w, s.Status()) }

func (s *Server) handleReplay(w http.ResponseWriter, r *http.Request) {
	st, err := s.Replay()
	out := control.Replay{Applied: st.Applied, Next: st.Next}
	if st.Stuck != nil {
		out.Stuck = st.Stuck.Error()
	}
	if err != nil {
		out.Error = err.Error()
	}
	writeJSON(w, out)
}

func rootCaller(r *http.Request) bool {
	c, _ := r.Context().Value(credKey{}).(*syscall.Ucred)
	return c != nil && c.Uid == 0
}

func (s *Server) handleLogLevel(w http.ResponseWriter, r *http.Request) {
	if !rootCaller(r) {
		http.Error(w, "only root may change the log level", http.StatusForbidden)
		return
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 64))
	lvl, err := parseLevel(strings.TrimSpace(string(b)))
	if err != nil || s.opts.Level == nil {
		http.Error(w, fmt.Sprintf("bad log level %q: use debug, info, warn, error or a syslog number 0..7", b), http.StatusBadRequest)
		return
	}
	s.opts.Level.Set(lvl)
	fmt.Fprintln(w, lvl.String())
}

// parseLevel accepts slog names and syslog numbers (7 debug .. 0 emerg).
func parseLevel(v string) (slog.Level, error) {
	if n, err := strconv.Atoi(v); err == nil {
		switch {
		case n >= 7:
			return slog.LevelDebug, nil
		case n >= 5:
			return slog.LevelInfo, nil
		case n == 4:
			return slog.LevelWarn, nil
		case n >= 0:
			return slog.LevelError, nil
		}
		return 0, errors.New("negative level")
	}
	var l slog.Level
	err := l.UnmarshalText([]byte(v))
	return l, err
}

func (s *Server) handleInvalidate(w http.ResponseWriter, r *http.Request) {
	if err := s.Invalidate(r.URL.Query().Get("path")); err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	fmt.Fprintln(w, "ok")
}

// handleFD passes a descriptor of the device to a caller who may read (or
// write) the named file, judged by the file's mode, owner and group (with
// this mount's chmod/chown overrides) against the caller's SO_PEERCRED
// credentials and supplementary groups.
func (s *Server) handleFD(w http.ResponseWriter, r *http.Request) {
	cred, _ := r.Context().Value(credKey{}).(*syscall.Ucred)
	rel := r.URL.Query().Get("path")
	write := r.URL.Query().Get("write") == "1"
	fail := func(code int, format string, args ...any) { http.Error(w, fmt.Sprintf(format, args...), code) }
	if cred == nil {
		fail(http.StatusForbidden, "no peer credentials")
		return
	}
	if s.dead.Load() != nil {
		fail(http.StatusServiceUnavailable, "the file system under this mount was re-made")
		return
	}
	n, err := s.fsys.Lookup(rel)
	if errors.Is(err, famfs.ErrBadPath) {
		fail(http.StatusBadRequest, "%v", err)
		return
	}
	if err != nil || n.IsDir() {
		fail(http.StatusNotFound, "%s: no such famfs file", rel)
		return
	}
	if write && !s.fsys.DataWritable() {
		fail(http.StatusForbidden, "%s: this mount is read-only for file data (a client mounts rw only with -o rw)", rel)
		return
	}
	var a fuse.Attr
	(&node{srv: s, n: n}).fill(&a)
	want := uint32(4)
	if write {
		want = 2
	}
	if !permitted(cred, a, want) {
		fail(http.StatusForbidden, "%s: permission denied for uid %d (mode %04o, owner %d:%d)", rel, cred.Uid, a.Mode&0o7777, a.Uid, a.Gid)
		return
	}
	flags := os.O_RDONLY
	if write {
		flags = os.O_RDWR
	}
	dev, err := os.OpenFile(s.opts.Device, flags|syscall.O_CLOEXEC, 0)
	if err != nil {
		fail(http.StatusInternalServerError, "%v", err)
		return
	}
	defer dev.Close()
	hj, ok := w.(http.Hijacker)
	if !ok {
		fail(http.StatusInternalServerError, "cannot pass descriptors on this connection")
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	buf.Flush()
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return
	}
	body := "ok\n"
	resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	rights := syscall.UnixRights(int(dev.Fd()))
	if _, _, err := uc.WriteMsgUnix([]byte(resp), rights, nil); err != nil {
		s.lg.Warn("passing the device descriptor", "err", err)
	}
	s.lg.Info("passed a device descriptor", "uid", cred.Uid, "pid", cred.Pid, "file", rel, "write", write)

}

// permitted applies the classic owner/group/other check (root may do all).
func permitted(c *syscall.Ucred, a fuse.Attr, want uint32) bool {
	if c.Uid == 0 {
		return true
	}
	mode := a.Mode & 0o777
	switch {
	case c.Uid == a.Uid:
		return (mode>>6)&want == want
	case c.Gid == a.Gid || inGroups(int(c.Pid), a.Gid):
		return (mode>>3)&want == want
	}
	return mode&want == want
}

// inGroups reports whether process pid has gid among its supplementary groups.
func inGroups(pid int, gid uint32) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Groups:"); ok {
			for _, g := range strings.Fields(rest) {
				if v, err := strconv.ParseUint(g, 10, 32); err == nil && uint32(v) == gid {
					return true
				}
			}
		}
	}
	return false
}
