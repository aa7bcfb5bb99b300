package mount

import (
	"bytes"
	"context"
	"log"
	"log/slog"
)

// fuseLogger is the logger go-fuse gets (fuse.MountOptions.Logger): its
// lines go to the mount's slog logger at Info, so the daemon log stays quiet
// at the default level (Warn) and shows them with -v. With Debug, go-fuse
// logs every request; it then keeps its own logger (standard error), which
// the debug mode is for.
func fuseLogger(lg *slog.Logger, debug bool) *log.Logger {
	if debug {
		return nil
	}
	return log.New(slogWriter{lg}, "", 0)
}

type slogWriter struct{ lg *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.lg.Log(context.Background(), slog.LevelInfo, string(bytes.TrimRight(p, "\n")), "from", "go-fuse")
	return len(p), nil
}
