package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"syscall"

	famfs "github.com/famfs-go/famfs"
	"github.com/spf13/cobra"
)

func newChkreadCmd(e *env) *cobra.Command {
	var sb, lg bool
	cmd := newCommand(&cobra.Command{
		Use:   "chkread [-s|-l] <file>",
		Short: "Check that read() and mmap() of a file return the same bytes",
		Long: `Read the whole file with read() and through mmap() and compare. -s also
decodes it as a superblock, -l as a log header (for .meta/.superblock and
.meta/.log), and says whether it is valid and, if not, which field is at
fault; the exit status reports the comparison alone.`,
		Args: exactArgs(1),
	})
	cmd.Flags().BoolVarP(&sb, "superblock", "s", false, "dump the file as a superblock")
	cmd.Flags().BoolVarP(&lg, "log", "l", false, "dump the file as a log header")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if sb && lg {
			return usagef("-s and -l are mutually exclusive")
		}
		f, err := os.Open(args[0])
		if err != nil {
			return fmt.Errorf("%s: %w", args[0], unwrapPathErr(err))
		}
		defer f.Close()
		data, err := io.ReadAll(f)
		if err != nil {
			return err
		}
		if len(data) == 0 {
			return fmt.Errorf("%s: empty file", args[0])
		}
		m, err := syscall.Mmap(int(f.Fd()), 0, len(data), syscall.PROT_READ, syscall.MAP_SHARED)
		if err != nil {
			return fmt.Errorf("%s: mmap: %w", args[0], err)
		}
		defer syscall.Munmap(m)
		switch {
		case sb:
			var s famfs.Superblock
			err := s.UnmarshalBinary(data)
			if s != (famfs.Superblock{}) {
				fmt.Fprintf(e.stdout, "superblock: format %d.%d log 0x%x+0x%x uuid %s system %s reclaim %v\n", s.OMFMajor, s.OMFMinor, s.LogOffset, s.LogLen, s.UUID, s.SystemUUID, s.Reclaim)
			}
			fmt.Fprintf(e.stdout, "superblock is %s\n", validity(err))
			fmt.Fprintf(e.stdout, "first 32 bytes: % x\n", data[:min(32, len(data))])
		case lg:
			var h famfs.LogInfo
			err := h.UnmarshalBinary(data)
			if h != (famfs.LogInfo{}) {
				fmt.Fprintf(e.stdout, "log: len %d last_index %d next_index %d of %d slots\n", h.Len, h.LastIndex, h.NextIndex, h.Capacity)
			}
			fmt.Fprintf(e.stdout, "log header is %s\n", validity(err))
			fmt.Fprintf(e.stdout, "first 64 bytes: % x\n", data[:min(64, len(data))])
		}
		if !bytes.Equal(data, m) {
			return fmt.Errorf("Read and mmap miscompare")
		}
		fmt.Fprintln(e.stdout, "Read and mmap match")
		return nil
	}
	return cmd
}

// validity words a decoder's verdict.
func validity(err error) string {
	if err != nil {
		return "invalid: " + err.Error()
	}
	return "valid"
}
