package mount

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/famfs-go/famfs/internal/control"
)

// Client talks to the daemon of one mount through its control socket
// (docs/protocol.md): any process may ask for its status; replay and
// invalidation are for root and users trusted with the device.
type Client struct {
	sock string
	hc   *http.Client
}

// NewClient returns a client for the mount at mountpoint (an absolute, clean
// path). It connects on each request.
func NewClient(mountpoint string) *Client {
	sock := control.SocketPath(mountpoint)
	return &Client{sock: sock, hc: &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}},
	}}
}

func (c *Client) do(method, path string, body io.Reader, out any) error {
	req, err := http.NewRequest(method, "http://famfs"+path, body)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("control socket %s: %w", c.sock, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("control socket %s: %s: %s", c.sock, resp.Status, strings.TrimSpace(string(b)))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// Status returns the daemon's status.
func (c *Client) Status() (Status, error) {
	var s Status
	return s, c.do("GET", "/status", nil, &s)
}

// Replay makes the daemon replay new log entries now.
func (c *Client) Replay() (Replay, error) {
	var r Replay
	return r, c.do("POST", "/replay", nil, &r)
}

// Invalidate drops the kernel's cached pages of the file at rel (relative
// to the mount root).
func (c *Client) Invalidate(rel string) error {
	return c.do("POST", "/invalidate?path="+url.QueryEscape(rel), nil, nil)
}

// LogPath returns the log file of the daemon of the mount at mountpoint, when
// famfs mount started it in the background; a clean unmount removes it.
func LogPath(mountpoint string) string { return control.LogPath(mountpoint) }

// RemoveSockets removes the control and grant sockets a daemon of the mount
// at mountpoint left behind when it died without cleaning up.
func RemoveSockets(mountpoint string) { control.RemoveSockets(mountpoint) }
