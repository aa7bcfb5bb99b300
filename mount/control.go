package mount

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/famfs-go/famfs/control"
)

// ServeControl answers the control socket at control.SocketPath(mountpoint)
// and the grant socket at control.GrantSocketPath(mountpoint) until the mount
// goes away. Stale socket files are replaced.
func (s *Server) ServeControl() (func(), error) {
	stopGrants, err := s.serveGrants()
	if err != nil {
		return nil, err
	}
	path := control.SocketPath(s.opts.Mountpoint)
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		stopGrants()
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
	hs := s.controlServer(s.guard(mux))
	go hs.Serve(s.limitControl(ln))
	return func() {
		hs.Close()
		os.Remove(path)
		stopGrants()
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
		PollInterval: float64(s.opts.PollInterval) / float64(time.Millisecond), Counters: s.statusCounters(),
	}
	s.accessStatus(&st)
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
	if sb.Reclaim {
		sp := &control.SpaceStatus{Holders: []string{}, Evicted: s.fsys.Evicted()}
		if x, err := s.fsys.Space(); err == nil {
			sp.CapacityBytes, sp.InUseBytes, sp.FreeBytes, sp.WaitingBytes = x.Capacity, x.InUse, x.Free, x.Waiting
			for _, h := range x.Holders {
				sp.Holders = append(sp.Holders, h.String())
			}
		}
		st.Space = sp
	}
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

func (s *Server) handleLogLevel(w http.ResponseWriter, r *http.Request) {
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
