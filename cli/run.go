package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// PreloadLibrary is the file name of the zero-copy preload library.
const PreloadLibrary = "libfamfs-preload.so"

// Exit codes of `famfs run` before the command starts (as env(1) has them);
// once it runs, the exit code is the command's own.
const (
	exitRunCannotExec = 126
	exitRunNotFound   = 127
)

func newRunCmd(e *env) *cobra.Command {
	var debug bool
	cmd := &cobra.Command{
		Use:   "run [-d] -- <command> [args...]",
		Short: "Run a program with zero-copy access to famfs files (LD_PRELOAD)",
		Long: `Run an unmodified, dynamically linked program with the famfs preload library
(` + PreloadLibrary + `), found beside the famfs executable or in ../lib/ from it.
The library serves mmap, read and write of files on famfs mounts straight
from the shared memory when the mount's daemon grants it (the caller must be
trusted with the device); everything else goes through the mount as usual.
LD_PRELOAD keeps the library in the program's children. Statically linked
programs and Go programs are out of its reach (Go programs use the famfs
library's Map).

  -d  print on stderr why a file is not served directly, and counters at exit
      (FAMFS_PRELOAD_DEBUG=1)

Exit codes: the command's own; before it starts: 1 library missing,
126 command not executable, 127 command not found, 16 usage.`,
		Args:          minArgs(1),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.Flags().SetInterspersed(false) // flags after <command> are the command's
	cmd.Flags().BoolVarP(&debug, "debug", "d", false, "explain on stderr what is not served directly")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		lib, err := findPreload()
		if err != nil {
			return err
		}
		path, err := exec.LookPath(args[0])
		if err != nil {
			code := exitRunNotFound
			if errors.Is(err, os.ErrPermission) {
				code = exitRunCannotExec
			}
			return exitErr(code, "%s: %v", args[0], err)
		}
		env := preloadEnv(os.Environ(), lib, debug)
		err = syscall.Exec(path, args, env)
		code := exitRunCannotExec
		if errors.Is(err, syscall.ENOENT) {
			code = exitRunNotFound
		}
		return exitErr(code, "%s: %v", path, err)
	}
	return cmd
}

// findPreload looks for the library beside the running executable, then in
// ../lib/ from it (an installed layout: bin/famfs, lib/libfamfs-preload.so).
func findPreload() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find the famfs executable to look for %s beside it: %w", PreloadLibrary, err)
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	dir := filepath.Dir(exe)
	tried := []string{filepath.Join(dir, PreloadLibrary), filepath.Join(dir, "..", "lib", PreloadLibrary)}
	for _, p := range tried {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			p = filepath.Clean(p)
			if strings.ContainsAny(p, " :\t\n") {
				return "", fmt.Errorf("%s: LD_PRELOAD cannot name a path with a space or a colon; move the library", p)
			}
			return p, nil
		}
	}
	return "", fmt.Errorf("the preload library is missing: looked for %s (build it with make)", strings.Join(tried, " and "))
}

// preloadEnv returns env with lib first in LD_PRELOAD (kept once) and, if
// debug, FAMFS_PRELOAD_DEBUG=1.
func preloadEnv(env []string, lib string, debug bool) []string {
	out := make([]string, 0, len(env)+2)
	pre := lib
	for _, kv := range env {
		switch {
		case strings.HasPrefix(kv, "LD_PRELOAD="):
			for _, p := range strings.FieldsFunc(kv[len("LD_PRELOAD="):], func(r rune) bool { return r == ':' || r == ' ' }) {
				if p != lib {
					pre += ":" + p
				}
			}
		case debug && strings.HasPrefix(kv, "FAMFS_PRELOAD_DEBUG="):
		default:
			out = append(out, kv)
		}
	}
	out = append(out, "LD_PRELOAD="+pre)
	if debug {
		out = append(out, "FAMFS_PRELOAD_DEBUG=1")
	}
	return out
}
