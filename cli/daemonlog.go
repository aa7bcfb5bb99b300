package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// maxDaemonLog caps a mount's daemon log; past it the log rotates once (the
// old part is kept as <log>.1), so a daemon never holds more than twice this.
const maxDaemonLog = 4 << 20

// daemonLog is the log of a daemon famfs mount spawned: the file its
// standard output and error were opened on (so the Go runtime's own crash
// report lands there too), which it writes through descriptor 2. Past max
// bytes, the file is renamed <path>.1 (replacing an older one) and a new one
// takes its place, on descriptors 1 and 2 as well.
type daemonLog struct {
	mu   sync.Mutex
	path string
	out  *os.File // written to: descriptor 2
	fds  []int    // moved to the new file on rotation: 1 and 2
	size int64
	max  int64
}

// openDaemonLog takes over the log at path, which must be what descriptor 2
// already is (a daemon started by hand keeps its standard error as is).
func openDaemonLog(path string, max int64) (*daemonLog, error) {
	return newDaemonLog(path, os.Stderr, []int{1, 2}, max)
}

func newDaemonLog(path string, out *os.File, fds []int, max int64) (*daemonLog, error) {
	var fd, file unix.Stat_t
	if err := unix.Fstat(int(out.Fd()), &fd); err != nil {
		return nil, err
	}
	if err := unix.Stat(path, &file); err != nil {
		return nil, err
	}
	if fd.Dev != file.Dev || fd.Ino != file.Ino {
		return nil, fmt.Errorf("descriptor %d is not %s", out.Fd(), path)
	}
	return &daemonLog{path: path, out: out, fds: fds, size: fd.Size, max: max}, nil
}

func (l *daemonLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.size > 0 && l.size+int64(len(p)) > l.max {
		l.rotate()
	}
	n, err := l.out.Write(p)
	l.size += int64(n)
	return n, err
}

// rotate moves the full log aside and continues in a fresh file. If the new
// file cannot be made, writing goes on in the old one (renamed or not).
func (l *daemonLog) rotate() {
	if err := os.Rename(l.path, l.path+".1"); err != nil {
		return
	}
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	for _, fd := range l.fds {
		unix.Dup3(int(f.Fd()), fd, 0)
	}
	l.size = 0
}

// remove deletes the log and its rotated part: the daemon unmounted cleanly.
func (l *daemonLog) remove() {
	if l == nil {
		return
	}
	os.Remove(l.path)
	os.Remove(l.path + ".1")
}

// tailLines returns the last n lines of the file at path (nil when there is
// none), reading at most the last 64 KiB.
func tailLines(path string, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	const window = 64 << 10
	partial := false
	if st, err := f.Stat(); err == nil && st.Size() > window {
		f.Seek(st.Size()-window, io.SeekStart)
		partial = true
	}
	b, _ := io.ReadAll(f)
	if i := bytes.IndexByte(b, '\n'); partial && i >= 0 {
		b = b[i+1:] // the window starts inside a line
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, window), window)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines[max(0, len(lines)-n):]
}
