package control

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
)

// Client talks to one mount's control socket.
type Client struct {
	sock string
	hc   *http.Client
}

// NewClient returns a client for the mount at mountpoint.
func NewClient(mountpoint string) *Client {
	sock := SocketPath(mountpoint)
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
