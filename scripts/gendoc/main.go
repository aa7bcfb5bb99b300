// Command gendoc writes the famfs man pages, generated from the command
// line's own help (cobra/doc): famfs(1) and famfs-<command>(1) for every
// command, mkfs.famfs(8), mount.famfs(8) and fsck.famfs(8). scripts/install.sh
// runs it:
//
//	go run ./scripts/gendoc <dir>
//
// writes <dir>/man1 and <dir>/man8.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/famfs-go/famfs/cli"
	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gendoc <man directory>")
		os.Exit(16)
	}
	if err := gen(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}

func gen(dir string) error {
	for _, name := range cli.Names {
		section := "8" // the helpers mkfs(8), mount(8) and fsck(8) run
		if name == "famfs" {
			section = "1"
		}
		out := filepath.Join(dir, "man"+section)
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		root := cli.Commands(name)
		root.DisableAutoGenTag = true // the same pages from the same sources
		walk(root, func(c *cobra.Command) {
			c.DisableAutoGenTag = true
			// The pages go through Markdown, where <device> would be an
			// HTML tag and vanish.
			c.Use, c.Long, c.Example = escape(c.Use), escape(c.Long), escape(c.Example)
		})
		h := &doc.GenManHeader{Section: section, Source: "famfs", Manual: "famfs manual"}
		if err := doc.GenManTree(root, h, out); err != nil {
			return err
		}
	}
	return nil
}

func escape(s string) string {
	return strings.NewReplacer("<", `\<`, ">", `\>`).Replace(s)
}

func walk(c *cobra.Command, f func(*cobra.Command)) {
	f(c)
	for _, s := range c.Commands() {
		walk(s, f)
	}
}
