package ctlsock

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/famfs-go/famfs/mount/internal/guard"
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

// backend answers for a fake mount.
type backend struct {
	replays     int
	invalidated []string
}

// replayed is the fake's answer to a replay.
type replayed struct {
	Applied uint64 `json:"applied"`
	Error   string `json:"error,omitempty"`
}

func (b *backend) config() Config {
	return Config{
		Status: func() any { return map[string]any{"pid": 42, "device": "dev"} },
		Replay: func() any {
			b.replays++
			if b.replays > 1 {
				return replayed{Error: "stuck"}
			}
			return replayed{Applied: 3}
		},
		Invalidate: b.invalidate,
	}
}

func (b *backend) invalidate(rel string) error {
	if rel == "missing" {
		return fs.ErrNotExist
	}
	b.invalidated = append(b.invalidated, rel)
	return nil
}

// The control socket over a Unix socket, as the CLI uses it (this test runs
// as whoever runs it; root and the device's owner are trusted).
func TestServe(t *testing.T) {
	dir := t.TempDir()
	dev := filepath.Join(dir, "dev")
	os.WriteFile(dev, nil, 0o600)
	path := filepath.Join(dir, "ctl.sock")
	level := new(slog.LevelVar)
	b := &backend{}
	cfg := b.config()
	cfg.Trust, cfg.Level = guard.Trust{Device: dev}, level
	s := New(cfg)
	stop, err := s.Serve(path)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", path)
	}}}
	do := func(method, url, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://famfs"+url, strings.NewReader(body))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := do("GET", "/status", ""); code != 200 || !strings.Contains(body, `"pid": 42`) {
		t.Errorf("status: %d %s", code, body)
	}
	if code, body := do("GET", "/pid", ""); code != 200 || strings.TrimSpace(body) != strconv.Itoa(os.Getpid()) {
		t.Errorf("pid: %d %s", code, body)
	}
	var r replayed
	code, body := do("POST", "/replay", "")
	if json.Unmarshal([]byte(body), &r); code != 200 || b.replays != 1 || r.Applied != 3 || r.Error != "" {
		t.Errorf("replay: %d %s", code, body)
	}
	code, body = do("POST", "/replay", "")
	if r = (replayed{}); json.Unmarshal([]byte(body), &r) != nil || code != 200 || r.Error != "stuck" {
		t.Errorf("failed replay: %d %s", code, body)
	}
	if code, body := do("GET", "/log_level", ""); code != 200 || strings.TrimSpace(body) != "INFO" {
		t.Errorf("log level: %d %s", code, body)
	}
	if code, body := do("PUT", "/log_level", "7"); code != 200 || strings.TrimSpace(body) != "DEBUG" || level.Level() != slog.LevelDebug {
		t.Errorf("set log level: %d %s", code, body)
	}
	if code, _ := do("POST", "/log_level", "loud"); code != 400 || level.Level() != slog.LevelDebug {
		t.Errorf("bad log level: %d", code)
	}
	if code, body := do("POST", "/invalidate?path=a/b", ""); code != 200 || strings.TrimSpace(body) != "ok" || len(b.invalidated) != 1 || b.invalidated[0] != "a/b" {
		t.Errorf("invalidate: %d %s %v", code, body, b.invalidated)
	}
	if code, _ := do("POST", "/invalidate?path=missing", ""); code != 404 {
		t.Errorf("invalidate missing: %d", code)
	}
	if code, _ := do("GET", "/nothing", ""); code != 404 {
		t.Errorf("unknown path: %d", code)
	}
	st := s.Stats()
	if st.Open == 0 || st.Refused != 0 || st.Forbidden != 0 {
		t.Errorf("stats %+v", st)
	}
	stop()
	if _, err := os.Stat(path); err == nil {
		t.Error("the socket is left behind")
	}
}

// Without a peer (or a trusted one) only GET and HEAD pass; without a log
// level variable the level is fixed.
func TestHandlerGuard(t *testing.T) {
	cfg := (&backend{}).config()
	cfg.Trust = guard.Trust{Device: filepath.Join(t.TempDir(), "dev")}
	s := New(cfg)
	h := s.Handler()
	for _, c := range []struct {
		method, url string
		code        int
	}{{"GET", "/log_level", 200}, {"POST", "/replay", 403}, {"PUT", "/log_level", 403}, {"POST", "/invalidate?path=x", 403}} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(c.method, c.url, strings.NewReader("debug")))
		if w.Code != c.code {
			t.Errorf("%s %s: %d, want %d", c.method, c.url, w.Code, c.code)
		}
		if c.method == "GET" && strings.TrimSpace(w.Body.String()) != "INFO" {
			t.Errorf("fixed level %q", w.Body)
		}
	}
	if st := s.Stats(); st.Forbidden != 3 {
		t.Errorf("%+v", st)
	}
	// A trusted caller still cannot set a level that has no variable.
	w := httptest.NewRecorder()
	s.handleLogLevel(w, httptest.NewRequest("PUT", "/log_level", strings.NewReader("debug")))
	if w.Code != 400 {
		t.Errorf("set without a variable: %d", w.Code)
	}
}
