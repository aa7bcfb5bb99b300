// Package cli owns the famfs command line: `mkfs.famfs` and `famfs <command>`,
// with the reference's command names and flags. Each command lives in its own
// file and is a thin user of the famfs library.
//
// The binary picks its personality from argv[0]: `mkfs.famfs` runs mkfs,
// `mount.famfs` runs the mount helper, anything else is `famfs`.
//
// Exit codes are a contract, written down once in exitcodes.go (constants and
// the text each command's help shows) and in the README's table.
//
// `-h`/`--help` is help everywhere (the reference's `fsck -h` for
// human-readable sizes is `fsck --human`); `-?` is accepted as help too.
package cli
