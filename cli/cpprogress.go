package cli

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

// progressMin is the smallest copy that gets a progress bar.
const progressMin = 64 << 20

// cpProgress shows the bytes a copy has written so far: a bar on the
// terminal, or nothing. The zero value (and nil) shows nothing.
type cpProgress struct {
	p      *mpb.Progress
	bar    *mpb.Bar
	copied atomic.Int64
	onAdd  func(int) // tests watch the counting here
}

// newCpProgress shows a bar of total bytes when the user watches a terminal:
// stdout and stderr are both terminals and the copy is large enough to
// take a while. Otherwise (a script, a pipe, a log file) it is quiet.
func newCpProgress(e *env, total int64) *cpProgress {
	if total < progressMin || !isTerminal(e.stdout) || !isTerminal(e.stderr) {
		return nil
	}
	p := mpb.New(mpb.WithOutput(e.stderr), mpb.WithWidth(40))
	// Total 0 and then SetTotal: the bar shows total but completes only in
	// wait, after the last line printed above it (a line written after
	// completion would never be drawn).
	bar := p.AddBar(0,
		mpb.PrependDecorators(decor.Name("famfs cp "), decor.CountersKibiByte("% .1f / % .1f")),
		mpb.AppendDecorators(decor.Percentage(decor.WCSyncSpace), decor.Name(" "), decor.AverageSpeed(decor.SizeB1024(0), "% .1f")))
	bar.SetTotal(total, false)
	return &cpProgress{p: p, bar: bar}
}

// isTerminal reports whether w is a terminal a bar can be drawn on (one
// that knows its width).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false
	}
	cols, _, err := term.GetSize(int(f.Fd()))
	return err == nil && cols > 0
}

// add counts n more bytes copied.
func (c *cpProgress) add(n int) {
	if c == nil {
		return
	}
	c.copied.Add(int64(n))
	if c.bar != nil {
		c.bar.IncrBy(n)
	}
	if c.onAdd != nil {
		c.onAdd(n)
	}
}

// println prints a line to w: above the bar while one is drawn, after it
// once it is complete.
func (c *cpProgress) println(w io.Writer, line string) {
	if c != nil && c.p != nil {
		if _, err := fmt.Fprintln(c.p, line); err == nil {
			return
		}
	}
	fmt.Fprintln(w, line)
}

// wait completes the bar (at what was copied: all of it, unless something
// failed) and waits until it is drawn for the last time.
func (c *cpProgress) wait() {
	if c == nil || c.p == nil {
		return
	}
	c.bar.SetTotal(-1, true)
	c.p.Wait()
}
