package control

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
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

// DeviceFD asks the daemon for a descriptor of its device, for reading (and
// writing, with write) the file at rel. The daemon checks the file's mode,
// owner and group against this process's credentials first. The descriptor
// gives access to the whole device: it is a policy gate, not isolation.
func (c *Client) DeviceFD(rel string, write bool) (*os.File, error) {
	conn, err := net.DialTimeout("unix", c.sock, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", c.sock, err)
	}
	defer conn.Close()
	uc := conn.(*net.UnixConn)
	w := "0"
	if write {
		w = "1"
	}
	req := fmt.Sprintf("POST /fd?path=%s&write=%s HTTP/1.1\r\nHost: famfs\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", url.QueryEscape(rel), w)
	if _, err := uc.Write([]byte(req)); err != nil {
		return nil, err
	}
	uc.SetReadDeadline(time.Now().Add(10 * time.Second))
	// The descriptor arrives with the first byte of the response.
	buf := make([]byte, 4096)
	oob := make([]byte, syscall.CmsgSpace(4))
	n, oobn, _, _, err := uc.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, err
	}
	var fd = -1
	if msgs, err := syscall.ParseSocketControlMessage(oob[:oobn]); err == nil {
		for _, m := range msgs {
			if fds, err := syscall.ParseUnixRights(&m); err == nil && len(fds) > 0 {
				fd = fds[0]
				for _, extra := range fds[1:] {
					syscall.Close(extra)
				}
			}
		}
	}
	rest, _ := io.ReadAll(uc)
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(buf[:n])+string(rest))), nil)
	if err != nil {
		if fd >= 0 {
			syscall.Close(fd)
		}
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || fd < 0 {
		if fd >= 0 {
			syscall.Close(fd)
		}
		return nil, fmt.Errorf("%s", strings.TrimSpace(string(body)))
	}
	return os.NewFile(uintptr(fd), "famfs-device"), nil
}
