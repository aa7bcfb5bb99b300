package ctlsock

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/famfs-go/famfs/mount/internal/guard"
)

// Config configures a control socket: what it reports on and acts on (the
// daemon's answers, encoded as JSON), and who may change state.
type Config struct {
	Status     func() any             // GET /status
	Replay     func() any             // POST /replay: replay now, say what happened
	Invalidate func(rel string) error // POST /invalidate: drop a file's cached pages
	Trust      guard.Trust            // who may change state (anything but GET and HEAD)
	Level      *slog.LevelVar         // the daemon's log level; nil: fixed at info
}

// Socket is one mount's control socket.
type Socket struct {
	cfg       Config
	limit     *guard.Limiter
	forbidden atomic.Uint64 // requests refused for want of trust
}

// New returns a control socket; Serve starts it.
func New(cfg Config) *Socket {
	return &Socket{cfg: cfg, limit: guard.NewConnLimiter()}
}

// Control socket limits: a connection that sends nothing is closed after
// idle; headers are small.
const (
	idle      = 10 * time.Second
	maxHeader = 8 << 10
)

// Handler returns the socket's HTTP handler, guard included.
func (s *Socket) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", s.handleStatus)
	mux.HandleFunc("GET /pid", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, os.Getpid()) })
	mux.HandleFunc("POST /replay", s.handleReplay)
	mux.HandleFunc("GET /log_level", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, s.level().String()) })
	mux.HandleFunc("POST /log_level", s.handleLogLevel)
	mux.HandleFunc("PUT /log_level", s.handleLogLevel)
	mux.HandleFunc("POST /invalidate", s.handleInvalidate)
	return guard.Middleware(mux, s.cfg.Trust, &s.forbidden)
}

// Serve answers the control socket at path until the function it returns
// is called. A stale socket file is replaced; anyone may connect (0666),
// each request checks what the caller may do.
func (s *Socket) Serve(path string) (func(), error) {
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	os.Chmod(path, 0o666)
	hs := s.server(s.Handler())
	go hs.Serve(guard.Limit(ln, s.limit))
	return func() {
		hs.Close()
		os.Remove(path)
	}, nil
}

// server is the control socket's HTTP server: timeouts so that idle or
// slow connections go away, small headers so that memory stays bounded.
func (s *Socket) server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       idle,
		WriteTimeout:      time.Minute, // a replay of a long log takes a while
		IdleTimeout:       idle,
		MaxHeaderBytes:    maxHeader,
		ConnContext:       guard.WithPeer,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
}

// Stats counts the control socket's connections.
type Stats struct {
	Open, Refused uint64 // open now; closed at once (per-uid or total cap)
	Forbidden     uint64 // state-changing requests from untrusted users
}

// Stats is what GET /status shows of the control socket's connections.
func (s *Socket) Stats() Stats {
	return Stats{Open: s.limit.Open(), Refused: s.limit.Refused(), Forbidden: s.forbidden.Load()}
}

func (s *Socket) level() slog.Level {
	if s.cfg.Level != nil {
		return s.cfg.Level.Level()
	}
	return slog.LevelInfo
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func (s *Socket) handleStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, s.cfg.Status())
}

func (s *Socket) handleReplay(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, s.cfg.Replay())
}

func (s *Socket) handleLogLevel(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 64))
	lvl, err := parseLevel(strings.TrimSpace(string(b)))
	if err != nil || s.cfg.Level == nil {
		http.Error(w, fmt.Sprintf("bad log level %q: use debug, info, warn, error or a syslog number 0..7", b), http.StatusBadRequest)
		return
	}
	s.cfg.Level.Set(lvl)
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

func (s *Socket) handleInvalidate(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Invalidate(r.URL.Query().Get("path")); err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	fmt.Fprintln(w, "ok")
}
